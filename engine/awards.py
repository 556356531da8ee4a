"""One-off awards to a member: a skill certificate (`member_certified`, by level) or an honour
(`member_honoured`, by title). The member must be registered at the event's time; an event
about a member not known yet waits for their registration."""

from __future__ import annotations

from engine.catalogue import Catalogue
from engine.draft import Draft
from engine.eligibility import membership_problem
from engine.grant import grant, period_of
from engine.holds import hold
from engine.origin import of_enrolment
from engine.payments import deny, settle
from engine.periods import local_date
from engine.programme import EventKind
from engine.trace import Checked, Matched
from schemas.member_enrolment import MemberCertified, MemberHonoured

NO_PROGRAMME_MATCHED = "no_programme_matched"


def certified(event: MemberCertified, draft: Draft, catalogue: Catalogue) -> None:
    _award(event, "member_certified", event.level, draft, catalogue)


def honoured(event: MemberHonoured, draft: Draft, catalogue: Catalogue) -> None:
    _award(event, "member_honoured", event.title, draft, catalogue)


def _award(
    event: MemberCertified | MemberHonoured,
    kind: EventKind,
    grade: str,
    draft: Draft,
    catalogue: Catalogue,
) -> None:
    day = local_date(event.occurred_at)
    origin = of_enrolment(event.event_id, event.occurred_at)
    programme = next((p for p in catalogue.paying_on(kind) if p.pays_on.in_season(day)), None)
    if programme is None:
        step = Checked("programmes", f"none pays on {kind}")
        deny(draft, origin, event.member_id, None, None, NO_PROGRAMME_MATCHED, (step,))
        return
    member = draft.member(event.member_id)
    if member is None:
        hold(draft, event, "member", event.member_id)
        return
    matched = Matched(programme.name, f"{kind} {grade}")
    problem = membership_problem(member, event.occurred_at)
    if problem is not None:
        steps = (matched, Checked("eligibility", problem))
        deny(
            draft,
            origin,
            event.member_id,
            programme.name,
            period_of(programme, day),
            problem,
            steps,
        )
        return
    base = programme.amount.base_fen(0, grade)
    granted = grant(programme, event.member_id, grade, base, day, draft.used, draft.spent)
    settle(draft, origin, event.member_id, programme.name, (matched, *granted.steps), granted)
