"""The intake's fast reader gives what the contract's pydantic model gives, or leaves the
message to it: the same entries, the same canonical bytes and chain hashes as before, and
the same reasons (so the same dead-letter kinds) for everything refused."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, get_args

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.audit import AuditDecision, AuditRecord
from services.audit.adapters.trail import COLUMNS, copy_rows
from services.audit.domain.chain import EMPTY, GENESIS, Entry, extend, verify
from services.audit.domain.record import TrailRecord, utc_text
from services.audit.service_layer.intake import read_entry, validated_entry
from services.audit.service_layer.well_formed import well_formed_entry
from services.runtime.records import kind_of_reason
from tests.unit.audit.builders import audit_record

SCHEMAS = Path(__file__).parents[3] / "schemas" / "examples"
AUDIT_EXAMPLES = sorted((SCHEMAS / "audit").glob("*.json"))
OTHER_EXAMPLES = sorted(p for p in SCHEMAS.glob("*/*.json") if p.parent.name != "audit")
RECORDED = datetime(2027, 3, 2, 0, 20, 0, 5, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def old_utc_text(moment: datetime) -> str:
    """`utc_text` as it was written before the intake was made fast: the reference."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def old_canonical(record: AuditRecord) -> bytes:
    """The canonical bytes as they were made before: from the pydantic model, by record.py's
    definition, with the reference `old_utc_text`."""
    trace = [{"amount_fen": s.amount_fen, "outcome": s.outcome, "rule": s.rule}
             for s in record.trace]
    document = {**record.model_dump(), "occurred_at": old_utc_text(record.occurred_at),
                "trace": trace}
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def old_hashes(canonicals: list[bytes]) -> list[bytes]:
    """Chain format 2 as chain.py's docstring defines it, from the start of the chain."""
    hashes, prev = [], GENESIS
    for seq, canonical in enumerate(canonicals, start=1):
        link = b"".join((b'{"format":2,"record":', canonical, b',"recorded_at":"',
                         old_utc_text(RECORDED).encode(), b'","seq":', str(seq).encode(), b"}"))
        prev = hashlib.sha256(prev + link).digest()
        hashes.append(prev)
    return hashes


def assert_same_reading(value: bytes) -> Entry | str:
    """`read_entry` (fast when it can) and the contract's reader agree on `value`."""
    fast, reference = read_entry(value), validated_entry(value)
    assert fast == reference
    if isinstance(fast, Entry):
        assert isinstance(reference, Entry)
        assert fast.canonical == reference.canonical == reference.record.canonical_bytes()
        assert fast.record.trace_json() == reference.record.trace_json()
        assert fast.record.occurred_at.utcoffset() == reference.record.occurred_at.utcoffset()
    else:
        assert kind_of_reason(fast) == kind_of_reason(str(reference))
    return fast


# --- what the ledger and finance send ------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=12)
ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12)
amounts = st.one_of(st.integers(-(10**12), 10**12), st.integers(-(2**70), 2**70))
offsets = st.one_of(
    st.just(UTC), st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
        lambda m: timezone(timedelta(minutes=m))),
    st.integers(-86399, 86399).map(lambda s: timezone(timedelta(seconds=s))))
EARLIEST, LATEST = datetime(1, 1, 2), datetime(9999, 12, 30)  # noqa: DTZ001  # naive bounds
instants = st.datetimes(EARLIEST, LATEST, timezones=offsets)
steps = st.fixed_dictionaries(
    {"rule": ids, "outcome": texts}, optional={"amount_fen": st.one_of(st.none(), amounts)})


@st.composite
def audit_records(draw: st.DrawFn) -> AuditRecord:
    optional = st.one_of(st.none(), texts)
    fields: dict[str, Any] = {
        "audit_id": draw(ids), "decision": draw(st.sampled_from(get_args(AuditDecision))),
        "reason": draw(optional), "programme": draw(optional), "member_id": draw(optional),
        "card_id": draw(optional), "source_event_id": draw(ids), "source_topic": draw(ids),
        "transaction_id": draw(optional), "amount_fen": draw(amounts),
        "occurred_at": draw(instants), "trace": draw(st.lists(steps, max_size=6))}
    if draw(st.booleans()):
        fields["actor"] = draw(optional)
    return AuditRecord.model_validate(fields)


def _read_fast(record: AuditRecord) -> bool:
    """Whether the ledger's form of `record` is one the fast reader is meant to take: amounts
    in 64 bits, no NUL, an offset of whole minutes, an instant that has a UTC `datetime`."""
    amounts = [record.amount_fen, *(s.amount_fen or 0 for s in record.trace)]
    offset = record.occurred_at.utcoffset()
    try:
        record.occurred_at.astimezone(UTC)
    except OverflowError:
        return False
    return (all(-(2**63) <= a < 2**63 for a in amounts) and offset is not None
            and offset.seconds % 60 == 0 and "\\u0000" not in record.model_dump_json())


