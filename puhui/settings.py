"""The services' configuration as the development tools use it: the product's own
(`services.runtime.config`), plus what only `puhui run` needs."""

from __future__ import annotations

from puhui.stack.config import EXTRA_INSTANCES_AFTER
from services.runtime.config import (
    DATABASE_SERVICES,
    METRICS_PORTS,
    SERVICE_NAMES,
    Connections,
    database_role,
    metrics_ports,
    password_variable,
)

__all__ = ["DATABASE_SERVICES", "METRICS_PORTS", "SERVICE_NAMES", "Connections",
           "database_role", "instance_port", "metrics_ports", "password_variable"]


def instance_port(first: int, instance: int) -> int:
    """The `/metrics` port of disbursement's `instance`-th extra instance (1, 2, ...)."""
    return first + EXTRA_INSTANCES_AFTER + instance
