"""`python -m puhui.bench.audit_cpu` measures the audit service on the ledger's own messages."""

from __future__ import annotations

from puhui.bench.audit_cpu import card_day, measure
from puhui.bench.plan import BenchPlan
from schemas.audit import AuditRecord


def test_the_card_day_is_the_ledgers_audit_messages_and_all_of_it_is_measured() -> None:
    day = card_day(BenchPlan(members=300, cards=240, events=400))
    assert day.card_events == 400
    assert {m.topic for m in day.messages} == {"audit"}
    records = [AuditRecord.model_validate_json(m.value) for m in day.messages]
    assert {r.source_topic for r in records} >= {"card.transactions"}
    assert {"paid", "denied"} <= {r.decision for r in records}
    # measure() raises unless every message became a COPY row
    figures = measure(day, batch=128, rounds=2)
    assert figures.records == len(day.messages)
    assert len(figures.rounds_us) == 2
    assert all(us > 0 for us in figures.rounds_us)
