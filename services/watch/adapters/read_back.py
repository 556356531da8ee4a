"""A table's changelog partitions read back in bulk, before faust's own recovery reads them.

faust-streaming 0.15's recovery hands the changelog to the table one record at a time: each
record through its consumer's fetch loop, its conductor, a task or two and a queue with a
timeout of its own. Measured on this 2-core machine, a watch started on 1,015,782 changelog
records took 286 s to be ready, 252 s of CPU: about 250 µs a record (asking for 1,000
records a poll instead of 16: 225 s and 207 s). A live watch keeps millions of records (its
pairings, docs/watch.md "Memory"), so every restart, deploy or rebalance cost minutes in
which it watched nothing.

Here the table reads its assigned changelog partitions itself with a plain aiokafka
consumer (no group: it commits nothing) from their start to the end they had when it
began, a poll of up to `MAX_RECORDS` at a time, and applies them through faust's own
`apply_changelog_batch`, decoded by the changelog topic's own schema: the same store, the
same expiry bookkeeping, what faust's recovery would have made of them. The table then
says it holds each partition up to that end (`persisted_offset`), and faust's recovery
reads only what was written after. At a later rebalance the table reads on from where it
stopped, in bulk too, so faust's recovery never reads what the watch wrote since it
started (before, it read all of it again, a record at a time).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

log = logging.getLogger("puhui.watch")
MAX_RECORDS = 10_000
"""The most records one poll hands over: a changelog record is 60-200 bytes."""
FETCH_MAX_BYTES = 4 << 20
"""What the consumer fetches ahead, in all (aiokafka's default is 50 MB): the records read
back stay in the store, and a larger fetch buffer only raises the watch's peak memory."""

Apply = Callable[[TopicPartition, list[ConsumerRecord[bytes, bytes]]], None]


async def read_back(bootstrap: str, after: Mapping[TopicPartition, int | None], apply: Apply,
                    tidy: Callable[[], Awaitable[None]]) -> dict[TopicPartition, int]:
    """Every record of the partitions in `after`, from the one after the offset it gives
    (None: from the partition's earliest) to their end when this starts (and perhaps a few
    written since), handed to `apply` in order, a poll at a time;
    `tidy` after each poll (the table drops what has expired by then, as faust's clean-up
    timer does while its own recovery runs: else the whole changelog is in memory at once).
    Returns, per partition, the last offset before that end (-1 for an empty one): all of
    the partition up to it has been applied."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                fetch_max_bytes=FETCH_MAX_BYTES)
    try:
        await consumer.start()
        partitions = list(after)
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        for tp, offset in after.items():
            if offset is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offset + 1)
        left = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while left:
            fetched = await consumer.getmany(*left, timeout_ms=1000, max_records=MAX_RECORDS)
            for tp, records in fetched.items():
                apply(tp, records)
            await tidy()
            left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
        return {tp: ends[tp] - 1 for tp in partitions}
    finally:
        await consumer.stop()


def bootstrap_of(brokers: Any) -> str:
    """`host:port,...` of a faust app's `conf.broker` (a list of `kafka://` URLs)."""
    return ",".join(f"{url.host}:{url.port or 9092}" for url in brokers)
