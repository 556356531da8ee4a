"""Consumed messages become chain entries, or dead letters with a reason; never a poison pill."""

from __future__ import annotations

import orjson

from services.audit.domain.chain import Entry
from services.audit.service_layer.intake import admit, read_entry
from services.runtime.records import InboundRecord
from tests.unit.audit.builders import audit_record


def _value(n: int, **changes: object) -> bytes:
    document = orjson.loads(audit_record(n).model_dump_json())
    return orjson.dumps(document | changes)


def _inbound(offset: int, value: bytes | None) -> InboundRecord:
    return InboundRecord("audit", 0, offset, b"k", value)  # type: ignore[arg-type]  # tombstone


def test_a_valid_record_becomes_an_entry_with_its_canonical_bytes() -> None:
    entry = read_entry(_value(1))
    assert isinstance(entry, Entry)
    assert entry.record.audit_id == "aud-1"
    assert entry.canonical == entry.record.canonical_bytes()


def test_admit_keeps_order_and_rejects_what_cannot_be_read() -> None:
    batch = [_inbound(0, _value(1)), _inbound(1, b"not json"), _inbound(2, _value(2)),
             _inbound(3, None), _inbound(4, _value(3, amount_fen="100"))]
    entries, rejected = admit(batch)
    assert [e.record.audit_id for e in entries] == ["aud-1", "aud-2"]
    assert [r.record.offset for r in rejected] == [1, 3, 4]
    assert rejected[0].reason.startswith("Invalid JSON")
    assert rejected[1].record.value == b""
    assert rejected[2].reason == "amount_fen: must be an integer, got '100'"


def test_an_unknown_field_is_refused() -> None:
    assert read_entry(_value(1, extra=1)) == "extra: is not a field of this message"


def test_text_with_a_nul_character_is_refused() -> None:
    assert read_entry(_value(1, member_id="mem\x001")) == (
        "member_id: must not contain a NUL character")
    trace = [{"rule": "matched", "outcome": "a\x00b"}]
    assert read_entry(_value(1, trace=trace)) == "trace[0]: must not contain a NUL character"


def test_an_amount_beyond_bigint_is_refused() -> None:
    assert read_entry(_value(1, amount_fen=2**63)) == "amount_fen: must fit in 64 bits"
    assert isinstance(read_entry(_value(1, amount_fen=-(2**63))), Entry)


def test_a_trace_amount_json_cannot_carry_is_refused() -> None:
    huge = b'{"rule": "x", "outcome": "y", "amount_fen": 100000000000000000000000}'
    value = _value(1).replace(b'"trace":[', b'"trace":[' + huge + b",")
    reason = read_entry(value)
    assert isinstance(reason, str)
    assert reason.startswith("has no canonical form")
