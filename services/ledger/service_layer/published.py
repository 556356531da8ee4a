"""What a batch publishes, each piece built once, straight to the contract's JSON.

A payout's trace is made and written once, and shared as written by its payout, its audit
record and the `trace` column; the JSON comes from `engine.wire` (the same bytes as
the contract models' `model_dump_json()`, without building and validating the models again
on the hot path).
`tests/unit/test_published.py` holds the result equal to the engine's own `to_payout()` and
`to_audit()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from engine import wire
from engine.decisions import ClawedBack, Decision, Paid
from schemas import audit, payouts
from schemas.payouts import PayoutKind
from services.runtime.outbox import OutboxMessage


@dataclass(frozen=True, slots=True)
class PublishedPayout:
    """A payout's columns (the fields of `schemas.payouts.Payout` but its trace), and what
    is published of it."""

    payout_id: str
    member_id: str
    programme: str
    amount_fen: int
    kind: PayoutKind
    source_event_id: str
    transaction_id: str | None
    period: str
    occurred_at: datetime
    body: bytes
    """The payout as published on `payouts`."""
    trace_json: str
    """Its trace alone, for the `payouts` table (and, as written, in its audit record)."""


def payouts_of(decisions: Sequence[Decision]) -> list[PublishedPayout]:
    """The payout of every decision that moves money, in order."""
    found = []
    for decision in decisions:
        if isinstance(decision, Paid | ClawedBack):
            trace = wire.trace_json(decision.trace)
            value = wire.payout_value(decision, orjson.Fragment(trace))
            found.append(PublishedPayout(
                value["payout_id"], value["member_id"], value["programme"],
                decision.amount_fen, decision.payout_kind, decision.source_event_id,
                decision.transaction_id, value["period"], decision.occurred_at,
                wire.dumps(value), trace.decode()))
    return found


def outbox_messages(decisions: Sequence[Decision],
                    money: Sequence[PublishedPayout]) -> list[OutboxMessage]:
    """Every payout on `payouts` (key: member), then every decision's audit record."""
    messages = [OutboxMessage(payouts.TOPIC, p.member_id.encode(), p.body) for p in money]
    traces = iter(p.trace_json for p in money)
    for decision in decisions:
        key = (decision.member_id or decision.source_event_id).encode()
        trace = orjson.Fragment(next(traces) if isinstance(decision, Paid | ClawedBack)
                                else wire.trace_json(decision.trace))
        messages.append(OutboxMessage(audit.TOPIC, key,
                                      wire.dumps(wire.audit_value(decision, trace))))
    return messages
