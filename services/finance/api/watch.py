"""Watch: the signals of possible subsidy abuse, and an approver's review of each.

A signal is advice: reviewing or escalating it changes no payout. Every review goes into the
audit trail like any other finance action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from schemas.audit import AuditDecision
from schemas.signals import Signal
from services.finance.adapters.watch import WatchStore, WatchViews
from services.finance.api import models
from services.finance.api.security import Approver, FinanceDep, Reviewer
from services.finance.domain.watch import NOTE_MAX, SignalAction
from services.finance.service_layer.audit import finance_action

router = APIRouter(prefix="/api", tags=["watch"],
                   responses=models.problem_responses(400, 401, 403, 422))
SignalId = Annotated[str, Path(max_length=64, pattern=r"^sig_[0-9a-f]+$")]
Status = Literal["open", "escalated", "reviewed"]


class WatchSignal(Signal):
    """The watch's signal (the contract, schemas/signals.py) and where its review stands."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    raised_at: datetime
    status: Status
    reviewed_by: str | None
    reviewed_at: datetime | None
    note: str | None


class SignalDetail(BaseModel):
    signal: WatchSignal
    payouts: list[dict[str, Any]]
    """The merchant's payouts from 6 hours before the window to 6 hours after (merchants)."""
    decisions: list[dict[str, Any]]
    """What the ledger decided on the signal's example transactions."""


class SignalReview(BaseModel):
    action: SignalAction
    note: Annotated[str, Field(min_length=1, max_length=NOTE_MAX, pattern=r"^[^\x00]+$")]


@router.get("/signals", response_model=list[WatchSignal])
async def signals(
    _: Reviewer, fin: FinanceDep, status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[WatchSignal]:
    """The watch's signals, newest first: open and escalated ones unless `status` says."""
    return [WatchSignal(**row) for row in await WatchViews(fin.pool).signals(status, limit)]


@router.get("/signals/{signal_id}", response_model=SignalDetail,
            responses=models.problem_responses(404))
async def signal(signal_id: SignalId, _: Reviewer, fin: FinanceDep) -> SignalDetail:
    """One signal with its figures, and the transactions and payouts around it."""
    views = WatchViews(fin.pool)
    row = await views.signal(signal_id)
    if row is None:
        raise HTTPException(404, f"no signal {signal_id}")
    payouts = await views.payouts_near(row["key"], row["window_start"], row["window_end"]) \
        if row["key_kind"] == "merchant" else []
    return SignalDetail(signal=WatchSignal(**row), payouts=payouts,
                        decisions=await views.decisions(row["examples"]))


@router.post("/signals/{signal_id}/review", response_model=WatchSignal,
             responses=models.problem_responses(404, 409))
async def review(signal_id: SignalId, body: SignalReview, staff: Approver,
                 fin: FinanceDep) -> WatchSignal:
    """Mark a signal reviewed, or escalate it, with a note; recorded in the audit trail."""
    now = fin.now()
    decision: AuditDecision = "signal_reviewed" if body.action is SignalAction.REVIEW \
        else "signal_escalated"
    audit = finance_action(decision, staff, now,
                           details=[("signal", signal_id), ("note", body.note)])
    row = await WatchStore(fin.pool).act(signal_id, body.action, body.note, staff.username,
                                         now, audit)
    return WatchSignal(**row)
