"""The metrics bundle: sample values from a fresh registry after each kind of update."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from prometheus_client import CollectorRegistry

from engine.catalogue import load_catalogue
from engine.decisions import ClawedBack, Denied, Held, Paid
from schemas.decode import Invalid, decode
from services import disbursement
from services.audit.service_layer.intake import read_entry
from services.ledger.consumer import LedgerConsumer
from services.ledger.service_layer.recorder import BatchReport
from services.runtime.metrics import ServiceMetrics
from services.runtime.probes import budget_probe, outbox_probe, sample_every
from services.runtime.records import Decoded, InboundRecord, Rejected


def _metrics() -> tuple[ServiceMetrics, CollectorRegistry]:
    registry = CollectorRegistry()
    return ServiceMetrics.create("disbursement", registry), registry


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def _decoded_kind(topic: str, value: object) -> str:
    raw = value if isinstance(value, bytes) else orjson.dumps(value)
    result = decode(topic, raw)
    assert isinstance(result, Invalid)
    return result.kind


@pytest.mark.parametrize(("kind", "expected"), [
    (_decoded_kind("card.transactions", b"{"), "not_json"),
    (_decoded_kind("card.transactions", [1]), "not_object"),
    (_decoded_kind("no.such.topic", {}), "unknown_topic"),
    (_decoded_kind("member.enrolment", {"type": "member_promoted"}), "unknown_type"),
    (_decoded_kind("card.transactions", {"type": "chargeback"}), "missing_field"),
    (_decoded_kind("member.enrolment", {"type": "member_left"}), "missing_field"),
    (_decoded_kind("clock.days", {"event_id": "e", "type": "day_started", "date": "someday"}),
     "invalid_value"),
    ("unprocessable", "unprocessable"),
    # the audit intake hands over pydantic's words, not a kind: the kind they name
    (str(read_entry(b"{")), "not_json"),
    (str(read_entry(b"[]")), "not_object"),
    (str(read_entry(b"{}")), "missing_field"),
])
def test_dead_letters_are_counted_by_a_few_kinds(kind: str, expected: str) -> None:
    metrics, registry = _metrics()
    metrics.dead_lettered("t", kind)
    assert _sample(registry, "puhui_dead_letters_total", topic="t", reason=expected) == 1


def test_lag_follows_the_assignment() -> None:
    metrics, registry = _metrics()
    metrics.observe_lag({("card.transactions", 0): 5, ("card.transactions", 1): 0})
    assert _sample(registry, "puhui_consumer_lag", topic="card.transactions", partition="0") == 5
    metrics.observe_lag({("card.transactions", 1): 7})
    assert _sample(registry, "puhui_consumer_lag", topic="card.transactions", partition="0") is None
    assert _sample(registry, "puhui_consumer_lag", topic="card.transactions", partition="1") == 7


def test_budget_left_of_this_year_and_later_ones() -> None:
    metrics, registry = _metrics()
    budgets = {"cinema": 1_000, "books": 500}
    metrics.observe_budgets(budgets, {("cinema", 2027): 400, ("books", 2027): 700,
                                      ("cinema", 2026): 1, ("elsewhere", 2027): 1}, 2027)
    assert _sample(registry, "puhui_budget_fen", programme="cinema") == 1_000
    assert _sample(registry, "puhui_budget_left_fen", programme="cinema", year="2027") == 600
    assert _sample(registry, "puhui_budget_left_fen", programme="books", year="2027") == 0
    assert _sample(registry, "puhui_budget_left_fen", programme="cinema", year="2026") is None
    assert _sample(registry, "puhui_budget_left_fen", programme="elsewhere", year="2027") is None
    metrics.observe_budgets(budgets, {("cinema", 2027): 400, ("cinema", 2028): 10}, 2028)
    assert _sample(registry, "puhui_budget_left_fen", programme="cinema", year="2027") is None
    assert _sample(registry, "puhui_budget_left_fen", programme="cinema", year="2028") == 990


def test_outbox_backlog() -> None:
    metrics, registry = _metrics()
    metrics.observe_outbox(12, 3.5)
    assert _sample(registry, "puhui_outbox_backlog") == 12
    assert _sample(registry, "puhui_outbox_oldest_seconds") == 3.5


class _Recorder:
    """Reports the decisions it is given, whatever the batch."""

    def __init__(self, decisions: list[object]) -> None:
        self.decisions = decisions

    async def record(self, decoded: Sequence[Decoded], rejected: Sequence[Rejected]) -> BatchReport:
        return BatchReport(decisions=list(self.decisions), duplicates=1,  # type: ignore[arg-type]
                           dead_letters=list(rejected))


async def test_the_ledger_consumer_counts_payouts_clawbacks_holds_and_dead_letters() -> None:
    metrics, registry = _metrics()
    at = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    common = {"source_topic": "card.transactions", "member_id": "m", "occurred_at": at,
              "period": "2027-01"}
    decisions = [
        Paid(source_event_id="e1", programme="cinema", amount_fen=3_000, base_fen=3_000, **common),
        Paid(source_event_id="e2", programme="cinema", amount_fen=500, base_fen=900,
             reason="limit_reached:monthly_amount", **common),
        ClawedBack(source_event_id="e3", programme="cinema", amount_fen=-1_200,
                   refund_transaction_id="t3", **common),
        Denied(source_event_id="e4", programme="books", reason="card_blocked", **common),
        Held(source_event_id="e5", programme=None, waiting_for="card", key="c", **common),
    ]
    consumer = LedgerConsumer(disbursement.SPEC, _Recorder(decisions), metrics,  # type: ignore[arg-type]
                              clock=lambda: at + timedelta(seconds=2.5))
    records = [InboundRecord("card.transactions", 0, n, None, b"{") for n in range(2)]
    await consumer.handle([*records, InboundRecord("clock.days", 0, 0, None, b"[]")])
    assert _sample(registry, "puhui_events_consumed_total", topic="card.transactions") == 2
    assert _sample(registry, "puhui_events_consumed_total", topic="clock.days") == 1
    assert _sample(registry, "puhui_duplicate_events_total") == 1
    assert _sample(registry, "puhui_dead_letters_total", topic="card.transactions",
                   reason="not_json") == 2
    assert _sample(registry, "puhui_dead_letters_total", topic="clock.days",
                   reason="not_object") == 1
    assert _sample(registry, "puhui_payouts_total", programme="cinema", kind="payout") == 2
    assert _sample(registry, "puhui_payouts_total", programme="cinema", kind="clawback") == 1
    assert _sample(registry, "puhui_payout_fen_total", programme="cinema") == 3_500
    assert _sample(registry, "puhui_clawback_fen_total", programme="cinema") == 1_200
    assert _sample(registry, "puhui_decisions_total", programme="cinema", decision="cut",
                   reason="limit_reached:monthly_amount") == 1
    assert _sample(registry, "puhui_decisions_total", programme="books", decision="denied",
                   reason="card_blocked") == 1
    assert _sample(registry, "puhui_events_held_total", waiting_for="card") == 1
    assert _sample(registry, "puhui_payout_latency_seconds_count") == 2
    assert _sample(registry, "puhui_payout_latency_seconds_bucket", le="1.0") == 0
    assert _sample(registry, "puhui_payout_latency_seconds_bucket", le="5.0") == 2
    assert _sample(registry, "puhui_payout_latency_seconds_sum") == 5.0  # the clock given
    assert _sample(registry, "puhui_batch_seconds_count") == 1


class _Conn:
    """Answers the probes' two queries as PostgreSQL would."""

    async def fetchrow(self, _query: str) -> tuple[int, float]:
        return (3, 42.5)  # unsent outbox rows, age of the oldest

    async def fetch(self, query: str) -> list[dict[str, object]]:
        if "held_events" in query:
            return [{"waiting_for": "member", "count": 2}]
        return [{"programme": "cinema", "year": 2027, "spent_fen": 299_000_000},
                {"programme": "cinema", "year": 2026, "spent_fen": 1}]


