"""Turning a grant into a decision: a payout that counts in its limits and budget, or a denial."""

from __future__ import annotations

from engine.decisions import Denied, Paid
from engine.draft import Draft
from engine.grant import NOTHING_TO_PAY, Grant
from engine.origin import Origin
from engine.trace import Step


def settle(
    draft: Draft,
    origin: Origin,
    member_id: str,
    programme: str,
    steps: tuple[Step, ...],
    granted: Grant,
) -> Paid | Denied:
    """Pay `granted` (counting it in every limit and the budget), or deny it for its reason."""
    if granted.amount_fen == 0:
        denied = Denied(
            **origin,
            member_id=member_id,
            programme=programme,
            period=granted.period,
            reason=granted.reason or NOTHING_TO_PAY,
            trace=steps,
        )
        draft.decide(denied)
        return denied
    for key in granted.usage_keys:
        draft.count_usage(key, 1, granted.amount_fen)
    draft.spend(granted.budget_key, granted.amount_fen)
    paid = Paid(
        **origin,
        member_id=member_id,
        programme=programme,
        period=granted.period,
        amount_fen=granted.amount_fen,
        reason=granted.reason,
        trace=steps,
        base_fen=granted.base_fen,
    )
    draft.decide(paid)
    return paid


def deny(
    draft: Draft,
    origin: Origin,
    member_id: str | None,
    programme: str | None,
    period: str | None,
    reason: str,
    steps: tuple[Step, ...],
) -> None:
    draft.decide(
        Denied(
            **origin,
            member_id=member_id,
            programme=programme,
            period=period,
            reason=reason,
            trace=steps,
        )
    )
