"""The comparison of two sets of payouts (recorded and simulated), as plain values.

Pure: sums in, figures out. A `Payouts` is what one catalogue paid in the reported window,
per (programme, member) and per (programme, day); `compare` sets two of them side by side.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from engine.catalogue import Catalogue

EDGES_FEN = (100, 1_000, 10_000)
"""The bins of the change per member, either way: up to 1, 10 and 100 CNY, and more."""


@dataclass
class Payouts:
    """Net fen (payouts less clawbacks) per (programme, member) and per (programme, day)."""

    by_member: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    by_day: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))

    def add(self, programme: str, member_id: str, day: date, fen: int) -> None:
        self.by_member[(programme, member_id)] += fen
        self.by_day[(programme, day)] += fen

    def per_programme(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for (programme, _member), fen in self.by_member.items():
            totals[programme] += fen
        return totals

    def per_member(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for (_programme, member), fen in self.by_member.items():
            totals[member] += fen
        return totals


@dataclass(frozen=True)
class ProgrammeRow:
    programme: str
    paid_today_fen: int
    paid_new_fen: int
    members_gaining: int
    members_losing: int

    @property
    def difference_fen(self) -> int:
        return self.paid_new_fen - self.paid_today_fen


@dataclass(frozen=True)
class BurnDown:
    """One programme's yearly budget by day: fen spent so far under each catalogue."""

    programme: str
    budget_today_fen: int
    budget_new_fen: int
    days: tuple[date, ...]
    spent_today_fen: tuple[int, ...]
    spent_new_fen: tuple[int, ...]

    @property
    def exhausted_today(self) -> date | None:
        return _first_at(self.days, self.spent_today_fen, self.budget_today_fen)

    @property
    def exhausted_new(self) -> date | None:
        return _first_at(self.days, self.spent_new_fen, self.budget_new_fen)


@dataclass(frozen=True)
class Comparison:
    programmes: tuple[ProgrammeRow, ...]
    members_gaining: int
    members_losing: int
    members_compared: int
    histogram: tuple[tuple[str, int], ...]
    burn_down: tuple[BurnDown, ...]

    @property
    def total_difference_fen(self) -> int:
        return sum(row.difference_fen for row in self.programmes)


def compare(today: Payouts, new: Payouts, today_catalogue: Catalogue,
            new_catalogue: Catalogue) -> Comparison:
    """What `new` pays beside what `today` paid: per programme, per member, per day."""
    names = _programmes(today, new, new_catalogue)
    paid_today, paid_new = today.per_programme(), new.per_programme()
    rows = tuple(ProgrammeRow(name, paid_today.get(name, 0), paid_new.get(name, 0),
                              *_gain_loss(today, new, name)) for name in names)
    change = _member_change(today.per_member(), new.per_member())
    return Comparison(
        rows, sum(1 for c in change.values() if c > 0), sum(1 for c in change.values() if c < 0),
        len(change), histogram(change.values()),
        tuple(_burn_down(name, today, new, today_catalogue, new_catalogue) for name in names))


def histogram(changes: Iterable[int]) -> tuple[tuple[str, int], ...]:
    """How many members' net change falls in each bin (none; up to 1, 10, 100 CNY; more)."""
    labels = bin_labels()
    counts = [0] * len(labels)
    for change in changes:
        counts[_bin(change)] += 1
    return tuple(zip(labels, counts, strict=True))


def bin_labels() -> tuple[str, ...]:
    """Bin labels in CNY, lowest first: `< -100 CNY`, `-100 to -10 CNY`, ..., `> 100 CNY`."""
    cny = [f"{edge // 100:,}" for edge in EDGES_FEN]
    spans = list(zip(["0", *cny[:-1]], cny, strict=True))
    losses = [f"-{hi} to {'-' + lo if lo != '0' else lo} CNY" for lo, hi in reversed(spans)]
    gains = [f"{lo} to {hi} CNY" for lo, hi in spans]
    return (f"< -{cny[-1]} CNY", *losses, "unchanged", *gains, f"> {cny[-1]} CNY")


def _bin(change: int) -> int:
    middle = len(EDGES_FEN) + 1
    if change == 0:
        return middle
    step = bisect_left(EDGES_FEN, abs(change))
    return middle + 1 + step if change > 0 else middle - 1 - step


def _programmes(today: Payouts, new: Payouts, catalogue: Catalogue) -> list[str]:
    """The catalogue's programmes in precedence order, then any other that paid."""
    names = [programme.name for programme in catalogue.programmes]
    seen = {name for name, _ in today.by_member} | {name for name, _ in new.by_member}
    return names + sorted(seen - set(names))


def _gain_loss(today: Payouts, new: Payouts, programme: str) -> tuple[int, int]:
    members = {m for p, m in today.by_member if p == programme}
    members |= {m for p, m in new.by_member if p == programme}
    change = [new.by_member.get((programme, m), 0) - today.by_member.get((programme, m), 0)
              for m in members]
    return sum(1 for c in change if c > 0), sum(1 for c in change if c < 0)


def _member_change(today: dict[str, int], new: dict[str, int]) -> dict[str, int]:
    return {m: new.get(m, 0) - today.get(m, 0) for m in today.keys() | new.keys()}


def _burn_down(programme: str, today: Payouts, new: Payouts, today_catalogue: Catalogue,
               new_catalogue: Catalogue) -> BurnDown:
    days = sorted({d for p, d in today.by_day if p == programme}
                  | {d for p, d in new.by_day if p == programme})
    return BurnDown(programme, _budget(today_catalogue, programme),
                    _budget(new_catalogue, programme), tuple(days),
                    _spent(today, programme, days), _spent(new, programme, days))


def _budget(catalogue: Catalogue, programme: str) -> int:
    try:
        return catalogue.programme(programme).yearly_budget_fen
    except KeyError:
        return 0


def _spent(payouts: Payouts, programme: str, days: list[date]) -> tuple[int, ...]:
    """Fen spent so far on each day, from 1 January (a budget is the calendar year's)."""
    spent: list[int] = []
    for day, fen in zip(days, (payouts.by_day.get((programme, d), 0) for d in days),
                        strict=True):
        same_year = bool(spent) and days[len(spent) - 1].year == day.year
        spent.append((spent[-1] if same_year else 0) + fen)
    return tuple(spent)


def _first_at(days: tuple[date, ...], spent: tuple[int, ...], budget: int) -> date | None:
    return next((day for day, fen in zip(days, spent, strict=True) if fen >= budget), None)
