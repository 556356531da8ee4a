"""Birthday gifts: on `day_started` D, every member whose birthday is D and who was a member at
00:00 of D gets the gift, once a year (29 February counts as 28 February in common years)."""

from __future__ import annotations

from puhui.engine.catalogue import Catalogue
from puhui.engine.draft import Draft
from puhui.engine.eligibility import membership_problem
from puhui.engine.grant import grant, period_of
from puhui.engine.origin import of_day
from puhui.engine.payments import deny, settle
from puhui.engine.periods import birthdays_on, start_of_day
from puhui.engine.trace import Checked, Matched
from schemas.clock_days import TOPIC as CLOCK_TOPIC
from schemas.clock_days import DayStarted


def day_started(event: DayStarted, draft: Draft, catalogue: Catalogue) -> None:
    day = event.date
    programme = next((p for p in catalogue.paying_on("birthday") if p.pays_on.in_season(day)), None)
    if programme is None:
        return
    midnight = start_of_day(day)
    origin = of_day(event.event_id, midnight, CLOCK_TOPIC)
    born = sorted({m for month_day in birthdays_on(day) for m in draft.birthday_members(month_day)})
    for member_id in born:
        matched = Matched(programme.name, f"birthday on {day.isoformat()}")
        problem = membership_problem(draft.member(member_id), midnight)
        if problem is not None:
            steps = (matched, Checked("eligibility", f"{problem} at 00:00"))
            deny(
                draft, origin, member_id, programme.name, period_of(programme, day), problem, steps
            )
            continue
        base = programme.amount.base_fen(0, None)
        granted = grant(programme, member_id, "", base, day, draft.used, draft.spent)
        settle(draft, origin, member_id, programme.name, (matched, *granted.steps), granted)
