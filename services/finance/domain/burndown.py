"""A programme's budget burn-down: spent by day against a straight line to the year's end,
and the day the budget runs out at the pace so far. Integer fen, Shanghai days; pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Burn:
    budget_fen: int
    as_of: date
    spent: tuple[tuple[date, int], ...]
    """(day, spent from 1 January through that day), one per day with payouts."""
    exhausted_on: date | None
    """The day the spending reached the budget, if it did."""
    projected_exhaustion: date | None
    """At the pace of 1 January to `as_of`, the day the budget runs out; None if not this
    year (or nothing is spent)."""


def burn(year: int, budget_fen: int, net_by_day: Mapping[date, int], today: date) -> Burn:
    """`net_by_day`: each day's payouts less clawbacks. `as_of` is `today` in its own year,
    else the last day with payouts (a past or a replayed year)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    days = sorted(d for d in net_by_day if first <= d <= last)
    as_of = min(max(today, days[-1]) if days else today, last) if today.year == year \
        else (days[-1] if days else first)
    spent, total, exhausted = [], 0, None
    for day in days:
        total += net_by_day[day]
        spent.append((day, total))
        if exhausted is None and budget_fen > 0 and total >= budget_fen:
            exhausted = day
    return Burn(budget_fen, as_of, tuple(spent), exhausted,
                _projection(first, last, as_of, total, budget_fen, exhausted))


def _projection(first: date, last: date, as_of: date, spent: int, budget: int,
                exhausted: date | None) -> date | None:
    if exhausted is not None:
        return exhausted
    if spent <= 0:
        return None
    elapsed = (as_of - first).days + 1
    days = -(-budget * elapsed // spent)  # ceil: the day whose spending reaches the budget
    if days > (last - first).days + 1:
        return None
    return first + timedelta(days=days - 1)
