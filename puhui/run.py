"""`puhui run`: the local stack, migrated, then every service as a supervised process."""

from __future__ import annotations

import click

from puhui.stack import lifecycle
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError
from puhui.supervisor import supervise
from services.cli import migrate_as_owner
from services.runtime.config import Connections


@click.command("run")
@click.option("--demo", is_flag=True, help="Also feed a short synthetic stream.")
@click.option("--instances", type=click.IntRange(1, 8), default=1, show_default=True,
              help="Disbursement instances (they share the card partitions).")
@click.option("--demo-members", type=click.IntRange(10, 1_000_000), default=2_000,
              show_default=True, help="Members in the demo population.")
def run(demo: bool, instances: int, demo_members: int) -> None:
    """Start the stack if needed, then every service, until Ctrl-C."""
    try:
        config = StackConfig.from_env()
        lifecycle.up(config, click.echo)
    except StackError as error:
        raise click.ClickException(f"{error.problem}\n  → {error.remedy}") from None
    for line in migrate_as_owner(Connections.from_env()):
        click.echo(f"db: {line}")
    supervise(instances, demo, demo_members, config.metrics_port)
