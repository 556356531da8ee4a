"""Who may be paid at an instant: the card's holder then, and whether they were a member then."""

from __future__ import annotations

from datetime import datetime

from engine.state import CardHolding, Member

CARD_NOT_ISSUED = "card_not_issued"
NOT_REGISTERED = "not_registered"
MEMBER_LEFT = "member_left"


def card_holder(holdings: tuple[CardHolding, ...], at: datetime) -> tuple[str | None, str | None]:
    """(member, None) if the card was in a member's hands at `at`, else (last holder, reason).

    The reason is how the last holding before `at` ended (`card_blocked`, `card_cancelled`),
    or `card_not_issued` when the card had not been issued by then.
    """
    ended: CardHolding | None = None
    for holding in holdings:
        if holding.covers(at):
            return holding.member_id, None
        if holding.issued_at <= at and (ended is None or holding.issued_at >= ended.issued_at):
            ended = holding
    if ended is None:
        return None, CARD_NOT_ISSUED
    return ended.member_id, ended.end_reason or CARD_NOT_ISSUED


def membership_problem(member: Member | None, at: datetime) -> str | None:
    """None if `member` was registered (and had not left) at `at`, else the reason code."""
    if member is None:
        return NOT_REGISTERED
    left = False
    for membership in member.memberships:
        if membership.covers(at):
            return None
        left = left or (membership.left_at is not None and membership.left_at <= at)
    return MEMBER_LEFT if left else NOT_REGISTERED
