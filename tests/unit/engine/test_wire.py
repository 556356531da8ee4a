"""The engine's own JSON of a decision (`engine.wire`) is, byte for byte, what the
contract's models give (`to_payout().model_dump_json()`, `to_audit().model_dump_json()`),
and its ids are uuid5's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import wire
from engine.decisions import ClawedBack, Decision, Denied, Paid
from engine.ids import PUHUI_NAMESPACE, uuid5_text
from engine.trace import BaseAmount, BudgetCheck, Checked, Clawback, LimitCheck, Matched
from schemas.audit import AuditRecord
from schemas.payouts import Payout

texts = st.text(min_size=1, max_size=40)
offsets = st.integers(min_value=-(23 * 3600 + 59 * 60), max_value=23 * 3600 + 59 * 60)
times = st.builds(
    lambda moment, offset, utc: moment.replace(
        tzinfo=UTC if utc else timezone(timedelta(seconds=offset))),
    st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(9998, 12, 30)),  # noqa: DTZ001  # hypothesis takes naive bounds; the zone is added above
    offsets, st.booleans())
fen = st.integers(min_value=1, max_value=10**12)
traces = st.lists(st.one_of(
    st.builds(Matched, texts, texts), st.builds(Checked, texts, texts),
    st.builds(BaseAmount, texts, fen),
    st.builds(LimitCheck, texts, st.sampled_from(["money", "count"]), texts, fen, fen, fen, fen),
    st.builds(BudgetCheck, st.integers(1971, 9998), fen, fen),
    st.builds(Clawback, fen, fen, fen, fen, fen)), max_size=6).map(tuple)


def _common() -> dict[str, st.SearchStrategy[object]]:
    return {"source_event_id": texts, "source_topic": texts, "member_id": texts,
            "programme": texts, "occurred_at": times, "period": texts,
            "card_id": st.none() | texts, "transaction_id": st.none() | texts,
            "reason": st.none() | texts, "trace": traces}


paid = st.builds(Paid, amount_fen=fen, base_fen=fen, **_common())  # type: ignore[arg-type]
clawed = st.builds(ClawedBack, amount_fen=fen.map(lambda f: -f),  # type: ignore[arg-type]
                   refund_transaction_id=texts, **_common())
denied = st.builds(Denied, **_common())  # type: ignore[arg-type]


@given(st.one_of(paid, clawed))
def test_a_payout_is_the_models_bytes(decision: Paid | ClawedBack) -> None:
    value = wire.payout_value(decision, wire.trace_value(decision.trace))
    assert wire.dumps(value) == decision.to_payout().model_dump_json().encode()


@given(st.one_of(paid, clawed, denied))
def test_an_audit_record_is_the_models_bytes(decision: Decision) -> None:
    value = wire.audit_value(decision, wire.trace_value(decision.trace))
    assert wire.dumps(value) == decision.to_audit().model_dump_json().encode()


def test_fields_come_in_the_models_order() -> None:
    decision = Paid(source_event_id="e", source_topic="card.transactions", member_id="m",
                    programme="cinema", occurred_at=datetime(2027, 2, 8, tzinfo=UTC),
                    period="2027-02", amount_fen=100, base_fen=100)
    assert list(wire.payout_value(decision, [])) == list(Payout.model_fields)
    assert list(wire.audit_value(decision, [])) == list(AuditRecord.model_fields)


@given(st.text())
def test_derived_ids_are_uuid5(name: str) -> None:
    assert uuid5_text(name) == str(uuid.uuid5(PUHUI_NAMESPACE, name))


@given(traces)
def test_a_trace_written_from_kept_steps_is_the_same_bytes(trace: tuple[Any, ...]) -> None:
    assert wire.trace_json(trace) == wire.dumps(wire.trace_value(trace))
    assert wire.trace_json(trace) == wire.trace_json(trace)  # the second time from kept steps


def test_steps_of_two_kinds_that_are_equal_tuples_are_kept_apart() -> None:
    matched, checked = Matched("cinema", "purchase at mcc 7832"), Checked("cinema",
                                                                         "purchase at mcc 7832")
    assert matched == checked  # as tuples
    assert wire.trace_json((matched,)) != wire.trace_json((checked,))
    assert wire.trace_json((checked,)) == wire.dumps(wire.trace_value((checked,)))


def test_steps_stop_being_kept_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "_STEP_JSON", {})
    monkeypatch.setattr(wire, "STEPS_KEPT", 2)
    steps = tuple(BaseAmount("fixed", n) for n in range(1, 6))
    assert wire.trace_json(steps) == wire.dumps(wire.trace_value(steps))
    assert len(wire._STEP_JSON) == 2
