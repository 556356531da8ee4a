"""Publish the outbox once; one relay leads at a time (a PostgreSQL advisory lock).

Each round reads the oldest pending rows, up to about `batch` messages, in id order, publishes
their messages (`publisher.py`: each to the partition Kafka's default partitioner gives its
key, stamped with its row's id and its index in the row), waits for every acknowledgement,
then marks the rows sent. A relay that dies between the publish and the mark leaves published
rows pending: whoever leads next first finds their messages on the topics' tails
(`tails.py`), publishes whatever of those rows is not there (a crash can come between one
partition's acknowledgement and another's), and marks them sent without publishing again
what was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from services.relay.publisher import COMPRESSION, Publisher, relay_producer
from services.relay.tails import published_pending
from services.runtime import outbox
from services.runtime.errors import TransientFailure
from services.runtime.outbox import PendingMessage
from services.runtime.pg_errors import translate_errors

log = logging.getLogger(__name__)
RELAY_LOCK = 7_102_002
BATCH = 5000

Published = Callable[[Sequence[PendingMessage]], None]
"""Called after a batch is published and before it is marked sent (tests crash there)."""


async def run_relay(pool: asyncpg.Pool, bootstrap: str, stop: asyncio.Event,
                    on_sent: Callable[[int], None] | None = None, *, batch: int = BATCH,
                    compression: str | None = COMPRESSION,
                    after_publish: Published | None = None) -> None:
    producer = relay_producer(bootstrap, compression)
    try:
        await producer.start()
    except KafkaError as exc:
        raise TransientFailure(f"relay: Kafka producer could not start: {exc!r}") from exc
    publisher = Publisher(producer)
    try:
        async with translate_errors("relay the outbox"), pool.acquire() as conn:
            await _lead(conn, stop)
            await _recover(conn, bootstrap, publisher)
            while not stop.is_set():
                sent = await _relay_once(conn, publisher, batch, after_publish)
                if on_sent is not None and sent:
                    on_sent(sent)
                if sent == 0:
                    await _sleep(stop, 0.05)
    except KafkaError as exc:
        raise TransientFailure(f"relay: publishing failed: {exc!r}") from exc
    finally:
        await producer.stop()


async def _lead(conn: asyncpg.Connection, stop: asyncio.Event) -> None:
    while not await conn.fetchval("select pg_try_advisory_lock($1)", RELAY_LOCK):
        log.info("another relay leads; standing by")
        await _sleep(stop, 1.0)


async def _recover(conn: asyncpg.Connection, bootstrap: str, publisher: Publisher) -> None:
    """Mark sent the pending rows the topics already hold (a previous leader's last batch)."""
    topics = await outbox.pending_topics(conn)
    if not topics:
        return
    partitions = [TopicPartition(*where) for topic in topics
                  for where in await publisher.partitions(topic)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False)
    try:
        await consumer.start()
        found = await published_pending(consumer, partitions,
                                        lambda ids: outbox.pending_among(conn, ids))
    except TimeoutError:
        raise TransientFailure("relay: reading the topics' tails timed out") from None
    finally:
        await consumer.stop()
    if not found:
        return
    rows = await outbox.pending_among(conn, [row for row, _ in found])
    published = set(found)
    rest = [PendingMessage(row, i, topic, key, value)
            for row, (topic, keys, values) in rows.items()
            for i, (key, value) in enumerate(zip(keys, values, strict=True))
            if (row, i) not in published]
    if rest:
        await publisher.publish(rest)
    await outbox.mark_sent(conn, rows)
    log.warning("%d outbox messages were published before the last relay stopped: their %d "
                "rows marked sent without publishing them again (%d messages of those rows "
                "published now)", len(published), len(rows), len(rest))


async def _relay_once(conn: asyncpg.Connection, publisher: Publisher, batch: int,
                      after_publish: Published | None) -> int:
    rows = await outbox.pending(conn, batch)
    if not rows:
        return 0
    await publisher.publish(rows)
    if after_publish is not None:
        after_publish(rows)
    await outbox.mark_sent(conn, [m.id for m in rows])
    return len(rows)  # messages


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
