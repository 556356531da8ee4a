"""`puhui service NAME`, `puhui db migrate` and `puhui db wait SERVICE`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import asyncpg
import click

from engine.catalogue import Catalogue, CatalogueError, load_catalogue
from services import bootstrap
from services.audit.adapters.keys import KeyFileError
from services.audit.settings import AuditSettings, AuditSettingsError
from services.runtime import db
from services.runtime.config import (
    DATABASE_SERVICES,
    ConfigError,
    Connections,
    ServiceConfig,
    database_role,
)
from services.runtime.errors import DeadLetterLimitExceeded, TransientFailure
from services.runtime.metrics import MetricsPortTaken
from services.runtime.retry import GaveUp

# `puhui service` exits with this when restarting will not help: the database schema is
# behind the code (migrate it) or a setting is wrong (fix it).
NOT_STARTING_EXIT = 3


@click.command("service")
@click.argument("name", type=click.Choice(bootstrap.SERVICES))
@click.option("--metrics-port", type=int, default=None,
              help="Port of /metrics (default: the service's in the block 9101-9105, which "
                   "PUHUI_METRICS_PORT moves to start elsewhere; the address is 127.0.0.1 "
                   "unless PUHUI_METRICS_HOST says otherwise).")
@click.option("--catalogue", "catalogue_path", type=click.Path(path_type=Path), default=None,
              help="Programme catalogue file (default: the reference catalogue).")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path), default=None,
              help="watch only: its rules file (default: services/watch/watch_rules.toml).")
def service(name: str, metrics_port: int | None, catalogue_path: Path | None,
            rules_path: Path | None) -> None:
    """Run one service in the foreground until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    try:
        catalogue = load_catalogue(catalogue_path)
    except CatalogueError as error:
        raise click.ClickException(f"catalogue: {error}") from None
    if name == "watch":
        _watch(catalogue, rules_path, metrics_port)
        return
    try:
        options = service_options(name, os.environ, catalogue, metrics_port)
        asyncio.run(bootstrap.run_service(options))
    except (GaveUp, TransientFailure, DeadLetterLimitExceeded, MetricsPortTaken) as error:
        click.secho(f"{name}: stopping: {error}", fg="red", err=True)
        sys.exit(1)
    except (db.DatabaseNotReady, ConfigError, AuditSettingsError, KeyFileError) as error:
        click.secho(f"{name}: not starting: {error}", fg="red", err=True)
        sys.exit(NOT_STARTING_EXIT)


def _watch(catalogue: Catalogue, rules_path: Path | None, metrics_port: int | None) -> None:
    from services.watch.bootstrap import WatchOptions, run_watch
    from services.watch.config import RulesError, load_rules

    try:
        watched = load_rules(catalogue, rules_path)
        config = ServiceConfig.from_env(os.environ)
    except (RulesError, ConfigError) as error:
        click.secho(f"watch: not starting: {error}", fg="red", err=True)
        sys.exit(NOT_STARTING_EXIT)
    # faust's table state (in memory; the changelogs are the durable copy) and its own files
    state = Path(os.environ.get("PUHUI_WATCH_STATE_DIR") or ".watch-state")
    # a test runs its own watch over topics of its own
    app_id = os.environ.get("PUHUI_WATCH_APP_ID") or "puhui-watch"
    topic = os.environ.get("PUHUI_WATCH_TOPIC") or "card.transactions"
    payouts = os.environ.get("PUHUI_WATCH_PAYOUTS_TOPIC") or "payouts"
    try:
        run_watch(WatchOptions(config.connections, watched,
                               metrics_port or config.metrics_port("watch"), state / app_id,
                               metrics_host=config.metrics_host, app_id=app_id,
                               source_topic=topic, payouts_topic=payouts))
    except (GaveUp, TransientFailure, MetricsPortTaken) as error:
        click.secho(f"watch: stopping: {error}", fg="red", err=True)
        sys.exit(1)
    except db.DatabaseNotReady as error:
        click.secho(f"watch: not starting: {error}", fg="red", err=True)
        sys.exit(NOT_STARTING_EXIT)


def service_options(name: str, env: Mapping[str, str], catalogue: Catalogue,
                    metrics_port: int | None = None) -> bootstrap.ServiceOptions:
    """Everything `puhui service NAME` reads from the environment, read here once
    (tests/unit/deploy checks each Deployment sets what this reads)."""
    config = ServiceConfig.from_env(env)
    audit = AuditSettings.from_env(env) if name == "audit" else None
    # PUHUI_METRICS_HOST is 0.0.0.0 in a container, so that Prometheus in the next one scrapes it
    return bootstrap.ServiceOptions(name, config.connections, catalogue,
                                    metrics_port or config.metrics_port(name),
                                    metrics_host=config.metrics_host, audit=audit)


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


@db_group.command()
@click.argument("name", metavar="SERVICE", type=click.Choice(DATABASE_SERVICES))
@click.option("--timeout", type=click.IntRange(1, 3600), default=600, show_default=True,
              help="Seconds to wait before giving up (exit 3).")
def wait(name: str, timeout: int) -> None:
    """Wait until SERVICE's role can sign in and the schema is current: a pod's init
    container, while the migrate Job (`puhui db migrate`) runs. Never migrates."""
    url = Connections.from_env().service_database_url(name)
    try:
        asyncio.run(db.wait_until_current(url, timeout))
    except db.DatabaseNotReady as error:
        click.secho(f"{name}: not starting: {error}", fg="red", err=True)
        sys.exit(NOT_STARTING_EXIT)
    click.echo(f"{name}: the schema is current")


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
