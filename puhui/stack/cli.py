"""`puhui stack up | down | status`."""

from __future__ import annotations

import asyncio
import sys
import time

import click

from puhui.stack import lifecycle, readiness
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError


def _fail(error: StackError) -> None:
    click.secho(f"error: {error.problem}", fg="red", err=True)
    click.echo(f"  → {error.remedy}", err=True)
    sys.exit(1)


@click.group()
def stack_group() -> None:
    """The local stack: a real Kafka broker (KRaft) and PostgreSQL, on loopback.

    Data lives under PUHUI_STACK_DIR (default ./.stack); ports come from PUHUI_KAFKA_PORT
    (9092), PUHUI_KAFKA_CONTROLLER_PORT (9093) and PUHUI_PG_PORT (5433).
    """


@stack_group.command()
@click.option("--with-prometheus", is_flag=True,
              help="Also start Prometheus (PUHUI_PROMETHEUS_PORT, default 9190) scraping the "
                   "services' /metrics on 127.0.0.1:9101-9105.")
def up(with_prometheus: bool) -> None:
    """Start Kafka and PostgreSQL (and Prometheus if asked) unless running; wait for them."""
    started = time.monotonic()
    try:
        lifecycle.up(StackConfig.from_env(), click.echo, with_prometheus=with_prometheus)
    except StackError as error:
        _fail(error)
    click.secho(f"stack ready in {time.monotonic() - started:.1f}s", fg="green")


@stack_group.command()
@click.option("--purge", is_flag=True, help="Also delete all stack data (topics, database).")
def down(purge: bool) -> None:
    """Stop Kafka and PostgreSQL (and Prometheus, if it runs)."""
    try:
        lifecycle.down(StackConfig.from_env(), click.echo, purge=purge)
    except StackError as error:
        _fail(error)


@stack_group.command()
def status() -> None:
    """Say what runs and whether it answers; exit 1 unless everything does."""
    try:
        components = lifecycle.status(StackConfig.from_env())
    except StackError as error:
        _fail(error)
    for part in components:
        mark = click.style("up  ", fg="green") if part.running else click.style("DOWN", fg="red")
        pid = f"pid {part.pid}" if part.pid else "no pid"
        click.echo(f"{mark} {part.name:<10} {part.address:<22} {pid:<10} {part.detail}")
    sys.exit(0 if all(part.running for part in components) else 1)


@stack_group.command()
@click.option("--bootstrap", envvar="PUHUI_KAFKA_BOOTSTRAP", default=None,
              help="Broker to create them on (default: the local stack's).")
def topics(bootstrap: str | None) -> None:
    """Create the topics Puhui needs on a broker, and set their retention (what `up` does;
    for other brokers): the inbound ones keep `PUHUI_INBOUND_RETENTION_DAYS` (default 400)."""
    config = StackConfig.from_env()
    target = bootstrap or config.bootstrap_servers
    if not asyncio.run(readiness.kafka_answers(target, 60.0)):
        _fail(StackError(f"no Kafka broker answers at {target}",
                         "start it (`puhui stack up`) or pass --bootstrap HOST:PORT"))
    created = asyncio.run(readiness.ensure_topics(
        target, inbound_retention_days=config.inbound_retention_days))
    click.echo(f"created {', '.join(created)}" if created else "all topics present")


stack = stack_group
stack.name = "stack"