@SETTINGS
@given(records=st.lists(audit_records(), min_size=1, max_size=8))
def test_the_ledgers_messages_are_read_fast_with_the_same_bytes_and_chain(
        records: list[AuditRecord]) -> None:
    values = [r.model_dump_json().encode() for r in records]
    entries = [assert_same_reading(v) for v in values]
    for record, value, entry in zip(records, values, entries, strict=True):
        if _read_fast(record):
            assert well_formed_entry(value) is not None  # the fast way, not the fallback
        if isinstance(entry, Entry):  # as read back: pydantic writes an offset in minutes
            assert entry.canonical == old_canonical(AuditRecord.model_validate_json(value))
    kept = [e for e in entries if isinstance(e, Entry)]
    links = extend(EMPTY, kept, RECORDED)
    assert [link.hash for link in links] == old_hashes([e.canonical for e in kept])
    trace_at = COLUMNS.index("trace")
    assert [row[trace_at] for row in copy_rows(links)] == [
        orjson.dumps([{"amount_fen": s.amount_fen, "outcome": s.outcome, "rule": s.rule}
                      for s in r.trace], option=orjson.OPT_SORT_KEYS).decode()
        for r, e in zip(records, entries, strict=True) if isinstance(e, Entry)]


@SETTINGS
@given(record=audit_records(), data=st.data())
def test_the_same_record_written_otherwise_is_read_alike(
        record: AuditRecord, data: st.DataObject) -> None:
    """Keys in another order, default fields left out, spaces: JSON another sender writes."""
    document = record.model_dump(mode="json")
    if document["actor"] is None and data.draw(st.booleans()):
        del document["actor"]
    for step in document["trace"]:
        if step["amount_fen"] is None and data.draw(st.booleans()):
            del step["amount_fen"]
    keys = data.draw(st.permutations(list(document)))
    assert_same_reading(_json({key: document[key] for key in keys}, data.draw(st.booleans())))


@pytest.mark.parametrize("path", AUDIT_EXAMPLES, ids=lambda p: p.stem)
def test_every_audit_example_is_read_fast_as_the_contract_reads_it(path: Path) -> None:
    value = path.read_bytes()
    entry = assert_same_reading(value)
    assert isinstance(entry, Entry)
    assert well_formed_entry(value) is not None
    assert entry.canonical == old_canonical(AuditRecord.model_validate_json(value))


# --- what the contract refuses -------------------------------------------------------------

@pytest.mark.parametrize("path", OTHER_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_other_topics_examples_are_refused_with_the_contracts_reason(path: Path) -> None:
    assert isinstance(assert_same_reading(path.read_bytes()), str)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | texts
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6)


@st.composite
def timestamp_texts(draw: st.DrawFn) -> str:
    """Timestamps near and beyond what RFC 3339 and the contract allow: real dates, with
    hours, minutes and seconds a little out of range, fractions of 0 to 9 digits, offsets
    with and without a colon, in seconds, out of range, or none."""
    def two(low: int, high: int) -> str:
        return f"{draw(st.integers(low, high)):02d}"

    day = draw(st.dates()).isoformat()
    clock = f"{two(0, 25)}:{two(0, 61)}" + draw(st.sampled_from(["", f":{two(0, 61)}"]))
    fraction = draw(st.sampled_from(["", "."])) + draw(st.text("0123456789", max_size=9))
    offset = draw(st.sampled_from(["", "Z", "z", "+", "-"]))
    if offset in ("+", "-"):
        offset += two(0, 25) + draw(st.sampled_from(["", ":"])) + two(0, 61)
        offset += draw(st.sampled_from(["", f":{two(0, 61)}"]))
    return day + draw(st.sampled_from("Tt ")) + clock + fraction + offset


EDGE_TIMESTAMPS = [
    "2027-03-02T08:15:30+08:60", "2027-03-02T08:15:30+24:00", "2027-03-02T08:15:30+23:59",
    "2027-03-02T08:15:30-23:59", "2027-03-02T24:00:00Z", "2027-03-02T08:15:60Z",
    "2027-03-02T08:15:30.1234567Z", "2027-03-02T08:15:30.Z", "2027-03-02T08:15:30-00:00",
    "2027-02-29T08:15:30Z", "2028-02-29T08:15:30Z", "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "2027-03-02T08:15:30+0800",
    "2027-03-02T08:15:30+08", "2027-03-02t08:15:30z", "2027-03-02 08:15:30Z",
    "2027-03-02T08:15:30.5+08:00", "2027-03-02T08:15Z", "2027-03-02T08:15:30+08:00:30",
    "2027-03-02T08:15:30", "2027-03-02", "1709338530", "２０２７-03-02T08:15:30Z"]
instant_texts = st.one_of(timestamp_texts(), st.sampled_from(EDGE_TIMESTAMPS),
                          instants.map(lambda moment: moment.isoformat()), texts)
