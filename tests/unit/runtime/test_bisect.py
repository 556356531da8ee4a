"""A batch whose recording fails for good is bisected: the failing message is dead-lettered
(kind `unprocessable`), the rest recorded in order; a transient failure is never bisected."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import pytest
from prometheus_client import CollectorRegistry

from services import disbursement
from services.ledger.consumer import LedgerConsumer
from services.ledger.service_layer.recorder import BatchReport
from services.runtime.errors import TransientFailure
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import Decoded, InboundRecord, Rejected
from tests.feeds import Feed


class _Recorder:
    """Records what it is given, unless the batch holds a poisoned event: then nothing."""

    def __init__(self, poisoned: set[str], error: Exception) -> None:
        self.poisoned = poisoned
        self.error = error
        self.recorded: list[str] = []
        self.dead: list[Rejected] = []
        self.calls = 0

    async def record(self, decoded: Sequence[Decoded], rejected: Sequence[Rejected]) -> BatchReport:
        self.calls += 1
        if any(d.event.event_id in self.poisoned for d in decoded):
            raise self.error
        self.recorded += [d.event.event_id for d in decoded]
        self.dead += rejected
        return BatchReport(dead_letters=list(rejected))


def _batch(count: int) -> tuple[list[InboundRecord], list[str]]:
    feed = Feed()
    for n in range(count):
        feed.swipe(n, "4111", 400, "2027-03-02T08:15:30+08:00")
    records = [InboundRecord(topic, 3, offset, None, orjson.dumps(value))
               for offset, (topic, value) in enumerate(feed.lines)]
    return records, [value["event_id"] for _, value in feed.lines]


def _consumer(recorder: _Recorder) -> tuple[LedgerConsumer, CollectorRegistry]:
    registry = CollectorRegistry()
    metrics = ServiceMetrics.create("disbursement", registry)
    return LedgerConsumer(disbursement.SPEC, recorder, metrics), registry  # type: ignore[arg-type]


async def test_the_failing_messages_are_dead_lettered_and_the_rest_recorded_in_order() -> None:
    records, ids = _batch(40)
    bad = {ids[7], ids[30]}
    recorder = _Recorder(bad, ValueError("invalid byte sequence for encoding UTF8: 0x00"))
    consumer, registry = _consumer(recorder)
    await consumer.handle([*records, InboundRecord("card.transactions", 3, 40, None, b"{")])
    assert recorder.recorded == [i for i in ids if i not in bad]
    unprocessable = [r for r in recorder.dead if r.kind == "unprocessable"]
    assert [r.record.offset for r in unprocessable] == [7, 30]
    assert unprocessable[0].reason == (
        "recording failed for good: ValueError: invalid byte sequence for encoding UTF8: 0x00")
    assert [r.kind for r in recorder.dead if r.kind != "unprocessable"] == ["not_json"]
    assert recorder.calls < 30  # halving, not one transaction per message
    assert registry.get_sample_value("puhui_bisected_batches_total") == 1
    assert registry.get_sample_value("puhui_dead_letters_total", {
        "topic": "card.transactions", "reason": "unprocessable"}) == 2


async def test_a_transient_failure_is_retried_whole_never_dead_lettered() -> None:
    records, ids = _batch(4)
    recorder = _Recorder({ids[1]}, TransientFailure("PostgreSQL went away"))
    consumer, registry = _consumer(recorder)
    with pytest.raises(TransientFailure):
        await consumer.handle(records)
    assert (recorder.calls, recorder.recorded, recorder.dead) == (1, [], [])
    assert registry.get_sample_value("puhui_bisected_batches_total") == 0


async def test_a_batch_that_records_is_not_bisected() -> None:
    records, ids = _batch(5)
    recorder = _Recorder(set(), ValueError())
    consumer, _ = _consumer(recorder)
    await consumer.handle(records)
    assert (recorder.calls, recorder.recorded) == (1, ids)
