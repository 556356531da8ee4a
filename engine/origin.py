"""Where a decision comes from: the fields every decision about one source event shares."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from schemas.card_transactions import TOPIC as CARD_TOPIC
from schemas.card_transactions import CardTransaction
from schemas.member_enrolment import TOPIC as ENROLMENT_TOPIC


class Origin(TypedDict):
    """Spread into a decision: `Denied(**origin, member_id=..., ...)`."""

    source_event_id: str
    source_topic: str
    occurred_at: datetime
    card_id: str | None
    transaction_id: str | None


def of_transaction(tx: CardTransaction) -> Origin:
    """A card transaction; for a refund, `transaction_id` is the purchase it refers to."""
    return {
        "source_event_id": tx.event_id,
        "source_topic": CARD_TOPIC,
        "occurred_at": tx.occurred_at,
        "card_id": tx.card_id,
        "transaction_id": tx.original_transaction_id or tx.transaction_id,
    }


def of_enrolment(event_id: str, occurred_at: datetime) -> Origin:
    return {
        "source_event_id": event_id,
        "source_topic": ENROLMENT_TOPIC,
        "occurred_at": occurred_at,
        "card_id": None,
        "transaction_id": None,
    }


def of_day(event_id: str, start: datetime, topic: str) -> Origin:
    return {
        "source_event_id": event_id,
        "source_topic": topic,
        "occurred_at": start,
        "card_id": None,
        "transaction_id": None,
    }
