"""The `puhui` command: one entry point, one sub-command per capability."""

from __future__ import annotations

import click

from puhui import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="puhui")
def main() -> None:
    """Puhui (普惠): union member-card benefits, paid automatically and provably."""


def _register() -> None:
    # Sub-commands live beside what they drive; each module exposes one click command or group.
    from puhui.generate import generate
    from puhui.simulate import simulate
    from puhui.stack.cli import stack

    main.add_command(stack)
    main.add_command(simulate)
    main.add_command(generate)
    from puhui.run import run
    from services.cli import db_group, service

    main.add_command(service)
    main.add_command(run)
    main.add_command(db_group)
    from services.audit.cli import audit

    main.add_command(audit)
    from services.finance.cli import finance

    main.add_command(finance)
    from puhui.bench.cli import bench

    main.add_command(bench)


_register()
