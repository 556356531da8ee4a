"""Where a service finds Kafka and PostgreSQL: read once from the environment, frozen.

Defaults point at the local stack (`puhui stack up`), so a newcomer sets nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

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

DATABASE_SERVICES = ("enrolment", "disbursement", "audit", "relay", "finance")
"""The services with a PostgreSQL role of their own (migration 0006; a new one adds its name
here and its role and grants in its migration)."""


def database_role(service: str) -> str:
    """The PostgreSQL role `service` connects as: `puhui_relay` for `relay`."""
    return f"puhui_{service}"


def password_variable(service: str) -> str:
    """The environment variable with the password of `service`'s role, where the server asks
    for one (docker-compose, a deployment; the local stack trusts loopback)."""
    return f"PUHUI_DB_PASSWORD_{service.upper()}"


@dataclass(frozen=True)
class Connections:
    kafka_bootstrap: str
    database_url: str
    """The owner's: migrations (`puhui db migrate`) and the developer's tools."""
    role_passwords: Mapping[str, str] = field(default_factory=dict)
    """Each service role's password, by service name, where one is set."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Connections:
        """`PUHUI_KAFKA_BOOTSTRAP`, `PUHUI_DATABASE_URL` (else the local stack's) and each
        `PUHUI_DB_PASSWORD_<SERVICE>`."""
        env = os.environ if env is None else env
        stack = StackConfig.from_env(env)
        passwords = {name: env[password_variable(name)] for name in DATABASE_SERVICES
                     if env.get(password_variable(name))}
        return cls(
            kafka_bootstrap=env.get("PUHUI_KAFKA_BOOTSTRAP") or stack.bootstrap_servers,
            database_url=env.get("PUHUI_DATABASE_URL") or stack.database_url,
            role_passwords=passwords,
        )

    def service_database_url(self, service: str) -> str:
        """`database_url` signed in as `service`'s own role (and its password, if set)."""
        parts = urlsplit(self.database_url)
        user = quote(database_role(service), safe="")
        password = self.role_passwords.get(service)
        userinfo = user if password is None else f"{user}:{quote(password, safe='')}"
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))
