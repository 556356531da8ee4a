"""Topic `audit`: one event per decision, including every denial with its reason code."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from schemas.common import Fen, Identifier, OutboundModel
from schemas.payouts import TraceStep

TOPIC = "audit"

AuditDecision = Literal["paid", "cut", "denied", "clawed_back", "held", "released", "no_change"]


class AuditRecord(OutboundModel):
    """What was decided about one source event, and why.

    `reason` is a reason code (`not_registered`, `card_blocked`, `limit_reached`,
    `budget_exhausted`, `no_programme_matched`, ...) for anything but a plain payout.
    """

    audit_id: Identifier
    decision: AuditDecision
    reason: str | None
    programme: str | None
    member_id: str | None
    card_id: str | None
    source_event_id: Identifier
    source_topic: Identifier
    transaction_id: str | None
    amount_fen: Fen
    occurred_at: AwareDatetime
    trace: list[TraceStep]
