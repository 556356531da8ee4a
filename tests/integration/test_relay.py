"""The relay on the real Kafka and PostgreSQL: every outbox message on its topic exactly once,
however often the relay dies between publishing a batch and marking it sent, and even when
it died with only part of a row's messages published."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from puhui.stack.config import StackConfig
from services.relay.publisher import Publisher
from services.relay.relay import run_relay
from services.runtime import outbox
from services.runtime.outbox import PendingMessage
from tests.relay_topics import messages, on_topics, pool, topics, write_in_transactions

BATCH = 150
UNSENT = "select count(*) from outbox where sent_at is null"
SENT_MESSAGES = "select coalesce(sum(message_count), 0) from outbox where sent_at is not null"


class Crash(Exception):
    """Stands for the relay's process dying: after the publish, before the mark."""


async def relay(pool: asyncpg.Pool, bootstrap: str, crash_after: int | None) -> list[int]:
    """Run the relay until it crashes after its `crash_after`-th batch (or the outbox is
    empty); returns the number of messages of each batch it published."""
    stop, batches = asyncio.Event(), []

    def after_publish(messages: Sequence[PendingMessage]) -> None:
        batches.append(len(messages))
        if len(batches) == crash_after:
            raise Crash

    async def until_empty() -> None:
        # the backlog lives in PostgreSQL: there is no event to wait on, so poll it
        while await pool.fetchval(UNSENT):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        stop.set()

    watcher = asyncio.create_task(until_empty()) if crash_after is None else None
    with contextlib.suppress(Crash):
        await run_relay(pool, bootstrap, stop, batch=BATCH, after_publish=after_publish)
    if watcher is not None:
        await watcher
    return batches


async def test_every_message_is_on_its_topic_once_across_relay_crashes(
        stack: StackConfig, pool: asyncpg.Pool, topics: dict[str, int]) -> None:
    names, bootstrap = list(topics), stack.bootstrap_servers
    # a slow transaction takes low ids and commits after higher ones were published
    slow = await pool.acquire()
    slow_tx = slow.transaction()
    await slow_tx.start()
    await outbox.write(slow, messages(names, 60, first=0))
    async with pool.acquire() as conn:
        await write_in_transactions(conn, messages(names, 400, first=1000), each=31)
    left_unmarked = 0
    for crashes, crash_after in enumerate((2, 1, 3), start=1):
        before = await pool.fetchval(SENT_MESSAGES)
        batches = await relay(pool, bootstrap, crash_after)
        published = len(await on_topics(bootstrap, topics))
        sent = await pool.fetchval(SENT_MESSAGES)
        assert published - sent == batches[-1], "the crash left one batch published, unmarked"
        # the last crash's batch found on the topics and marked, then the batches before this
        # crash published and marked
        assert sent - before == left_unmarked + sum(batches[:-1])
        left_unmarked = batches[-1]
        assert all(0 < n < BATCH + 60 for n in batches), batches  # a row is never split
        if crashes == 1:
            await slow_tx.commit()
            await pool.release(slow)
    await relay(pool, bootstrap, crash_after=None)
    await assert_each_message_once(pool, bootstrap, topics, payouts=460)


async def test_a_row_published_in_part_before_a_crash_is_completed_once(
        stack: StackConfig, pool: asyncpg.Pool, topics: dict[str, int]) -> None:
    """A row's messages go to several partitions; a crash between their acknowledgements
    leaves some on the topics and others not. The next relay publishes only the others."""
    names, bootstrap = list(topics), stack.bootstrap_servers
    async with pool.acquire() as conn:
        await write_in_transactions(conn, messages(names, 90, first=0), each=40)
        rows = await outbox.pending(conn, 10_000)
    first_row = [m for m in rows if m.id == rows[0].id]
    assert len(first_row) > 4
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:  # what the crashed relay got acknowledged: every other message of the first row
        await Publisher(producer).publish(first_row[::2])
    finally:
        await producer.stop()
    await relay(pool, bootstrap, crash_after=None)
    await assert_each_message_once(pool, bootstrap, topics, payouts=90)


async def assert_each_message_once(pool: asyncpg.Pool, bootstrap: str,
                                   topics: dict[str, int], payouts: int) -> None:
    records = await on_topics(bootstrap, topics)
    by_ref = Counter(ref for ref, _ in records)
    stored = await pool.fetch("select id, index, value from outbox_messages")
    assert sorted(by_ref) == sorted((r["id"], r["index"]) for r in stored)
    assert set(by_ref.values()) == {1}
    assert sorted(value for _, value in records) == sorted(r["value"] for r in stored)
    payout_ids = Counter(orjson.loads(value)["payout_id"] for _, value in records
                         if b"payout_id" in value)
    assert len(payout_ids) == payouts
    assert set(payout_ids.values()) == {1}
    assert await pool.fetchval(UNSENT) == 0


async def test_a_fresh_database_never_takes_old_records_for_its_rows(
        stack: StackConfig, pool: asyncpg.Pool, topics: dict[str, int]) -> None:
    """Ids start again at 1 in a database made afresh; the topics still hold the old ones."""
    names, bootstrap = list(topics), stack.bootstrap_servers
    async with pool.acquire() as conn:
        await outbox.write(conn, messages(names, 50, first=0))
    await relay(pool, bootstrap, crash_after=None)
    await pool.execute("truncate outbox restart identity")
    async with pool.acquire() as conn:
        await outbox.write(conn, messages(names, 50, first=0))
    await relay(pool, bootstrap, crash_after=None)
    records = await on_topics(bootstrap, topics)
    assert len(records) == 2 * await pool.fetchval("select count(*) from outbox_messages")


__all__ = ["pool", "topics"]  # the fixtures, for pytest
