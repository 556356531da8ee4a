"""One-off awards to a member: a skill certificate (`member_certified`, by level) or an honour
(`member_honoured`, by title). The member must be registered at the event's time; an event
about a member not known yet waits for their registration."""

from __future__ import annotations

from puhui.engine.catalogue import Catalogue
from puhui.engine.draft import Draft
from puhui.engine.eligibility import membership_problem
from puhui.engine.grant import grant, period_of
from puhui.engine.holds import hold
from puhui.engine.origin import of_enrolment
from puhui.engine.payments import deny, settle
from puhui.engine.periods import local_date
from puhui.engine.programme import EventKind
from puhui.engine.trace import Checked, Matched
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
