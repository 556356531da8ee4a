"""The thin consumer shared by enrolment and disbursement: decode, filter, record, count.

Each service subscribes to its own topics and takes only the event types it owns; every
Kafka and PostgreSQL detail stays in services.runtime and the ledger's adapters.

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
from datetime import UTC, datetime

import orjson

from puhui.engine.decisions import ClawedBack, Held, Paid
from services.ledger.service_layer.recorder import BatchReport, Recorder
from services.runtime.dlq_guard import DeadLetterGuard
from services.runtime.errors import DeadLetterLimitExceeded, TransientFailure
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import Decoded, InboundRecord, Rejected, decode_batch

log = logging.getLogger(__name__)
MAX_REASON = 500
# Failures a retry can cure, or that must stop the service: never bisected, never
# dead-lettered. OSError and TimeoutError are there for any that escaped translation.
_NOT_FOR_BISECTING = (TransientFailure, DeadLetterLimitExceeded, OSError, TimeoutError)


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
        report = await self._record(mine, rejected)
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
            m.dead_lettered(dead.record.topic, dead.kind)
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
