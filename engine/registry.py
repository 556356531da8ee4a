"""The member registry: who was a member, and who held which card, at every instant.

Registry events change the registry as of their `occurred_at`; they make a member or a card
known, which releases the events held for it. A block or cancel that arrives before the card's
issue makes nothing known: it is kept, and the issue applies it (rule 3). A registration (or a
corrected birth date) that arrives after its birthday's tick pays that day's gift (rule 4).
"""

from __future__ import annotations

from datetime import datetime

from engine.birthday import catch_up
from engine.catalogue import Catalogue
from engine.draft import Draft
from engine.state import CardHolding, CardStop, Member, Membership
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
    member = Member(
        event.member_id, event.birth_date, event.union_branch, _joined(spans, event.occurred_at)
    )
    draft.put_member(member)
    catch_up(known, member, draft, catalogue)
    draft.arrived("member", event.member_id, event.event_id)


def updated(event: MemberUpdated, draft: Draft, catalogue: Catalogue) -> None:
    before = draft.member(event.member_id)
    known = before or Member(event.member_id, None, None)
    member = known._replace(
        birth_date=event.birth_date or known.birth_date,
        union_branch=event.union_branch or known.union_branch,
    )
    draft.put_member(member)
    catch_up(before, member, draft, catalogue)


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
    issued = tuple(sorted((*ended, new), key=lambda h: h.issued_at))
    if not holdings:  # the first issue: blocks that arrived before it now end it
        for stop in draft.card_stops(event.card_id):
            issued = _stopped(issued, stop.at, stop.reason)
        if draft.card_stops(event.card_id):
            draft.put_card_stops(event.card_id, ())
    draft.put_card(event.card_id, issued)
    draft.arrived("card", event.card_id, event.event_id)


def card_stopped(event: CardBlocked | CardCancelled, draft: Draft, catalogue: Catalogue) -> None:
    """From `occurred_at` the card pays for nothing. A card not issued yet stays unknown (its
    swipes keep waiting for the issue); the stop is kept for the issue to apply."""
    at, known = event.occurred_at, draft.holdings(event.card_id)
    if not known:
        stop = CardStop(event.member_id, at, event.type)
        draft.put_card_stops(event.card_id, (*draft.card_stops(event.card_id), stop))
        return
    holdings = _stopped(known, at, event.type)
    if holdings != known:
        draft.put_card(event.card_id, holdings)


Holdings = tuple[CardHolding, ...]


def _stopped(holdings: Holdings, at: datetime, reason: str) -> Holdings:
    return tuple(h._replace(ended_at=at, end_reason=reason) if h.covers(at) else h
                 for h in holdings)


def _joined(spans: tuple[Membership, ...], at: datetime) -> tuple[Membership, ...]:
    """The memberships once registered at `at` (no change if already a member then)."""
    if any(span.covers(at) for span in spans):
        return spans
    later = [span.registered_at for span in spans if span.registered_at > at]
    joined = Membership(at, min(later) if later else None)
    return tuple(sorted((*spans, joined), key=lambda span: span.registered_at))
