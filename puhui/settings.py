"""Where a service finds Kafka and PostgreSQL: read once from the environment, frozen.

Defaults point at the local stack (`puhui stack up`), so a newcomer sets nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from puhui.stack.config import StackConfig

METRICS_PORTS: dict[str, int] = {"enrolment": 9101, "disbursement": 9102, "audit": 9103,
                                 "relay": 9104, "watch": 9105}
"""Each service's default `/metrics` port (`puhui service NAME`; scraped by Prometheus)."""


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
