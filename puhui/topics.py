"""Every Kafka topic Puhui uses, with the partition count the services need.

Partitions bound how many instances of a service can share a topic's work; card transactions
get the most because disbursement is the service that scales out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

CARD_TRANSACTIONS: Final = "card.transactions"
MEMBER_ENROLMENT: Final = "member.enrolment"
CLOCK_DAYS: Final = "clock.days"
PAYOUTS: Final = "payouts"
AUDIT: Final = "audit"
DEAD_LETTERS: Final = "puhui.dead-letters"

PARTITIONS: Final[dict[str, int]] = {
    CARD_TRANSACTIONS: 8,
    MEMBER_ENROLMENT: 4,
    CLOCK_DAYS: 1,
    PAYOUTS: 4,
    AUDIT: 4,
    DEAD_LETTERS: 1,
}

KEY_FIELDS: Final[dict[str, str]] = {
    CARD_TRANSACTIONS: "card_id",
    MEMBER_ENROLMENT: "member_id",
    CLOCK_DAYS: "date",
}
"""The field of an inbound message whose value is its Kafka key (docs/PRODUCT.md)."""


def key_of(topic: str, value: Mapping[str, object]) -> bytes:
    """The Kafka key of an inbound message: its card, its member or its date."""
    return str(value[KEY_FIELDS[topic]]).encode()
