"""The consumer's lag report: highwater minus position, at most once a second, never waiting."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError

from services.runtime.consumer import _LagReporter


class _Consumer:
    """What the report reads of aiokafka's consumer."""

    def __init__(self) -> None:
        self.highwaters = {TopicPartition("card.transactions", 0): 120,
                           TopicPartition("card.transactions", 1): None,  # not fetched yet
                           TopicPartition("card.transactions", 2): 50,
                           TopicPartition("card.transactions", 3): 10}
        self.positions = {TopicPartition("card.transactions", 0): 100,
                          TopicPartition("card.transactions", 2): 50}

    def assignment(self) -> set[TopicPartition]:
        return set(self.highwaters)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters[tp]

    async def position(self, tp: TopicPartition) -> int:
        if tp.partition == 3:
            raise IllegalStateError("revoked meanwhile")
        return self.positions[tp]


async def test_lag_of_each_partition_with_a_known_highwater_and_position() -> None:
    reports: list[dict[tuple[str, int], int]] = []
    reporter = _LagReporter(reports.append)
    await reporter.report(_Consumer())  # type: ignore[arg-type]
    assert reports == [{("card.transactions", 0): 20, ("card.transactions", 2): 0}]


async def test_at_most_once_a_second() -> None:
    reports: list[dict[tuple[str, int], int]] = []
    reporter = _LagReporter(reports.append)
    for _ in range(5):
        await reporter.report(_Consumer())  # type: ignore[arg-type]
    assert len(reports) == 1


async def test_a_position_not_known_at_once_is_left_out() -> None:
    class Resetting(_Consumer):
        async def position(self, tp: TopicPartition) -> int:
            await asyncio.sleep(10)  # aiokafka waits for a reset to finish
            return 0

    reports: list[dict[tuple[str, int], int]] = []
    await asyncio.wait_for(_LagReporter(reports.append).report(Resetting()), 2)  # type: ignore[arg-type]
    assert reports == [{}]
