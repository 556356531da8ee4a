"""What a batch publishes, each piece built and validated once.

A payout's trace steps are made once and shared by its payout and its audit record (the
engine's `to_payout()` and `to_audit()` would each make them); a payout is dumped once, and
its trace column is cut from that dump. `tests/unit/test_published.py` holds the result equal
to the engine's own `to_payout()` and `to_audit()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from puhui.engine.decisions import ClawedBack, Decision, Paid
from schemas import audit, payouts
from schemas.audit import AuditRecord
from schemas.payouts import Payout, TraceStep
from services.runtime.outbox import OutboxMessage


@dataclass(frozen=True, slots=True)
class PublishedPayout:
    payout: Payout
    body: bytes
    """The payout as published on `payouts`."""
    trace_json: str
    """Its trace alone, for the `payouts` table."""


def payouts_of(decisions: Sequence[Decision]) -> list[PublishedPayout]:
    """The payout of every decision that moves money, in order."""
    found = []
    for decision in decisions:
        if isinstance(decision, Paid | ClawedBack):
            payout = decision.to_payout()
            value = payout.model_dump(mode="json")
            found.append(PublishedPayout(payout, orjson.dumps(value),
                                         orjson.dumps(value["trace"]).decode()))
    return found


def outbox_messages(decisions: Sequence[Decision],
                    money: Sequence[PublishedPayout]) -> list[OutboxMessage]:
    """Every payout on `payouts` (key: member), then every decision's audit record."""
    messages = [OutboxMessage(payouts.TOPIC, p.payout.member_id.encode(), p.body) for p in money]
    traces = iter(p.payout.trace for p in money)
    for decision in decisions:
        key = (decision.member_id or decision.source_event_id).encode()
        record = audit_record(decision, next(traces)) \
            if isinstance(decision, Paid | ClawedBack) else decision.to_audit()
        messages.append(OutboxMessage(audit.TOPIC, key, record.model_dump_json().encode()))
    return messages


def audit_record(decision: Decision, trace: list[TraceStep]) -> AuditRecord:
    """`decision.to_audit()`, with trace steps already made."""
    return AuditRecord(
        audit_id=decision.audit_id, decision=decision.decision, reason=decision.reason,
        programme=decision.programme, member_id=decision.member_id, card_id=decision.card_id,
        source_event_id=decision.source_event_id, source_topic=decision.source_topic,
        transaction_id=decision.transaction_id, amount_fen=decision.amount_fen,
        occurred_at=decision.occurred_at, trace=trace)
