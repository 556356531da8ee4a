"""The thin consumer of topic `audit`: admit, guard, record the batch, count."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from services.audit.service_layer.anchoring import Anchoring
from services.audit.service_layer.append import BatchOutcome, OpenTrail, record_batch
from services.audit.service_layer.intake import admit
from services.runtime.dlq_guard import DeadLetterGuard
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import InboundRecord


class AuditConsumer:
    def __init__(self, open_trail: OpenTrail, metrics: ServiceMetrics,
                 now: Callable[[], datetime], guard: DeadLetterGuard | None = None,
                 anchoring: Anchoring | None = None) -> None:
        self.open_trail = open_trail
        self.anchoring = anchoring
        self.metrics = metrics
        self.now = now
        self.guard = guard or DeadLetterGuard()

    async def handle(self, records: Sequence[InboundRecord]) -> None:
        entries, rejected = admit(records)
        self.guard.observe(len(entries), len(rejected))
        started = time.perf_counter()
        outcome = await record_batch(self.open_trail, entries, rejected, self.now(),
                                     self.anchoring)
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        self._count(records, outcome)

    def _count(self, records: Sequence[InboundRecord], outcome: BatchOutcome) -> None:
        for topic, count in Counter(record.topic for record in records).items():
            self.metrics.events_consumed.labels(topic).inc(count)
        self.metrics.duplicates.inc(outcome.repeated)
        for rejected in outcome.dead_letters:
            self.metrics.dead_lettered(rejected.record.topic, rejected.reason)
