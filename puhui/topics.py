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

INBOUND: Final = (CARD_TRANSACTIONS, MEMBER_ENROLMENT, CLOCK_DAYS)
"""The federation's record of what happened: kept long enough to replay a year (`puhui
simulate --from-kafka`)."""

INBOUND_RETENTION_DAYS: Final = 400
"""Default retention of the inbound topics: a whole year and the one before it, with room.
`PUHUI_INBOUND_RETENTION_DAYS` changes it (`puhui stack up`, `puhui stack topics`)."""

MS_PER_DAY: Final = 86_400_000


def topic_configs(
    inbound_retention_days: int = INBOUND_RETENTION_DAYS,
) -> dict[str, dict[str, str]]:
    """The per-topic configuration Puhui sets: retention of the inbound topics (the others keep
    the broker's `log.retention.hours`)."""
    retention = str(inbound_retention_days * MS_PER_DAY)
    return {name: {"retention.ms": retention} if name in INBOUND else {} for name in PARTITIONS}


KEY_FIELDS: Final[dict[str, str]] = {
    CARD_TRANSACTIONS: "card_id",
    MEMBER_ENROLMENT: "member_id",
    CLOCK_DAYS: "date",
}
"""The field of an inbound message whose value is its Kafka key (docs/PRODUCT.md)."""


def key_of(topic: str, value: Mapping[str, object]) -> bytes:
    """The Kafka key of an inbound message: its card, its member or its date."""
    return str(value[KEY_FIELDS[topic]]).encode()
