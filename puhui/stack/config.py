"""Stack settings, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from puhui.stack.errors import StackError
from schemas.topics import INBOUND_RETENTION_DAYS
from services.runtime.config import DEFAULT_KAFKA_PORT, DEFAULT_PG_PORT, FIRST_METRICS_PORT

DEFAULT_CONTROLLER_PORT = 9093
DEFAULT_KAFKA_HEAP_MB = 512
# Not 9090: on a machine with systemd, Debian's prometheus package runs its own server there.
DEFAULT_PROMETHEUS_PORT = 9190
DEFAULT_METRICS_PORT = FIRST_METRICS_PORT  # the services' own default (services/runtime/config.py)
EXTRA_INSTANCES_AFTER = 9
"""Extra disbursement instances serve `/metrics` from the block's first port + 10 on."""
"""The first port of the services' `/metrics` block (enrolment, disbursement, audit, relay)."""


@dataclass(frozen=True)
class StackConfig:
    """Where the stack keeps its data and which loopback ports it listens on."""

    home: Path
    kafka_port: int = DEFAULT_KAFKA_PORT
    controller_port: int = DEFAULT_CONTROLLER_PORT
    pg_port: int = DEFAULT_PG_PORT
    kafka_heap_mb: int = DEFAULT_KAFKA_HEAP_MB
    prometheus_port: int = DEFAULT_PROMETHEUS_PORT
    metrics_port: int = DEFAULT_METRICS_PORT
    external_database_url: str | None = None
    inbound_retention_days: int = INBOUND_RETENTION_DAYS
    host: str = "127.0.0.1"

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    @property
    def database_url(self) -> str:
        if self.external_database_url:
            return self.external_database_url
        return f"postgresql://puhui@{self.host}:{self.pg_port}/puhui"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StackConfig:
        """Read `PUHUI_STACK_DIR`, `PUHUI_KAFKA_PORT`, `PUHUI_KAFKA_CONTROLLER_PORT`,
        `PUHUI_PG_PORT`, `PUHUI_KAFKA_HEAP_MB`, `PUHUI_PROMETHEUS_PORT`, `PUHUI_METRICS_PORT`
        (the first of the services' metrics ports), `PUHUI_EXTERNAL_DATABASE_URL` and
        `PUHUI_INBOUND_RETENTION_DAYS` (how long the inbound topics are kept)."""
        env = os.environ if env is None else env
        return cls(
            home=Path(env.get("PUHUI_STACK_DIR", ".stack")).resolve(),
            kafka_port=_port(env, "PUHUI_KAFKA_PORT", DEFAULT_KAFKA_PORT),
            controller_port=_port(env, "PUHUI_KAFKA_CONTROLLER_PORT", DEFAULT_CONTROLLER_PORT),
            pg_port=_port(env, "PUHUI_PG_PORT", DEFAULT_PG_PORT),
            kafka_heap_mb=_int(env, "PUHUI_KAFKA_HEAP_MB", DEFAULT_KAFKA_HEAP_MB, 128, 8192),
            prometheus_port=_port(env, "PUHUI_PROMETHEUS_PORT", DEFAULT_PROMETHEUS_PORT),
            metrics_port=_int(env, "PUHUI_METRICS_PORT", DEFAULT_METRICS_PORT, 1024,
                              65535 - EXTRA_INSTANCES_AFTER - 8),
            external_database_url=env.get("PUHUI_EXTERNAL_DATABASE_URL") or None,
            inbound_retention_days=_int(env, "PUHUI_INBOUND_RETENTION_DAYS",
                                        INBOUND_RETENTION_DAYS, 1, 36_500),
        )


def _port(env: Mapping[str, str], key: str, default: int) -> int:
    return _int(env, key, default, 1024, 65535)


def _int(env: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise StackError(
            f"{key}={raw!r} is not a number from {low} to {high}",
            f"set {key} to a number from {low} to {high}, or unset it for {default}",
        )
    return value
