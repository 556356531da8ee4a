"""The consumer loop records each batch with the cyclic garbage collector paused, and turns
it on again after, whether the batch recorded or failed."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import TopicPartition

from services.runtime.consumer import ConsumerSettings, _consume, _LagReporter
from services.runtime.records import InboundRecord


class _Message:
    def __init__(self, offset: int) -> None:
        self.offset, self.key, self.value = offset, None, b"{}"


class _OneBatch:
    """A Kafka consumer that hands out one batch, then asks the loop to stop."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.committed: dict[TopicPartition, int] = {}

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        self.stop.set()
        return {TopicPartition("card.transactions", 0): [_Message(7)]}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed = offsets

    def assignment(self) -> set[TopicPartition]:
        return set()


async def _run(handle: Any) -> _OneBatch:
    stop = asyncio.Event()
    consumer = _OneBatch(stop)
    settings = ConsumerSettings("127.0.0.1:1", "g", ("card.transactions",))
    await _consume(consumer, settings, handle, stop, lambda _n: None,  # type: ignore[arg-type]
                   _LagReporter(lambda _lags: None), lambda: None)
    return consumer


async def test_a_batch_is_recorded_with_the_collector_off_and_it_is_on_after() -> None:
    seen: list[bool] = []

    async def handle(records: Sequence[InboundRecord]) -> None:
        seen.append(gc.isenabled())
        await asyncio.sleep(0)  # other tasks run meanwhile: still off until the batch is done
        seen.append(gc.isenabled())

    assert gc.isenabled()
    consumer = await _run(handle)
    assert seen == [False, False]
    assert gc.isenabled()
    assert consumer.committed == {TopicPartition("card.transactions", 0): 8}


async def test_the_collector_is_on_again_when_a_batch_fails() -> None:
    async def handle(records: Sequence[InboundRecord]) -> None:
        assert not gc.isenabled()
        raise LookupError("a bug, not a transient failure")

    with pytest.raises(LookupError):
        await _run(handle)
    assert gc.isenabled()
