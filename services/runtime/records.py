"""Kafka records as the service layer sees them, decoded or dead-lettered."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.dead_letters import TOPIC as DEAD_LETTER_TOPIC
from schemas.dead_letters import DeadLetter, DeadLetterKind
from schemas.decode import InboundEvent, Invalid, decode
from services.runtime.outbox import OutboxMessage


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One consumed message: where it came from and its raw bytes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class Decoded:
    record: InboundRecord
    event: InboundEvent


# For a caller that states no kind (the audit service's intake gives pydantic's own words):
# the kind guessed from how the reason begins.
_REASON_PREFIXES: tuple[tuple[str, DeadLetterKind], ...] = (
    ("not valid JSON", "not_json"), ("Invalid JSON", "not_json"),
    ("not a JSON object", "not_object"), ("Input should be an object", "not_object"),
    ("unknown topic", "unknown_topic"), ("unknown type", "unknown_type"),
    ("missing field", "missing_field"), ("empty message", "empty"))


def kind_of_reason(reason: str) -> DeadLetterKind:
    """The kind a bare reason names (`missing field card_id` -> `missing_field`)."""
    for prefix, kind in _REASON_PREFIXES:
        if reason.startswith(prefix):
            return kind
    return "invalid_value"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message dead-lettered: `reason` in words, `kind` its class (guessed from the reason
    when a caller states none)."""

    record: InboundRecord
    reason: str
    stated_kind: DeadLetterKind | None = None

    @property
    def kind(self) -> DeadLetterKind:
        return self.stated_kind or kind_of_reason(self.reason)

    def dead_letter(self, now: datetime) -> DeadLetter:
        return DeadLetter(
            reason=self.reason, kind=self.kind, source_topic=self.record.topic,
            partition=self.record.partition,
            offset=self.record.offset, raw=base64.b64encode(self.record.value).decode(),
            received_at=now)

    def outbox_message(self, now: datetime) -> OutboxMessage:
        body = self.dead_letter(now).model_dump_json().encode()
        return OutboxMessage(DEAD_LETTER_TOPIC, self.record.key, body)


def decode_batch(records: Sequence[InboundRecord]) -> tuple[list[Decoded], list[Rejected]]:
    """Split a batch into decoded events and rejected messages, keeping their order."""
    decoded: list[Decoded] = []
    rejected: list[Rejected] = []
    for record in records:
        if not record.value:  # a tombstone or an empty message carries no event
            rejected.append(Rejected(record, "empty message: no value to decode", "empty"))
            continue
        result = decode(record.topic, record.value)
        if isinstance(result, Invalid):
            rejected.append(Rejected(record, result.reason, result.kind))
        else:
            decoded.append(Decoded(record, result))
    return decoded, rejected


def utc_now() -> datetime:
    return datetime.now(UTC)
