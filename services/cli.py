"""`puhui service NAME`, `puhui db migrate` and `puhui run`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import asyncpg
import click

from puhui.engine.catalogue import CatalogueError, load_catalogue
from puhui.settings import Connections, database_role, metrics_ports
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError
from services import bootstrap
from services.audit.adapters.keys import KeyFileError
from services.audit.settings import AuditSettingsError
from services.runtime import db
from services.runtime.errors import DeadLetterLimitExceeded, TransientFailure
from services.runtime.metrics import MetricsPortTaken

# `puhui service` exits with this when restarting will not help: the database schema is
# behind the code (migrate it) or a setting is wrong (fix it).
NOT_STARTING_EXIT = 3


@click.command("service")
@click.argument("name", type=click.Choice(bootstrap.SERVICES))
@click.option("--metrics-port", type=int, default=None,
              help="Port of /metrics (default: the service's in the block 9101-9104, which "
                   "PUHUI_METRICS_PORT moves to start elsewhere; the address is 127.0.0.1 "
                   "unless PUHUI_METRICS_HOST says otherwise).")
@click.option("--catalogue", "catalogue_path", type=click.Path(path_type=Path), default=None,
              help="Programme catalogue file (default: the reference catalogue).")
def service(name: str, metrics_port: int | None, catalogue_path: Path | None) -> None:
    """Run one service in the foreground until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    try:
        catalogue = load_catalogue(catalogue_path)
    except CatalogueError as error:
        raise click.ClickException(f"catalogue: {error}") from None
    port = metrics_port or metrics_ports(_stack_config().metrics_port)[name]
    # 0.0.0.0 inside a container, so that Prometheus in the next one can scrape it
    host = os.environ.get("PUHUI_METRICS_HOST") or "127.0.0.1"
    options = bootstrap.ServiceOptions(name, Connections.from_env(), catalogue, port,
                                       metrics_host=host)
    try:
        asyncio.run(bootstrap.run_service(options))
    except (TransientFailure, DeadLetterLimitExceeded, MetricsPortTaken) as error:
        click.secho(f"{name}: stopping: {error}", fg="red", err=True)
        sys.exit(1)
    except (db.DatabaseNotReady, AuditSettingsError, KeyFileError) as error:
        click.secho(f"{name}: not starting: {error}", fg="red", err=True)
        sys.exit(NOT_STARTING_EXIT)


@click.group("db")
def db_group() -> None:
    """The PostgreSQL schema."""


@db_group.command()
def migrate() -> None:
    """Apply the schema migrations not applied yet, as the schema's owner (PUHUI_DATABASE_URL);
    then give each service role the password PUHUI_DB_PASSWORD_<SERVICE> names, if any.
    Services do not migrate: run this before they start."""
    for line in migrate_as_owner(Connections.from_env()):
        click.echo(line)


def migrate_as_owner(connections: Connections) -> list[str]:
    """`puhui db migrate`, for `puhui run` too: what it did, line by line."""

    async def run() -> tuple[list[db.Migration], list[str]]:
        pool = await db.create_pool(connections.database_url, attempts=5)
        try:
            applied = await db.migrate(pool)
            roles = {database_role(service): password
                     for service, password in connections.role_passwords.items()}
            return applied, await db.set_passwords(pool, roles)
        finally:
            await pool.close()

    try:
        applied, roles = asyncio.run(run())
    except TransientFailure as error:
        raise click.ClickException(f"{error}; is the stack up? (`puhui stack up`)") from None
    except asyncpg.PostgresError as error:
        raise click.ClickException(f"migrating failed: {type(error).__name__}: {error} "
                                   "(PUHUI_DATABASE_URL must be the schema's owner)") from None
    lines = [f"applied {migration.version:04d} {migration.name}" for migration in applied]
    lines += [f"password set for role {role}" for role in roles]
    lines.append("schema up to date" if not applied else f"{len(applied)} migration(s) applied")
    return lines


@click.command("run")
@click.option("--demo", is_flag=True, help="Also feed a short synthetic stream.")
@click.option("--instances", type=click.IntRange(1, 8), default=1, show_default=True,
              help="Disbursement instances (they share the card partitions).")
@click.option("--demo-members", type=click.IntRange(10, 1_000_000), default=2_000,
              show_default=True, help="Members in the demo population.")
def run(demo: bool, instances: int, demo_members: int) -> None:
    """Start the stack if needed, then every service, until Ctrl-C."""
    from puhui.stack import lifecycle
    from services.supervisor import supervise

    try:
        config = StackConfig.from_env()
        lifecycle.up(config, click.echo)
    except StackError as error:
        raise click.ClickException(f"{error.problem}\n  → {error.remedy}") from None
    for line in migrate_as_owner(Connections.from_env()):
        click.echo(f"db: {line}")
    supervise(instances, demo, demo_members, config.metrics_port)


def _stack_config() -> StackConfig:
    """The stack's settings (`PUHUI_METRICS_PORT` among them), a bad value named plainly."""
    try:
        return StackConfig.from_env()
    except StackError as error:
        raise click.ClickException(f"{error.problem}\n  → {error.remedy}") from None
