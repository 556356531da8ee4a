"""The raw floor: aiokafka reads the same messages the pipeline will and writes each to
another topic, doing nothing else, with the services' consumer and the relay's producer
settings; offsets are committed after each batch is acknowledged, as the services do."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from puhui.bench.fresh import FLOOR_TOPIC
from schemas.topics import PARTITIONS
from services.relay.publisher import relay_producer

Ranges = dict[TopicPartition, tuple[int, int]]
"""For each partition: the first offset to read and the end (exclusive)."""
GROUP = "puhui-bench-floor"


@dataclass(frozen=True)
class Floor:
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def end_offsets(bootstrap: str, topics: tuple[str, ...]) -> dict[TopicPartition, int]:
    """The log end of every partition of `topics` (created with `PARTITIONS`)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS[t])]
        found: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return found
    finally:
        await consumer.stop()


def ranges_between(before: dict[TopicPartition, int], after: dict[TopicPartition, int]) -> Ranges:
    return {tp: (before.get(tp, 0), end) for tp, end in after.items() if end > before.get(tp, 0)}


async def raw_floor(bootstrap: str, ranges: Ranges, max_batch: int = 2000) -> Floor:
    """Consume exactly `ranges` and produce each message to the floor topic; time it."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False,
        max_poll_records=max_batch, fetch_max_wait_ms=100,
        max_partition_fetch_bytes=4 * 1024 * 1024)
    producer = relay_producer(bootstrap)
    await consumer.start()
    await producer.start()
    try:
        consumer.assign(list(ranges))
        for tp, (first, _end) in ranges.items():
            consumer.seek(tp, first)
        started = time.perf_counter()
        events = await _copy(consumer, producer, ranges, max_batch)
        return Floor(events, time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()


async def _copy(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, ranges: Ranges,
                max_batch: int) -> int:
    left = {tp: end - first for tp, (first, end) in ranges.items()}
    copied = 0
    while any(n > 0 for n in left.values()):
        fetched = await consumer.getmany(timeout_ms=100, max_records=max_batch)
        futures, offsets = [], {}
        for tp, messages in fetched.items():
            wanted = [m for m in messages if m.offset < ranges[tp][1]]
            for m in wanted:
                futures.append(await producer.send(FLOOR_TOPIC, m.value, key=m.key))
            if wanted:
                offsets[tp] = wanted[-1].offset + 1
                left[tp] -= len(wanted)
                copied += len(wanted)
        await asyncio.gather(*futures)
        if offsets:
            await consumer.commit(offsets)
    return copied
