"""Where a service finds Kafka and PostgreSQL: read once from the environment, frozen.

Defaults point at the local stack (`puhui stack up`), so a newcomer sets nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from puhui.stack.config import DEFAULT_METRICS_PORT, EXTRA_INSTANCES_AFTER, StackConfig

SERVICE_NAMES = ("enrolment", "disbursement", "audit", "relay")


def metrics_ports(first: int = DEFAULT_METRICS_PORT) -> dict[str, int]:
    """Each service's `/metrics` port in the block that starts at `first`
    (`PUHUI_METRICS_PORT`), in the order of `SERVICE_NAMES`."""
    return {name: first + n for n, name in enumerate(SERVICE_NAMES)}


def instance_port(first: int, instance: int) -> int:
    """The `/metrics` port of disbursement's `instance`-th extra instance (1, 2, ...)."""
    return first + EXTRA_INSTANCES_AFTER + instance


METRICS_PORTS: dict[str, int] = metrics_ports()
"""Each service's default `/metrics` port (9101-9104; docker-compose's)."""


@dataclass(frozen=True)
class Connections:
    kafka_bootstrap: str
    database_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Connections:
        """`PUHUI_KAFKA_BOOTSTRAP` and `PUHUI_DATABASE_URL`, else the local stack's."""
        env = os.environ if env is None else env
        stack = StackConfig.from_env(env)
        return cls(
            kafka_bootstrap=env.get("PUHUI_KAFKA_BOOTSTRAP") or stack.bootstrap_servers,
            database_url=env.get("PUHUI_DATABASE_URL") or stack.database_url,
        )
