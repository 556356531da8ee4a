"""The consumer loop with two batches in flight (`_overlapped`), with a Kafka consumer and
batches of its own: the order of opening, finishing, redoing, rolling back and committing."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from typing import Any

from aiokafka import TopicPartition

from services.runtime.consumer import ConsumerSettings, _LagReporter, _overlapped
from services.runtime.errors import TransientFailure
from services.runtime.records import InboundRecord

TP = TopicPartition("card.transactions", 0)


class _Message:
    def __init__(self, offset: int) -> None:
        self.offset, self.key, self.value = offset, None, b"{}"


class _Kafka:
    """Hands out batch 0, 1, ... (one record each, at that offset); asks the loop to stop
    when it has no more, or when it hands out batch `stop_at`."""

    def __init__(self, batches: int, stop: asyncio.Event, steps: list[str],
                 stop_at: int | None = None) -> None:
        self.batches, self.stop, self.steps, self.stop_at = batches, stop, steps, stop_at
        self.handed = 0

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        n = self.handed
        if n == self.stop_at:
            self.stop.set()
        if n >= self.batches:
            self.stop.set()
            return {}
        self.handed += 1
        return {TP: [_Message(n)]}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.steps.append(f"commit {offsets[TP] - 1}")

    def assignment(self) -> set[TopicPartition]:
        return set()


class _Batch:
    def __init__(self, n: int, steps: list[str], fails: set[int]) -> None:
        self.n, self.steps, self.fails = n, steps, fails

    async def finish(self) -> None:
        self.steps.append(f"finish {self.n}")
        await asyncio.sleep(0.01)  # the batch's statements: the next one opens meanwhile
        assert gc.isenabled() is False
        if self.n in self.fails:
            self.fails.discard(self.n)
            raise RuntimeError(f"batch {self.n} fails as it finishes")
        self.steps.append(f"finished {self.n}")

    async def abandon(self) -> None:
        self.steps.append(f"abandon {self.n}")

    async def redo(self) -> None:
        self.steps.append(f"redo {self.n}")


async def _run(batches: int, fails: set[int] = frozenset(),  # type: ignore[assignment]
               stop_at: int | None = None) -> list[str]:
    steps: list[str] = []
    stop = asyncio.Event()
    kafka = _Kafka(batches, stop, steps, stop_at)
    fails = set(fails)

    async def open_batch(records: Sequence[InboundRecord]) -> _Batch:
        (record,) = records
        steps.append(f"open {record.offset}")
        await asyncio.sleep(0)
        return _Batch(record.offset, steps, fails)

    settings = ConsumerSettings("127.0.0.1:1", "g", ("card.transactions",))
    await _overlapped(kafka, settings, open_batch, stop, lambda _n: None,  # type: ignore[arg-type]
                      _LagReporter(lambda _lags: None), lambda: None)
    return steps


async def test_the_next_batch_opens_while_this_one_finishes_and_commits_follow_in_order() -> None:
    steps = await _run(3)
    assert steps == ["open 0", "finish 0", "open 1", "finished 0", "commit 0",
                     "finish 1", "open 2", "finished 1", "commit 1",
                     "finish 2", "finished 2", "commit 2"]
    assert gc.isenabled()


async def test_a_batch_that_fails_is_redone_after_the_next_is_rolled_back() -> None:
    steps = await _run(3, fails={1})
    assert steps == ["open 0", "finish 0", "open 1", "finished 0", "commit 0",
                     "finish 1", "open 2", "abandon 2", "redo 1", "commit 1", "open 2",
                     "finish 2", "finished 2", "commit 2"]


async def test_on_stopping_the_batch_ahead_is_rolled_back_and_not_committed() -> None:
    steps = await _run(5, stop_at=2)
    assert steps == ["open 0", "finish 0", "open 1", "finished 0", "commit 0",
                     "finish 1", "open 2", "finished 1", "commit 1", "abandon 2"]
    assert gc.isenabled()


async def test_the_loop_ending_on_an_error_waits_for_the_batch_finishing_and_rolls_back_the_next(
) -> None:
    steps: list[str] = []
    stop = asyncio.Event()
    kafka = _Kafka(5, stop, steps)
    handed = kafka.getmany

    async def getmany(timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        if kafka.handed == 2:
            raise ConnectionError("the broker went away")
        return await handed(timeout_ms, max_records)

    kafka.getmany = getmany  # type: ignore[method-assign]

    async def open_batch(records: Sequence[InboundRecord]) -> _Batch:
        (record,) = records
        steps.append(f"open {record.offset}")
        return _Batch(record.offset, steps, set())

    settings = ConsumerSettings("127.0.0.1:1", "g", ("card.transactions",))
    try:
        await _overlapped(kafka, settings, open_batch, stop,  # type: ignore[arg-type]
                          lambda _n: None, _LagReporter(lambda _lags: None), lambda: None)
    except TransientFailure:  # what the fetch makes of it
        pass
    else:
        raise AssertionError("the loop went on without its broker")
    assert steps == ["open 0", "finish 0", "open 1", "finished 0", "commit 0",
                     "finish 1", "finished 1"]
    assert gc.isenabled()
