"""The audit consumer counts what it consumed, skipped and dead-lettered."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from services.audit.consumer import AuditConsumer
from services.runtime.dlq_guard import DeadLetterGuard
from services.runtime.errors import DeadLetterLimitExceeded
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import InboundRecord
from tests.unit.audit.builders import audit_record
from tests.unit.audit.test_service_layer import NOW, MemoryTrail


def _batch(*values: bytes) -> list[InboundRecord]:
    return [InboundRecord("audit", 1, offset, None, value) for offset, value in enumerate(values)]


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_counts_consumed_repeated_and_dead_lettered() -> None:
    registry = CollectorRegistry()
    trail = MemoryTrail()
    consumer = AuditConsumer(trail.open, ServiceMetrics.create("audit", registry), lambda: NOW)
    one, two = (audit_record(n).model_dump_json().encode() for n in (1, 2))
    await consumer.handle(_batch(one, two, b"{"))
    await consumer.handle(_batch(one))
    assert [link.seq for link in trail.links] == [1, 2]
    assert _sample(registry, "puhui_events_consumed_total", topic="audit") == 4
    assert _sample(registry, "puhui_duplicate_events_total") == 1
    assert _sample(registry, "puhui_dead_letters_total", topic="audit",
                   reason="not_json") == 1


async def test_a_feed_of_garbage_stops_the_consumer() -> None:
    trail = MemoryTrail()
    guard = DeadLetterGuard(window=10, max_ratio=0.5, min_invalid=3)
    consumer = AuditConsumer(trail.open, ServiceMetrics.create("audit"), lambda: NOW, guard)
    with pytest.raises(DeadLetterLimitExceeded):
        await consumer.handle(_batch(b"x", b"y", b"z"))
    assert trail.dead == []
