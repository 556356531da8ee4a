"""The `puhui` command: one entry point, one sub-command per capability.

Each sub-command lives beside what it drives and is imported only when it runs (or when
`puhui --help` lists them): `puhui simulate` does not pay for importing the services, the
stack and the bench, about half a second of a run's start.
"""

from __future__ import annotations

from importlib import import_module

import click

from puhui import __version__

COMMANDS = {
    "stack": "puhui.stack.cli:stack",
    "simulate": "puhui.simulate:simulate",
    "generate": "puhui.generate:generate",
    "service": "services.cli:service",
    "run": "puhui.run:run",
    "db": "services.cli:db_group",
    "audit": "services.audit.cli:audit",
    "finance": "services.finance.cli:finance",
    "bench": "puhui.bench.cli:bench",
}
"""Each sub-command's name and where its click command is."""


class _Lazy(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, name = where.split(":")
        command = getattr(import_module(module), name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_Lazy, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="puhui")
def main() -> None:
    """Puhui (普惠): union member-card benefits, paid automatically and provably."""
