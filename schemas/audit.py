"""Topic `audit`: one event per decision, including every denial with its reason code."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from schemas.common import Fen, Identifier, OutboundModel
from schemas.payouts import TraceStep

TOPIC = "audit"

AuditDecision = Literal[
    "paid", "cut", "denied", "clawed_back", "held", "released", "no_change",
    # what finance staff did (source_topic `finance`), each with its `actor`
    "batch_prepared", "batch_approved", "payout_approved", "payout_requeued",
    "settlement_exported", "confirmation_imported", "view_exported",
    # finance security: a wrong password (and any back-off it started), API tokens
    "sign_in_failed", "api_token_created", "api_token_revoked",
]

FINANCE_TOPIC = "finance"
"""The `source_topic` of what finance staff did (services/finance), rather than a Kafka topic."""


class AuditRecord(OutboundModel):
    """What was decided about one source event, and why.

    `reason` is a reason code (`not_registered`, `card_blocked`, `limit_reached`,
    `budget_exhausted`, `no_programme_matched`, ...) for anything but a plain payout.
    A finance action (approval, export, import) has `source_topic` `finance`, its own id as
    `source_event_id`, `occurred_at` when it was done and `actor` who did it.
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
    actor: str | None = None
    """Who took a finance action: `user name (role)`; null for the services' decisions."""
