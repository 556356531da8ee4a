"""Splitting a batch into events and dead letters."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from services.runtime.records import InboundRecord, decode_batch

GOOD = (b'{"event_id": "5b0f1f44-6f3e-4a57-9a84-07b9f6fb0b1e", "type": "day_started", '
        b'"date": "2027-03-01"}')


def test_good_and_bad_messages_are_split_in_order() -> None:
    records = [InboundRecord("clock.days", 0, 0, b"d", GOOD),
               InboundRecord("clock.days", 0, 1, b"d", b"{oops"),
               InboundRecord("clock.days", 0, 2, None, b"")]
    decoded, rejected = decode_batch(records)
    assert [d.record.offset for d in decoded] == [0]
    assert [(r.record.offset, r.reason.split(":")[0]) for r in rejected] == [
        (1, "not valid JSON"), (2, "empty message")]


def test_a_dead_letter_keeps_where_it_came_from_and_the_raw_bytes() -> None:
    record = InboundRecord("card.transactions", 3, 42, b"k", b"\xff\xfe not json")
    _, [rejected] = decode_batch([record])
    letter = rejected.dead_letter(datetime(2027, 3, 1, tzinfo=UTC))
    assert (letter.source_topic, letter.partition, letter.offset) == ("card.transactions", 3, 42)
    assert base64.b64decode(letter.raw) == b"\xff\xfe not json"
    assert letter.reason.startswith("not valid JSON")