EDGE_VALUES: list[object] = [
    None, "", "x", "paid", "\x00", "\ud7ff", 0, 1, -1, 2**63 - 1, 2**63, -(2**63),
    -(2**63) - 1, 2**64, 10**30, 1.0, 0.5, True, False, [], {}, [{}], {"rule": "x"},
    "2027-03-02T08:15:30+08:00"]


def _json(document: object, spaced: bool = False) -> bytes:
    """`document` as JSON text, big integers too (orjson writes only 64 bits); non-ASCII
    escaped when `spaced`, as another sender may."""
    if spaced:
        return json.dumps(document, indent=1, allow_nan=False).encode()
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def _valid_document() -> dict[str, Any]:
    return orjson.loads(audit_record(1).model_dump_json())  # type: ignore[no-any-return]


@pytest.mark.parametrize("field", [*AuditRecord.model_fields, "unknown"])
@pytest.mark.parametrize("value", EDGE_VALUES, ids=repr)
def test_a_field_changed_to_an_edge_value_is_read_alike(field: str, value: object) -> None:
    assert_same_reading(_json(_valid_document() | {field: value}))


@pytest.mark.parametrize("field", ["rule", "outcome", "amount_fen", "unknown"])
@pytest.mark.parametrize("value", EDGE_VALUES, ids=repr)
def test_a_trace_step_changed_to_an_edge_value_is_read_alike(field: str, value: object) -> None:
    document = _valid_document()
    document["trace"][1][field] = value
    assert_same_reading(_json(document))


@pytest.mark.parametrize("text", EDGE_TIMESTAMPS)
def test_an_edge_timestamp_is_read_alike(text: str) -> None:
    assert_same_reading(_json(_valid_document() | {"occurred_at": text}))


@SETTINGS
@given(field=st.sampled_from([*AuditRecord.model_fields, "unknown"]), value=json_values)
def test_a_field_changed_to_any_json_is_read_alike(field: str, value: object) -> None:
    assert_same_reading(_json(_valid_document() | {field: value}))


@SETTINGS
@given(field=st.sampled_from(["rule", "outcome", "amount_fen", "unknown"]), value=json_values,
       index=st.integers(0, 1))
def test_a_trace_step_changed_to_any_json_is_read_alike(field: str, value: object,
                                                        index: int) -> None:
    document = _valid_document()
    document["trace"][index][field] = value
    assert_same_reading(_json(document))


@SETTINGS
@given(field=st.sampled_from([*AuditRecord.model_fields, "trace.rule", "trace.outcome",
                              "trace.amount_fen"]))
def test_a_missing_field_is_read_alike(field: str) -> None:
    document = _valid_document()
    if field.startswith("trace."):
        del document["trace"][0][field.removeprefix("trace.")]
    else:
        del document[field]
    assert_same_reading(orjson.dumps(document))


@SETTINGS
@given(text=instant_texts)
def test_any_timestamp_is_read_alike(text: str) -> None:
    assert_same_reading(orjson.dumps(_valid_document() | {"occurred_at": text}))


@SETTINGS
@given(data=st.data())
def test_mangled_bytes_are_read_alike(data: st.DataObject) -> None:
    value = bytearray(audit_record(1).model_dump_json().encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(value) - 1))
        cut = data.draw(st.integers(0, 3))
        value[at:at + cut] = data.draw(st.binary(max_size=3))
    assert_same_reading(bytes(value))


def test_a_record_from_the_trail_writes_its_trace_as_the_intake_did() -> None:
    """The trace text the intake keeps is what the record would write itself, and a changed
    copy writes its own."""
    entry = read_entry(audit_record(1).model_dump_json().encode())
    assert isinstance(entry, Entry)
    assert entry.record.trace_text is not None
    assert entry.record.trace_json() == TrailRecord.of(audit_record(1)).trace_json()
    changed = entry.record.replace(trace=[])
    assert changed.trace_json() == "[]"


@SETTINGS
@given(moment=instants | st.datetimes())
def test_utc_text_is_what_it_was(moment: datetime) -> None:
    try:
        expected = old_utc_text(moment)
    except OverflowError:
        with pytest.raises(OverflowError):
            utc_text(moment)
        return
    assert utc_text(moment) == expected


@SETTINGS
@given(records=st.lists(audit_records(), min_size=2, max_size=8), data=st.data())
def test_a_chain_of_old_and_new_links_verifies(records: list[AuditRecord],
                                               data: st.DataObject) -> None:
    """Links appended by the contract's reader (as before) and by the fast one, in any mix,
    verify as one chain: verification recomputes every hash from the record's own fields."""
    entries = []
    for record in records:
        value = record.model_dump_json().encode()
        entry = read_entry(value) if data.draw(st.booleans()) else validated_entry(value)
        if isinstance(entry, Entry):
            entries.append(entry)
    assert verify(extend(EMPTY, entries, RECORDED)) is None
