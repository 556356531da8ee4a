"""The hash chain: canonical bytes, linking, and finding exactly the link that does not fit."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from hypothesis import given
from hypothesis import strategies as st

from schemas.audit import AuditRecord
from services.audit.domain.chain import (
    EMPTY,
    GENESIS,
    ChainHead,
    ChainLink,
    appendable,
    extend,
    first_break,
    link_hash,
    verify,
)
from services.audit.domain.record import TrailRecord
from tests.unit.audit.builders import entry

EXAMPLES = Path(__file__).parents[3] / "schemas" / "examples" / "audit"
RECORDED = datetime(2027, 3, 2, 0, 20, tzinfo=UTC)
DENIED_FORMAT_1 = (
    b'{"amount_fen":0,"audit_id":"aud_6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e09",'
    b'"card_id":"card_tok_4f9a1c","decision":"denied","member_id":"mem_000123",'
    b'"occurred_at":"2027-03-10T01:00:00.000000Z","programme":null,"reason":"card_blocked",'
    b'"source_event_id":"6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e09",'
    b'"source_topic":"card.transactions",'
    b'"trace":[{"amount_fen":null,"outcome":"card blocked since 2027-03-08T10:00:00+08:00",'
    b'"rule":"card_status"}],"transaction_id":"TX20270310090000003"}'
)


def _chain(n: int) -> list[ChainLink]:
    return extend(EMPTY, [entry(i) for i in range(1, n + 1)], RECORDED)


def _format_1_chain(n: int) -> list[ChainLink]:
    """Links as the trail held them before migration 0006: the record's bytes alone."""
    links, prev = [], GENESIS
    for i in range(1, n + 1):
        record = entry(i).record
        digest = hashlib.sha256(prev + record.format_1_bytes()).digest()
        links.append(ChainLink(i, record, prev, digest, RECORDED, format=1))
        prev = digest
    return links


def _with_amount(link: ChainLink, amount_fen: int) -> ChainLink:
    return dataclasses.replace(link, record=link.record.replace(amount_fen=amount_fen))


def test_canonical_bytes_are_sorted_compact_json_with_occurred_at_in_utc() -> None:
    raw = (EXAMPLES / "denied.json").read_bytes()
    record = TrailRecord.of(AuditRecord.model_validate_json(raw))
    assert record.canonical_bytes() == b'{"actor":null,' + DENIED_FORMAT_1[1:]
    assert record.format_1_bytes() == DENIED_FORMAT_1


def test_the_same_instant_written_with_another_offset_has_the_same_canonical_bytes() -> None:
    record = entry(1).record
    in_utc = record.replace(occurred_at=record.occurred_at.astimezone(UTC))
    later = record.replace(occurred_at=datetime(2027, 3, 2, 0, 16, 31, tzinfo=UTC))
    assert in_utc.canonical_bytes() == record.canonical_bytes()
    assert later.canonical_bytes() != record.canonical_bytes()


def test_non_ascii_text_is_written_as_utf8() -> None:
    record = entry(1).record.replace(reason="普惠")
    assert '"reason":"普惠"'.encode() in record.canonical_bytes()


def test_a_link_hashes_the_previous_hash_then_its_seq_recorded_at_and_record() -> None:
    (link,) = _chain(1)
    document = {"format": 2, "record": orjson.loads(link.record.canonical_bytes()),
                "recorded_at": "2027-03-02T00:20:00.000000Z", "seq": 1}
    assert link.hash == link_hash(GENESIS, link) == hashlib.sha256(
        bytes(32) + orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).digest()


def test_links_recorded_in_format_1_verify_as_they_were_hashed() -> None:
    old = _format_1_chain(3)
    assert verify(old) is None
    assert verify([*old, *extend(ChainHead(3, old[-1].hash), [entry(4)], RECORDED)]) is None


def test_a_format_1_link_after_a_format_2_link_breaks_the_chain() -> None:
    links = _chain(2)
    downgraded = dataclasses.replace(links[1], format=1)
    links[1] = dataclasses.replace(downgraded, hash=link_hash(downgraded.prev_hash, downgraded))
    broken = first_break(links)
    assert broken is not None
    assert (broken.seq, broken.problem) == (2, "format 1 after format 2")


def test_extend_numbers_links_from_the_head_and_links_each_to_the_last() -> None:
    links = _chain(3)
    assert [link.seq for link in links] == [1, 2, 3]
    assert links[0].prev_hash == GENESIS
    assert [link.prev_hash for link in links[1:]] == [link.hash for link in links[:-1]]
    more = extend(ChainHead(3, links[-1].hash), [entry(4)], RECORDED)
    assert (more[0].seq, more[0].prev_hash) == (4, links[-1].hash)
    assert _chain(4)[-1] == more[0]


def test_an_intact_chain_verifies() -> None:
    assert verify(_chain(5)) is None
    assert verify([]) is None


def test_a_changed_amount_is_found_at_its_seq() -> None:
    links = _chain(5)
    links[2] = _with_amount(links[2], 101)
    broken = first_break(links)
    assert broken is not None
    assert (broken.seq, broken.audit_id, broken.problem) == (3, "aud-3", "hash differs")


def test_a_rehashed_change_is_found_where_the_next_link_no_longer_follows() -> None:
    links = _chain(5)
    changed = _with_amount(links[2], 101)
    links[2] = dataclasses.replace(changed, hash=link_hash(changed.prev_hash, changed))
    broken = first_break(links)
    assert broken is not None
    assert (broken.seq, broken.problem) == (4, "prev_hash differs")


def test_a_removed_link_is_named_by_the_gap() -> None:
    links = _chain(5)
    del links[1]
    broken = first_break(links)
    assert broken is not None
    assert (broken.seq, broken.problem) == (3, "seq 2 is missing")


def test_a_chain_that_does_not_start_at_seq_1_is_broken() -> None:
    assert verify(_chain(3)[1:]) == 2


def test_a_repeated_seq_is_broken() -> None:
    links = _chain(3)
    broken = first_break([*links, links[-1]])
    assert broken is not None
    assert (broken.seq, broken.problem) == (3, "seq 3 comes after seq 3")


@given(size=st.integers(1, 30), data=st.data())
def test_any_changed_field_is_found_at_exactly_its_seq(size: int, data: st.DataObject) -> None:
    links = _chain(size)
    index = data.draw(st.integers(0, size - 1))
    field, value = data.draw(st.sampled_from([
        ("amount_fen", -1), ("member_id", "mem_other"), ("reason", "limit_reached"),
        ("decision", "denied"), ("trace", []), ("programme", None),
        ("occurred_at", datetime(2030, 1, 1, tzinfo=UTC)), ("actor", "wang.li (approver)"),
    ]))
    record = links[index].record
    links[index] = dataclasses.replace(links[index], record=record.replace(**{field: value}))
    assert verify(links) == index + 1


@given(size=st.integers(1, 30), data=st.data())
def test_a_moved_recorded_at_is_found_at_exactly_its_seq(size: int, data: st.DataObject) -> None:
    links = _chain(size)
    index = data.draw(st.integers(0, size - 1))
    moved = RECORDED - timedelta(days=data.draw(st.integers(1, 30)))
    links[index] = dataclasses.replace(links[index], recorded_at=moved)
    assert verify(links) == index + 1


def test_appendable_drops_recorded_and_repeated_records_keeping_order() -> None:
    entries = [entry(1), entry(2), entry(3), entry(2), entry(4)]
    kept = appendable(entries, {"aud-3"})
    assert [e.record.audit_id for e in kept] == ["aud-1", "aud-2", "aud-4"]
