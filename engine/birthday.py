"""Birthday gifts: on `day_started` D, every member whose birthday is D and who was a member at
00:00 of D gets the gift, once a year (29 February counts as 28 February in common years).

A registration (or a corrected birth date) that arrives after its birthday's tick still pays
that day's gift if the member was registered at 00:00 of that day (rule 4 of
docs/PRODUCT.md). Its source is that day's `day_started`, so its payout is the one the tick
would have made: a resend or a replay cannot pay it twice.
"""

from __future__ import annotations

from datetime import date

from engine.catalogue import Catalogue
from engine.draft import Draft
from engine.eligibility import membership_problem
from engine.grant import grant, period_of
from engine.origin import of_day
from engine.payments import deny, settle
from engine.periods import birthdays_on, month_day, start_of_day
from engine.programme import Programme
from engine.state import Member
from engine.trace import Checked, Matched
from schemas.clock_days import TOPIC as CLOCK_TOPIC
from schemas.clock_days import DayStarted


def day_started(event: DayStarted, draft: Draft, catalogue: Catalogue) -> None:
    day = event.date
    draft.tick(day, event.event_id)
    programme = _programme(catalogue, day)
    if programme is None:
        return
    born = sorted({m for month_day in birthdays_on(day) for m in draft.birthday_members(month_day)})
    for member_id in born:
        _judge(draft, programme, member_id, day, event.event_id)


def catch_up(before: Member | None, member: Member, draft: Draft, catalogue: Catalogue) -> None:
    """Pay the gifts of days already ticked that `member` (as `before`, if known) missed."""
    if member.birth_date is None:
        return
    for day, tick_id in draft.ticks_for(month_day(member.birth_date)):
        if not _celebrates(member, day) or (before is not None and _celebrates(before, day)):
            continue  # not theirs that day, or the tick judged them already
        programme = _programme(catalogue, day)
        if programme is not None:
            _judge(draft, programme, member.member_id, day, tick_id)


def _celebrates(member: Member, day: date) -> bool:
    """Whether the tick of `day` pays `member`: their birthday, and a member at 00:00."""
    if member.birth_date is None or month_day(member.birth_date) not in birthdays_on(day):
        return False
    return membership_problem(member, start_of_day(day)) is None


def _programme(catalogue: Catalogue, day: date) -> Programme | None:
    return next((p for p in catalogue.paying_on("birthday") if p.pays_on.in_season(day)), None)


def _judge(draft: Draft, programme: Programme, member_id: str, day: date, tick_id: str) -> None:
    midnight = start_of_day(day)
    origin = of_day(tick_id, midnight, CLOCK_TOPIC)
    matched = Matched(programme.name, f"birthday on {day.isoformat()}")
    problem = membership_problem(draft.member(member_id), midnight)
    if problem is not None:
        steps = (matched, Checked("eligibility", f"{problem} at 00:00"))
        deny(draft, origin, member_id, programme.name, period_of(programme, day), problem, steps)
        return
    base = programme.amount.base_fen(0, None)
    granted = grant(programme, member_id, "", base, day, draft.used, draft.spent)
    settle(draft, origin, member_id, programme.name, (matched, *granted.steps), granted)
