"""Every Kafka topic Puhui uses, declared once: its name (each topic's own schema module's
`TOPIC`), its partition count, the field whose value is its messages' key, and the consumer
group of each service that reads topics.

Partitions bound how many instances of a service can share a topic's work; card transactions
get the most because disbursement is the service that scales out (docs/deploy.md). Kafka can
add partitions to a topic but never remove them, and a key moves when the count changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from schemas import (
    audit,
    card_transactions,
    clock_days,
    dead_letters,
    member_enrolment,
    payouts,
    signals,
)

CARD_TRANSACTIONS: Final = card_transactions.TOPIC
MEMBER_ENROLMENT: Final = member_enrolment.TOPIC
CLOCK_DAYS: Final = clock_days.TOPIC
PAYOUTS: Final = payouts.TOPIC
AUDIT: Final = audit.TOPIC
DEAD_LETTERS: Final = dead_letters.TOPIC
SIGNALS: Final = signals.TOPIC


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    key_field: str | None = None
    """The inbound message's field whose value is its Kafka key (docs/PRODUCT.md); None for
    what we produce, keyed by the relay from the outbox row."""


TOPICS: Final[tuple[Topic, ...]] = (
    Topic(CARD_TRANSACTIONS, 8, "card_id"),
    Topic(MEMBER_ENROLMENT, 4, "member_id"),
    Topic(CLOCK_DAYS, 1, "date"),
    Topic(PAYOUTS, 4),
    Topic(AUDIT, 4),
    Topic(DEAD_LETTERS, 1),
    Topic(SIGNALS, 1),
)
PARTITIONS: Final[dict[str, int]] = {t.name: t.partitions for t in TOPICS}
KEY_FIELDS: Final[dict[str, str]] = {t.name: t.key_field for t in TOPICS if t.key_field}
"""The field of an inbound message whose value is its Kafka key (docs/PRODUCT.md)."""

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

CONSUMER_GROUPS: Final[dict[str, str]] = {
    "enrolment": "puhui-enrolment",
    "disbursement": "puhui-disbursement",
    "audit": "puhui-audit",
}
"""Each consuming service's Kafka consumer group (the relay reads the tails of the topics it
publishes to without a group)."""


def key_of(topic: str, value: Mapping[str, object]) -> bytes:
    """The Kafka key of an inbound message: its card, its member or its date."""
    return str(value[KEY_FIELDS[topic]]).encode()
