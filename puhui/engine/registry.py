"""The member registry: who was a member, and who held which card, at every instant.

Registry events change the registry as of their `occurred_at` and decide nothing themselves;
they make a member or a card known, which releases the events held for it.
"""

from __future__ import annotations

from datetime import datetime

from puhui.engine.catalogue import Catalogue
from puhui.engine.draft import Draft
from puhui.engine.state import CardHolding, Member, Membership
from schemas.member_enrolment import (
    CardBlocked,
    CardCancelled,
    CardIssued,
    MemberLeft,
    MemberRegistered,
    MemberUpdated,
)

REISSUED = "reissued"


def registered(event: MemberRegistered, draft: Draft, catalogue: Catalogue) -> None:
    known = draft.member(event.member_id)
    spans = () if known is None else known.memberships
    draft.put_member(
        Member(
            event.member_id, event.birth_date, event.union_branch, _joined(spans, event.occurred_at)
        )
    )
    draft.arrived("member", event.member_id, event.event_id)


def updated(event: MemberUpdated, draft: Draft, catalogue: Catalogue) -> None:
    known = draft.member(event.member_id) or Member(event.member_id, None, None)
    draft.put_member(
        known._replace(
            birth_date=event.birth_date or known.birth_date,
            union_branch=event.union_branch or known.union_branch,
        )
    )


def left(event: MemberLeft, draft: Draft, catalogue: Catalogue) -> None:
    known = draft.member(event.member_id)
    if known is None:
        return
    at = event.occurred_at
    spans = tuple(s._replace(left_at=at) if s.covers(at) else s for s in known.memberships)
    if spans != known.memberships:
        draft.put_member(known._replace(memberships=spans))


def card_issued(event: CardIssued, draft: Draft, catalogue: Catalogue) -> None:
    at, holdings = event.occurred_at, draft.holdings(event.card_id) or ()
    if any(h.covers(at) and h.member_id == event.member_id for h in holdings):
        return  # issued to this member already
    ended = tuple(
        h._replace(ended_at=at, end_reason=REISSUED) if h.covers(at) else h for h in holdings
    )
    later = [h.issued_at for h in ended if h.issued_at > at]
    new = CardHolding(event.member_id, at, min(later) if later else None, None)
    draft.put_card(event.card_id, tuple(sorted((*ended, new), key=lambda h: h.issued_at)))
    draft.arrived("card", event.card_id, event.event_id)


def card_stopped(event: CardBlocked | CardCancelled, draft: Draft, catalogue: Catalogue) -> None:
    """From `occurred_at` the card pays for nothing; a card never issued is known as stopped."""
    at, known = event.occurred_at, draft.holdings(event.card_id)
    if known is None:
        draft.put_card(event.card_id, (CardHolding(event.member_id, at, at, event.type),))
        draft.arrived("card", event.card_id, event.event_id)
        return
    holdings = tuple(
        h._replace(ended_at=at, end_reason=event.type) if h.covers(at) else h for h in known
    )
    if holdings != known:
        draft.put_card(event.card_id, holdings)


def _joined(spans: tuple[Membership, ...], at: datetime) -> tuple[Membership, ...]:
    """The memberships once registered at `at` (no change if already a member then)."""
    if any(span.covers(at) for span in spans):
        return spans
    later = [span.registered_at for span in spans if span.registered_at > at]
    joined = Membership(at, min(later) if later else None)
    return tuple(sorted((*spans, joined), key=lambda span: span.registered_at))
