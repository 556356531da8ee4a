"""How much a programme pays: the base amount, cut by each limit, then by the yearly budget.

A count limit that is used up, a money limit or a budget with nothing left makes the grant
zero, which is a denial naming that limit (`limit_reached:<name>`, `already_granted` for a
once-only limit, `budget_exhausted`). The first limit's period is the payout's period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from engine.money import Fen
from engine.periods import period_key, year_key
from engine.programme import Limit, Programme, Window
from engine.state import BudgetKey, Usage, UsageKey
from engine.trace import BaseAmount, BudgetCheck, Final, LimitCheck, Step

NOTHING_TO_PAY = "nothing_to_pay"
BUDGET_EXHAUSTED = "budget_exhausted"
ALREADY_GRANTED = "already_granted"


class Grant(NamedTuple):
    """What a programme grants: `amount_fen` (0 = denied for `reason`; below `base_fen` =
    cut by `reason`), where it counts, and the steps that decided it."""

    amount_fen: Fen
    base_fen: Fen
    reason: str | None
    period: str
    usage_keys: tuple[UsageKey, ...]
    budget_key: BudgetKey
    steps: tuple[Step, ...]


def limit_reason(limit: Limit) -> str:
    return ALREADY_GRANTED if limit.kind == "once" else f"limit_reached:{limit.name}"


def grant(
    programme: Programme,
    member_id: str,
    grade: str,
    base_fen: Fen,
    day: date,
    used: Callable[[UsageKey], Usage],
    spent: Callable[[BudgetKey], Fen],
) -> Grant:
    """The grant of `programme` to `member_id` for an event on Shanghai date `day`.

    `grade` is the level or title of a graded programme ("" otherwise); `used` and `spent`
    read the member's limit usage and the programme's budget spent so far.
    """
    window = programme.pays_on.window_on(day) if programme.pays_on.windows else None
    keys = _usage_keys(programme, member_id, grade, day, window)
    period = keys[0].period if keys else year_key(day)
    budget_key = (programme.name, day.year)
    steps: list[Step] = [BaseAmount(programme.amount.rule, base_fen)]
    if base_fen <= 0:
        return Grant(0, base_fen, NOTHING_TO_PAY, period, keys, budget_key, tuple(steps))
    amount, reason = base_fen, None
    for limit, key in zip(programme.limits, keys, strict=True):
        through, check = _limit_left(limit, key, used(key), amount)
        steps.append(check)
        if through < amount:
            amount, reason = through, limit_reason(limit)
        if amount == 0:
            return Grant(0, base_fen, reason, period, keys, budget_key, tuple(steps))
    budget_left = max(0, programme.yearly_budget_fen - spent(budget_key))
    if budget_left < amount:
        amount, reason = budget_left, BUDGET_EXHAUSTED
    steps.append(BudgetCheck(day.year, budget_left, amount))
    if amount > 0:
        steps.append(Final(amount))
    return Grant(amount, base_fen, reason, period, keys, budget_key, tuple(steps))


def _usage_keys(
    programme: Programme, member_id: str, grade: str, day: date, window: Window | None
) -> tuple[UsageKey, ...]:
    window_year = None if window is None else window.year
    return tuple(
        [
            UsageKey(
                member_id,
                programme.name,
                limit.name,
                period_key(limit.period, day, window_year),
                "" if limit.per == "member" else grade,
            )
            for limit in programme.limits
        ]
    )


def _limit_left(limit: Limit, key: UsageKey, usage: Usage, amount: Fen) -> tuple[Fen, LimitCheck]:
    """What `limit` lets through of `amount`, and the trace step that says so."""
    if limit.kind == "money":
        used, left = usage.fen, max(0, limit.max - usage.fen)
        through = min(amount, left)
    else:
        used, left = usage.count, max(0, limit.max - usage.count)
        through = amount if left > 0 else 0
    return through, LimitCheck(limit.name, limit.kind, key.period, used, limit.max, left, through)


def period_of(programme: Programme, day: date) -> str:
    """The period a payout of `programme` on `day` is reported in: its first limit's."""
    if not programme.limits:
        return year_key(day)
    window = programme.pays_on.window_on(day) if programme.pays_on.windows else None
    return programme.limits[0].key(day, window)
