"""Every topic of the contract and the type of its messages."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from schemas import (
    audit,
    card_transactions,
    clock_days,
    dead_letters,
    member_enrolment,
    payouts,
    signals,
    topics,
)

MESSAGE_TYPES: dict[str, TypeAdapter[Any]] = {
    card_transactions.TOPIC: TypeAdapter(card_transactions.CardTransaction),
    member_enrolment.TOPIC: member_enrolment.ENROLMENT_EVENT,
    clock_days.TOPIC: TypeAdapter(clock_days.DayStarted),
    payouts.TOPIC: TypeAdapter(payouts.Payout),
    audit.TOPIC: TypeAdapter(audit.AuditRecord),
    dead_letters.TOPIC: TypeAdapter(dead_letters.DeadLetter),
    signals.TOPIC: TypeAdapter(signals.Signal),
}
"""Topic -> validator of one message value (a JSON object)."""

INBOUND = frozenset(topics.INBOUND)
"""The topics we consume; the others we produce."""