class _Pool:
    def __init__(self, failures: int) -> None:
        self.failures = failures

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[_Conn]:
        if self.failures:
            self.failures -= 1
            raise OSError("connection refused")
        yield _Conn()


async def test_probes_read_the_outbox_and_the_budgets_and_outlive_a_failure() -> None:
    metrics, registry = _metrics()
    stop = asyncio.Event()
    pool = _Pool(failures=1)
    new_year = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 2027-01-01 00:00 in Shanghai
    probes = [outbox_probe(metrics), budget_probe(metrics, load_catalogue(), lambda: new_year)]
    tasks = [asyncio.create_task(sample_every(pool, p, stop, seconds=0.01))  # type: ignore[arg-type]
             for p in probes]
    for _ in range(200):
        if _sample(registry, "puhui_budget_left_fen", programme="cinema", year="2027") and \
                _sample(registry, "puhui_outbox_backlog"):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*tasks)
    assert _sample(registry, "puhui_outbox_backlog") == 3
    assert _sample(registry, "puhui_outbox_oldest_seconds") == 42.5
    assert _sample(registry, "puhui_held_events_key_known", waiting_for="member") == 2
    assert _sample(registry, "puhui_held_events_key_known", waiting_for="card") == 0
    assert _sample(registry, "puhui_budget_fen", programme="cinema") == 300_000_000
    assert _sample(registry, "puhui_budget_left_fen", programme="cinema", year="2027") == 1_000_000
    assert _sample(registry, "puhui_budget_left_fen", programme="cinema", year="2026") is None
