"""The thin consumer shared by enrolment and disbursement: decode, filter, record, count.

Each service subscribes to its own topics and decides every event on them (so each topic has
one owner for its dead letters); every Kafka and PostgreSQL detail stays in services.runtime
and the ledger's adapters.

A batch whose recording fails for good (not a transient failure) never stops the partition:
it is bisected until the messages it fails on are found, each is dead-lettered with the error
as its reason (kind `unprocessable`), and the rest are recorded in their order.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from engine.decisions import ClawedBack, Decision, Held, Paid
from services.ledger.service_layer.recorder import BatchReport, Recorder
from services.runtime.dlq_guard import DeadLetterGuard
from services.runtime.errors import DeadLetterLimitExceeded, TransientFailure
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import Decoded, InboundRecord, Rejected, decode_batch, utc_now

log = logging.getLogger(__name__)
MAX_REASON = 500
# Failures a retry can cure, or that must stop the service: never bisected, never
# dead-lettered. OSError and TimeoutError are there for any that escaped translation.
_NOT_FOR_BISECTING = (TransientFailure, DeadLetterLimitExceeded, OSError, TimeoutError)


@dataclass(frozen=True)
class LedgerServiceSpec:
    """What makes enrolment and disbursement different: their name and their topics, whose
    events (and dead letters) are theirs alone."""

    name: str
    topics: tuple[str, ...]


class LedgerConsumer:
    def __init__(self, spec: LedgerServiceSpec, recorder: Recorder, metrics: ServiceMetrics,
                 guard: DeadLetterGuard | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.spec = spec
        self.recorder = recorder
        self.metrics = metrics
        self.guard = guard or DeadLetterGuard()
        self.clock = clock
        """When a decision counts as done, for its latency metric."""

    async def handle(self, records: Sequence[InboundRecord]) -> None:
        decoded, rejected = decode_batch(records)
        self.guard.observe(len(decoded), len(rejected))
        started = time.perf_counter()
        report = await self._record(decoded, rejected)
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        self._count(records, report)

    async def _record(self, decoded: Sequence[Decoded],
                      rejected: Sequence[Rejected]) -> BatchReport:
        try:
            return await self.recorder.record(decoded, rejected)
        except _NOT_FOR_BISECTING:
            raise
        except Exception as error:  # noqa: BLE001  # any other is what bisecting isolates
            log.error("recording a batch of %d failed for good (%s); bisecting it",
                      len(decoded), _described(error))
        self.metrics.bisected_batches.inc()
        report = await self.recorder.record([], rejected)
        await self._bisect(decoded, report)
        self.guard.observe(0, sum(d.kind == "unprocessable" for d in report.dead_letters))
        return report

    async def _bisect(self, decoded: Sequence[Decoded], report: BatchReport) -> None:
        """Record `decoded` in order, halving any part that fails until the messages it fails
        on stand alone; each of those is dead-lettered instead."""
        try:
            part = await self.recorder.record(decoded, [])
        except _NOT_FOR_BISECTING:
            raise
        except Exception as error:  # noqa: BLE001  # as in `_record`
            if len(decoded) > 1:
                middle = len(decoded) // 2
                await self._bisect(decoded[:middle], report)
                await self._bisect(decoded[middle:], report)
                return
            part = await self.recorder.record([], [_unprocessable(decoded[0], error)])
            log.error("dead-lettered %s[%d]@%d: %s", decoded[0].record.topic,
                      decoded[0].record.partition, decoded[0].record.offset,
                      part.dead_letters[0].reason)
        report.decisions += part.decisions
        report.duplicates += part.duplicates
        report.dead_letters += part.dead_letters

    def _count(self, records: Sequence[InboundRecord], report: BatchReport) -> None:
        """Metrics once per label set of the batch, not once per event."""
        m = self.metrics
        for topic, count in Counter(record.topic for record in records).items():
            m.events_consumed.labels(topic).inc(count)
        m.duplicates.inc(report.duplicates)
        for dead in report.dead_letters:
            m.dead_lettered(dead.record.topic, dead.kind)
        tally = _Tally()
        now = self.clock()
        for d in report.decisions:
            tally.add(d, now)
        tally.publish(m)


class _Tally:
    """A batch's decisions summed by label set, so each labelled metric is touched once."""

    def __init__(self) -> None:
        self.decisions: Counter[tuple[str, str, str]] = Counter()
        self.payouts: Counter[tuple[str, str]] = Counter()
        self.payout_fen: Counter[str] = Counter()
        self.clawback_fen: Counter[str] = Counter()
        self.held: Counter[str] = Counter()
        self.latencies: list[float] = []

    def add(self, d: Decision, now: datetime) -> None:
        programme = d.programme or ""
        self.decisions[(programme, d.decision, _reason_label(d.reason))] += 1
        if isinstance(d, Paid):
            self.payouts[(programme, "payout")] += 1
            self.payout_fen[programme] += d.amount_fen
            self.latencies.append(max((now - d.occurred_at).total_seconds(), 0.0))
        elif isinstance(d, ClawedBack):
            self.payouts[(programme, "clawback")] += 1
            self.clawback_fen[programme] -= d.amount_fen
        elif isinstance(d, Held):
            self.held[d.waiting_for] += 1

    def publish(self, m: ServiceMetrics) -> None:
        for labels, n in self.decisions.items():
            m.decisions.labels(*labels).inc(n)
        for (programme, kind), n in self.payouts.items():
            m.payouts.labels(programme, kind).inc(n)
        for programme, fen in self.payout_fen.items():
            m.payout_fen.labels(programme).inc(fen)
        for programme, fen in self.clawback_fen.items():
            m.clawback_fen.labels(programme).inc(fen)
        for waiting_for, n in self.held.items():
            m.events_held.labels(waiting_for).inc(n)
        for seconds in self.latencies:
            m.payout_latency.observe(seconds)

def _unprocessable(decoded: Decoded, error: Exception) -> Rejected:
    reason = f"recording failed for good: {_described(error)}"
    return Rejected(decoded.record, reason, "unprocessable")


def _described(error: Exception) -> str:
    """`DataError: ...`, cut short, with no NUL (it goes into a text column)."""
    text = f"{type(error).__name__}: {error}".replace("\x00", "\\x00")
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _reason_label(reason: str | None) -> str:
    # `limit_reached:monthly_amount` keeps its limit name: a small, fixed set per catalogue.
    return reason or ""
