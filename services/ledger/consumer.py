"""The thin consumer shared by enrolment and disbursement: decode, filter, record, count.

Each service subscribes to its own topics and takes only the event types it owns; every
Kafka and PostgreSQL detail stays in services.runtime and the ledger's adapters.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from puhui.engine.decisions import ClawedBack, Held, Paid
from services.ledger.service_layer.recorder import BatchReport, Recorder
from services.runtime.dlq_guard import DeadLetterGuard
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import InboundRecord, decode_batch


@dataclass(frozen=True)
class LedgerServiceSpec:
    """What makes enrolment and disbursement different: topics and the types they own."""

    name: str
    topics: tuple[str, ...]
    owns: Callable[[str], bool]
    """Whether this service decides events of a `type`."""
    dead_letters_for: frozenset[str]
    """Topics whose undecodable messages this service dead-letters (one owner per topic)."""


class LedgerConsumer:
    def __init__(self, spec: LedgerServiceSpec, recorder: Recorder, metrics: ServiceMetrics,
                 guard: DeadLetterGuard | None = None) -> None:
        self.spec = spec
        self.recorder = recorder
        self.metrics = metrics
        self.guard = guard or DeadLetterGuard()

    async def handle(self, records: Sequence[InboundRecord]) -> None:
        decoded, rejected = decode_batch([r for r in records if self._worth_decoding(r)])
        mine = [d for d in decoded if self.spec.owns(d.event.type)]
        rejected = [r for r in rejected if r.record.topic in self.spec.dead_letters_for]
        self.guard.observe(len(mine), len(rejected))
        started = time.perf_counter()
        report = await self.recorder.record(mine, rejected)
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        self._count(records, report)

    def _worth_decoding(self, record: InboundRecord) -> bool:
        """On a topic whose bad messages another service dead-letters, a message of a type
        this service does not own is passed over unvalidated (disbursement reads every
        registration on `member.enrolment` for the few certifications among them)."""
        if record.topic in self.spec.dead_letters_for:
            return True
        try:
            value = orjson.loads(record.value)
        except orjson.JSONDecodeError:
            return False
        kind = value.get("type") if isinstance(value, dict) else None
        return isinstance(kind, str) and self.spec.owns(kind)

    def _count(self, records: Sequence[InboundRecord], report: BatchReport) -> None:
        m = self.metrics
        for topic, count in Counter(record.topic for record in records).items():
            m.events_consumed.labels(topic).inc(count)
        m.duplicates.inc(report.duplicates)
        for dead in report.dead_letters:
            m.dead_lettered(dead.record.topic, dead.reason)
        now = datetime.now(UTC)
        for d in report.decisions:
            m.decisions.labels(d.programme or "", d.decision, _reason_label(d.reason)).inc()
            if isinstance(d, Paid):
                m.payouts.labels(d.programme or "", "payout").inc()
                m.payout_fen.labels(d.programme or "").inc(d.amount_fen)
                m.payout_latency.observe(max((now - d.occurred_at).total_seconds(), 0.0))
            elif isinstance(d, ClawedBack):
                m.payouts.labels(d.programme or "", "clawback").inc()
                m.clawback_fen.labels(d.programme or "").inc(-d.amount_fen)
            elif isinstance(d, Held):
                m.events_held.labels(d.waiting_for).inc()


def _reason_label(reason: str | None) -> str:
    # `limit_reached:monthly_amount` keeps its limit name: a small, fixed set per catalogue.
    return reason or ""
