"""What `puhui simulate` tells a person on stderr: bad lines, held events, the summary."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import click
from rich.console import Console
from rich.table import Table

from engine.catalogue import Catalogue
from engine.decisions import ClawedBack, Paid
from engine.periods import local_date
from engine.state import HeldItem

MAX_SHOWN_BAD = 1_000
"""Bad lines reported one by one; the rest are only counted."""
MAX_SHOWN_HELD = 50
PLAIN_WIDTH = 120
"""Table width when stderr is not a terminal (a file or a pipe)."""


class BadLines:
    """Counts bad input lines and reports the first `MAX_SHOWN_BAD` of them on stderr."""

    def __init__(self) -> None:
        self.count = 0

    def report(self, number: int, reason: str) -> None:
        self.count += 1
        if self.count <= MAX_SHOWN_BAD:
            click.echo(f"line {number}: {reason}", err=True)
        elif self.count == MAX_SHOWN_BAD + 1:
            click.echo(f"more than {MAX_SHOWN_BAD:,} bad lines: counting the rest", err=True)


@dataclass
class ProgrammeTally:
    """What one programme paid and clawed back in one calendar year."""

    payouts: int = 0
    clawbacks: int = 0
    net_fen: int = 0
    members_paid: set[str] = field(default_factory=set)


class Tally:
    """Payouts and clawbacks counted per (programme, calendar year of the event)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], ProgrammeTally] = {}

    def count(self, decision: Paid | ClawedBack) -> None:
        year = local_date(decision.occurred_at).year
        self.add(decision.programme or "", year, decision.amount_fen, decision.member_id or "")

    def add(self, programme: str, year: int, amount_fen: int, member_id: str) -> None:
        """A payout (amount above zero) or a clawback of `programme` in calendar `year`."""
        row = self.rows.get((programme, year))
        if row is None:
            row = self.rows[(programme, year)] = ProgrammeTally()
        row.net_fen += amount_fen
        if amount_fen > 0:
            row.payouts += 1
            row.members_paid.add(member_id)
        else:
            row.clawbacks += 1

    @property
    def years(self) -> list[int]:
        return sorted({year for _, year in self.rows})


def show_held(items: Sequence[HeldItem]) -> None:
    """List on stderr what is still held (waiting for a card, a member or a purchase)."""
    if not items:
        return
    click.echo(f"still held: {len(items):,} events", err=True)
    for item in items[:MAX_SHOWN_HELD]:
        click.echo(f"  {_held_event(item)}: waiting for {item.waiting_for} {item.key}", err=True)
    if len(items) > MAX_SHOWN_HELD:
        click.echo(f"  and {len(items) - MAX_SHOWN_HELD:,} more", err=True)


def _held_event(item: HeldItem) -> str:
    event = item.event
    transaction = getattr(event, "transaction_id", None)
    about = f" {transaction}" if transaction else f" member {getattr(event, 'member_id', '?')}"
    return f"{event.type}{about} (event {item.event_id})"


def show_summary(
    tally: Tally,
    bad_lines: int,
    catalogue: Catalogue,
    budget_left: Callable[[str, int], int],
) -> None:
    """A table per programme and year on stderr: payouts, clawbacks, net, members, budget."""
    table = Table(title="puhui simulate: payouts by programme")
    for header in ("programme", "year", "payouts", "clawbacks", "net fen", "members paid",
                   "budget left fen"):  # fmt: skip
        table.add_column(header, justify="left" if header == "programme" else "right")
    for programme in catalogue.programmes:
        for year in tally.years:
            row = tally.rows.get((programme.name, year), ProgrammeTally())
            table.add_row(programme.name, str(year), *_figures(row),
                          f"{budget_left(programme.name, year):,}")  # fmt: skip
    if not tally.rows:
        table.caption = "no payouts"
    console = Console(stderr=True, width=None if sys.stderr.isatty() else PLAIN_WIDTH)
    console.print(table)
    console.print(f"bad lines: {bad_lines:,}")


def _figures(row: ProgrammeTally) -> tuple[str, ...]:
    return (f"{row.payouts:,}", f"{row.clawbacks:,}", f"{row.net_fen:,}",
            f"{len(row.members_paid):,}")  # fmt: skip
