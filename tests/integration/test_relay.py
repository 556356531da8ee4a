"""The relay on the real Kafka and PostgreSQL: every outbox row on its topic exactly once,
however often the relay dies between publishing a batch and marking it sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence

import asyncpg
import orjson

from puhui.stack.config import StackConfig
from services.relay.relay import run_relay
from services.runtime import outbox
from services.runtime.outbox import PendingMessage
from tests.relay_topics import messages, on_topics, pool, topics

BATCH = 150


class Crash(Exception):
    """Stands for the relay's process dying: after the publish, before the mark."""


async def relay(pool: asyncpg.Pool, bootstrap: str, crash_after: int | None) -> int:
    """Run the relay until it crashes after its `crash_after`-th batch (or the outbox is
    empty); returns how many rows it marked sent."""
    stop, batches, sent = asyncio.Event(), [0], [0]

    def after_publish(_rows: Sequence[PendingMessage]) -> None:
        batches[0] += 1
        if batches[0] == crash_after:
            raise Crash

    async def until_empty() -> None:
        # the backlog lives in PostgreSQL: there is no event to wait on, so poll it
        while await pool.fetchval("select count(*) from outbox where sent_at is null"):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        stop.set()

    watcher = asyncio.create_task(until_empty()) if crash_after is None else None
    with contextlib.suppress(Crash):
        await run_relay(pool, bootstrap, stop, lambda n: sent.__setitem__(0, sent[0] + n),
                        batch=BATCH, after_publish=after_publish)
    if watcher is not None:
        await watcher
    return sent[0]


async def test_every_row_is_on_its_topic_once_across_relay_crashes(
        stack: StackConfig, pool: asyncpg.Pool, topics: dict[str, int]) -> None:
    names, bootstrap = list(topics), stack.bootstrap_servers
    # a slow transaction takes low ids and commits after higher ones were published
    slow = await pool.acquire()
    slow_tx = slow.transaction()
    await slow_tx.start()
    await outbox.write(slow, messages(names, 60, first=0))
    async with pool.acquire() as conn:
        await outbox.write(conn, messages(names, 400, first=1000))
    for crashes, crash_after in enumerate((2, 1, 3), start=1):
        marked = await relay(pool, bootstrap, crash_after)
        published = len(await on_topics(bootstrap, topics))
        sent = await pool.fetchval("select count(*) from outbox where sent_at is not null")
        assert published - sent == BATCH, "the crash left one batch published, not marked"
        assert marked == (crash_after - 1) * BATCH
        if crashes == 1:
            await slow_tx.commit()
            await pool.release(slow)
    await relay(pool, bootstrap, crash_after=None)

    records = await on_topics(bootstrap, topics)
    ids = [r["id"] for r in await pool.fetch("select id from outbox")]
    by_id = Counter(outbox_id for outbox_id, _ in records)
    assert sorted(by_id) == sorted(ids)
    assert set(by_id.values()) == {1}
    payout_ids = Counter(orjson.loads(value)["payout_id"] for outbox_id, value in records
                         if b"payout_id" in value)
    assert len(payout_ids) == 460
    assert set(payout_ids.values()) == {1}
    assert await pool.fetchval("select count(*) from outbox where sent_at is null") == 0


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
    assert len(records) == 2 * await pool.fetchval("select count(*) from outbox")


__all__ = ["pool", "topics"]  # the fixtures, for pytest
