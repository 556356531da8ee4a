"""A service's configuration: read once from the environment into frozen values that name a
bad key, with defaults as literals (the local stack's ports, which `puhui stack` also uses;
nothing here imports the stack).

- `PUHUI_KAFKA_BOOTSTRAP`, else `127.0.0.1:` + `PUHUI_KAFKA_PORT` (9092);
- `PUHUI_DATABASE_URL` (the owner's), else `PUHUI_EXTERNAL_DATABASE_URL`, else
  `postgresql://puhui@127.0.0.1:` + `PUHUI_PG_PORT` (5433) + `/puhui`;
- `PUHUI_DB_PASSWORD_<SERVICE>`: each service role's password, where the server asks for one;
- `PUHUI_METRICS_HOST` (127.0.0.1) and `PUHUI_METRICS_PORT`, the first port of the services'
  `/metrics` block (9101: enrolment 9101, disbursement 9102, audit 9103, relay 9104).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

SERVICE_NAMES = ("enrolment", "disbursement", "audit", "relay")
DATABASE_SERVICES = ("enrolment", "disbursement", "audit", "relay", "finance")
"""The services with a PostgreSQL role of their own (migration 0006; a new one adds its name
here and its role and grants in its migration)."""
LOCAL_HOST = "127.0.0.1"
DEFAULT_KAFKA_PORT = 9092
DEFAULT_PG_PORT = 5433
FIRST_METRICS_PORT = 9101
METRICS_BLOCK_ROOM = 17
"""Ports the block needs past its first: the four services, then extra disbursement
instances from the first + 10 on (`puhui run --instances`, up to 8)."""


class ConfigError(ValueError):
    """A setting in the environment is not one the service can use; the message names it."""


def metrics_ports(first: int = FIRST_METRICS_PORT) -> dict[str, int]:
    """Each service's `/metrics` port in the block that starts at `first`
    (`PUHUI_METRICS_PORT`), in the order of `SERVICE_NAMES`."""
    return {name: first + n for n, name in enumerate(SERVICE_NAMES)}


METRICS_PORTS: dict[str, int] = metrics_ports()
"""Each service's default `/metrics` port (9101-9104; docker-compose's)."""


def database_role(service: str) -> str:
    """The PostgreSQL role `service` connects as: `puhui_relay` for `relay`."""
    return f"puhui_{service}"


def password_variable(service: str) -> str:
    """The environment variable with the password of `service`'s role, where the server asks
    for one (docker-compose, a deployment; the local stack trusts loopback)."""
    return f"PUHUI_DB_PASSWORD_{service.upper()}"


def port(env: Mapping[str, str], key: str, default: int, highest: int = 65535) -> int:
    """`env[key]` as a port from 1024 to `highest`; `default` when unset or empty."""
    raw = env.get(key) or ""
    if not raw:
        return default
    if not raw.isdigit() or not 1024 <= int(raw) <= highest:
        raise ConfigError(f"{key}={raw!r} is not a port from 1024 to {highest}")
    return int(raw)


@dataclass(frozen=True)
class Connections:
    kafka_bootstrap: str
    database_url: str
    """The owner's: migrations (`puhui db migrate`) and the developer's tools."""
    role_passwords: Mapping[str, str] = field(default_factory=dict)
    """Each service role's password, by service name, where one is set."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Connections:
        """Kafka, the database and the roles' passwords (the module's docstring says which
        variables, and their defaults)."""
        env = os.environ if env is None else env
        passwords = {name: env[password_variable(name)] for name in DATABASE_SERVICES
                     if env.get(password_variable(name))}
        kafka = env.get("PUHUI_KAFKA_BOOTSTRAP") or (
            f"{LOCAL_HOST}:{port(env, 'PUHUI_KAFKA_PORT', DEFAULT_KAFKA_PORT)}")
        database = (env.get("PUHUI_DATABASE_URL") or env.get("PUHUI_EXTERNAL_DATABASE_URL")
                    or f"postgresql://puhui@{LOCAL_HOST}:"
                       f"{port(env, 'PUHUI_PG_PORT', DEFAULT_PG_PORT)}/puhui")
        return cls(kafka_bootstrap=kafka, database_url=database, role_passwords=passwords)

    def service_database_url(self, service: str) -> str:
        """`database_url` signed in as `service`'s own role (and its password, if set)."""
        parts = urlsplit(self.database_url)
        user = quote(database_role(service), safe="")
        password = self.role_passwords.get(service)
        userinfo = user if password is None else f"{user}:{quote(password, safe='')}"
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


@dataclass(frozen=True)
class ServiceConfig:
    """What `puhui service NAME` reads from the environment, besides a service's own settings
    (the audit service's: `services.audit.settings`)."""

    connections: Connections
    metrics_host: str = LOCAL_HOST
    first_metrics_port: int = FIRST_METRICS_PORT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServiceConfig:
        env = os.environ if env is None else env
        first = port(env, "PUHUI_METRICS_PORT", FIRST_METRICS_PORT, 65535 - METRICS_BLOCK_ROOM)
        return cls(Connections.from_env(env), env.get("PUHUI_METRICS_HOST") or LOCAL_HOST,
                   first)

    def metrics_port(self, service: str) -> int:
        return metrics_ports(self.first_metrics_port)[service]
