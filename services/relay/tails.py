"""After a crash: which pending outbox rows the topics already hold.

The relay publishes a batch, waits for every acknowledgement, marks the batch sent in one
statement, and only then reads the next batch. So at any moment only the rows of one batch
can be on a topic and still pending, and on every partition they are the newest records.
Reading each partition backwards from its end, until a record that is not a pending row
(its id marked sent or gone, its key or value not the row's, or no outbox id at all: published
before the relay stamped them), finds exactly the rows published but not marked, partition by
partition. Comparing the bytes too means a database made afresh, whose ids start again at 1,
never takes an old record for one of its new rows.

Ids are matched one by one, never as "at or below the highest id on the topic": outbox ids
are taken at insert, not at commit, so a row below one already published may still be
unpublished (its transaction committed later), on this partition or another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.relay.publisher import OUTBOX_ID

FIRST_WINDOW = 16
"""Records read first from the end of each partition; the window grows eightfold."""
READ_TIMEOUT_SECONDS = 60.0

PendingAmong = Callable[[Sequence[int]], Awaitable[dict[int, tuple[bytes | None, bytes]]]]
"""The key and value of each of the ids that is still pending."""
Ranges = dict[TopicPartition, tuple[int, int]]


async def published_pending(consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition],
                            pending_among: PendingAmong) -> list[int]:
    """The ids of pending rows already on `partitions`; `consumer` is started, unassigned."""
    wanted = list(partitions)
    if not wanted:
        return []
    begin = await consumer.beginning_offsets(wanted)
    end = await consumer.end_offsets(wanted)
    unread = {tp: end[tp] for tp in wanted if end[tp] > begin[tp]}
    found: list[int] = []
    window = FIRST_WINDOW
    while unread:
        ranges = {tp: (max(begin[tp], upto - window), upto) for tp, upto in unread.items()}
        newest_first = {tp: list(reversed(records))
                        for tp, records in (await read(consumer, ranges)).items()}
        pending = await pending_among([i for records in newest_first.values()
                                       for r in records if (i := _outbox_id(r)) is not None])
        unread = {}
        for tp, records in newest_first.items():
            run = _pending_run(records, pending)
            found.extend(run)
            if len(run) == len(records) and ranges[tp][0] > begin[tp]:
                unread[tp] = ranges[tp][0]  # the whole window was pending: look further back
        window *= 8
    return found


def _pending_run(newest_first: Sequence[Any],
                 pending: dict[int, tuple[bytes | None, bytes]]) -> list[int]:
    """The ids of the newest records that are pending rows, up to the first that is not."""
    run = []
    for record in newest_first:
        outbox_id = _outbox_id(record)
        if outbox_id is None or pending.get(outbox_id) != (record.key, record.value):
            break
        run.append(outbox_id)
    return run


def _outbox_id(record: Any) -> int | None:
    for key, value in record.headers or ():
        if key == OUTBOX_ID and value is not None and value.isdigit():
            return int(value)
    return None


async def read(consumer: AIOKafkaConsumer, ranges: Ranges) -> dict[TopicPartition, list[Any]]:
    """Every record in [first, end) of each partition of `ranges`, in offset order."""
    consumer.assign(list(ranges))
    for tp, (first, _end) in ranges.items():
        consumer.seek(tp, first)
    records: dict[TopicPartition, list[Any]] = {tp: [] for tp in ranges}
    left = set(ranges)
    async with asyncio.timeout(READ_TIMEOUT_SECONDS):
        while left:
            fetched = await consumer.getmany(*left, timeout_ms=200)
            for tp, batch in fetched.items():
                records[tp].extend(r for r in batch if r.offset < ranges[tp][1])
            for tp in list(left):
                if await consumer.position(tp) >= ranges[tp][1]:
                    left.discard(tp)
    return records
