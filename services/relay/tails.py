"""After a crash: which messages of pending outbox rows the topics already hold.

The relay publishes a batch, waits for every acknowledgement, marks the batch's rows sent in
one statement, and only then reads the next batch. So at any moment only the messages of one
batch can be on a topic with their row still pending, and on every partition they are the
newest records. Reading each partition backwards from its end, until a record that is not a
pending row's message (its row marked sent or gone, its key or value not the message's, or no
outbox stamp at all: published before the relay stamped them), finds exactly the messages
published but not marked, partition by partition. A row's messages may be split between
partitions, so a crash can leave some of them published and others not: the caller
publishes the rest. Comparing the bytes too means a database made afresh, whose ids start
again at 1, never takes an old record for one of its new messages.

Ids are matched one by one, never as "at or below the highest id on the topic": outbox ids
are taken at insert, not at commit, so a row below one already published may still be
unpublished (its transaction committed later), on this partition or another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.relay.publisher import stamped_ref
from services.runtime.outbox import MessageRef, PendingRows

FIRST_WINDOW = 16
"""Records read first from the end of each partition; the window grows eightfold."""
READ_TIMEOUT_SECONDS = 60.0

PendingAmong = Callable[[Sequence[int]], Awaitable[PendingRows]]
"""The topic, keys and values of each of the row ids that is still pending."""
Ranges = dict[TopicPartition, tuple[int, int]]


async def published_pending(consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition],
                            pending_among: PendingAmong) -> list[MessageRef]:
    """The messages of pending rows already on `partitions`; `consumer` is started and
    unassigned."""
    wanted = list(partitions)
    if not wanted:
        return []
    begin = await consumer.beginning_offsets(wanted)
    end = await consumer.end_offsets(wanted)
    unread = {tp: end[tp] for tp in wanted if end[tp] > begin[tp]}
    found: list[MessageRef] = []
    window = FIRST_WINDOW
    while unread:
        ranges = {tp: (max(begin[tp], upto - window), upto) for tp, upto in unread.items()}
        newest_first = {tp: list(reversed(records))
                        for tp, records in (await read(consumer, ranges)).items()}
        pending = await pending_among([ref[0] for records in newest_first.values()
                                       for r in records if (ref := stamped_ref(r.headers))])
        unread = {}
        for tp, records in newest_first.items():
            run = _pending_run(records, pending)
            found.extend(run)
            if len(run) == len(records) and ranges[tp][0] > begin[tp]:
                unread[tp] = ranges[tp][0]  # the whole window was pending: look further back
        window *= 8
    return found


def _pending_run(newest_first: Sequence[Any], pending: PendingRows) -> list[MessageRef]:
    """The newest records that are pending rows' messages, up to the first that is not."""
    run = []
    for record in newest_first:
        ref = stamped_ref(record.headers)
        if ref is None or not _is_message(pending, ref, record.key, record.value):
            break
        run.append(ref)
    return run


def _is_message(pending: PendingRows, ref: MessageRef, key: bytes | None,
                value: bytes) -> bool:
    row, index = ref
    if row not in pending:
        return False
    _topic, keys, values = pending[row]
    return index < len(values) and (keys[index], values[index]) == (key, value)


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
