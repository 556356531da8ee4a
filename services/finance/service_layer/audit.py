"""A finance action as an audit record, sent through the outbox in the action's transaction.

The audit service appends it to the hash-chained trail like any decision. Who did it travels
twice: in `actor` (the contract's field for it) and as the first trace step, which the trail
already stores and hashes (see docs/finance.md: the trail keeps no `actor` column yet).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from schemas.audit import FINANCE_TOPIC, TOPIC, AuditDecision, AuditRecord
from schemas.payouts import TraceStep
from services.finance.domain.staff import Staff
from services.runtime.outbox import OutboxMessage


def finance_action(decision: AuditDecision, staff: Staff, now: datetime, *,
                   details: Sequence[tuple[str, str]], programme: str | None = None,
                   member_id: str | None = None, amount_fen: int = 0) -> OutboxMessage:
    """The outbox message recording that `staff` did `decision` at `now`."""
    via = [("token", f"with API token {staff.token_id}")] if staff.token_id else []
    return audit_message(decision, str(staff), staff.username, now, [*via, *details],
                         programme=programme, member_id=member_id, amount_fen=amount_fen)


def audit_message(decision: AuditDecision, actor: str, key: str, now: datetime,
                  details: Sequence[tuple[str, str]], *, programme: str | None = None,
                  member_id: str | None = None, amount_fen: int = 0) -> OutboxMessage:
    """The outbox message recording `decision` by `actor` (for a sign-in: who it claimed to
    be, from where), keyed by `key`."""
    action_id = str(uuid.uuid4())
    record = AuditRecord(
        audit_id=f"fin_{action_id}", decision=decision, reason=None, programme=programme,
        member_id=member_id, card_id=None, source_event_id=action_id,
        source_topic=FINANCE_TOPIC, transaction_id=None, amount_fen=amount_fen,
        occurred_at=now, actor=actor,
        trace=[TraceStep(rule="actor", outcome=actor),
               *(TraceStep(rule=rule, outcome=outcome) for rule, outcome in details)])
    return OutboxMessage(TOPIC, key.encode(), record.model_dump_json().encode())
