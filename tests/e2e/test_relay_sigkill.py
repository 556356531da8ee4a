"""The relay as a process, SIGKILLed mid-stream three times: every outbox message on its
topic exactly once all the same."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from puhui.stack.config import StackConfig
from tests.relay_topics import (
    DATABASE,
    messages,
    on_topics,
    pool,
    topics,
    write_in_transactions,
)

METRICS_PORT = 45150
MADE = 25_200
"""Messages the test writes: 12,000 payouts, their audit records and 1,200 dead letters
(six batches of the relay)."""
SLICE = 0.003
"""How long the relay runs between two looks (seconds)."""
SENT = "select coalesce(sum(message_count), 0) from outbox where sent_at is not null"
"""Messages marked sent (with their rows)."""


def start_relay(stack: StackConfig, dsn: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PUHUI_KAFKA_BOOTSTRAP": stack.bootstrap_servers,
           "PUHUI_DATABASE_URL": dsn}
    logs = stack.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "service-relay-sigkill.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "puhui", "service", "relay",
                                 "--metrics-port", str(METRICS_PORT)],
                                env=env, stdout=log, stderr=log)


async def until(pool: asyncpg.Pool, query: str, done: int, seconds: float = 60.0) -> int:
    deadline = asyncio.get_running_loop().time() + seconds
    got = 0
    while asyncio.get_running_loop().time() < deadline:
        got = int(await pool.fetchval(query))
        if got >= done:
            break
        await asyncio.sleep(0.02)
    return got


async def until_published_unmarked(pool: asyncpg.Pool, bootstrap: str,
                                   topics: dict[str, int], relay: subprocess.Popen[bytes],
                                   after: int) -> None:
    """Return, with the relay stopped (SIGSTOP), once `after` messages are marked sent and
    the topics hold more than are marked: the relay is between a publish and its mark.

    The relay runs in slices of a few milliseconds and is frozen while the test looks, so a
    fast relay cannot publish and mark a whole batch between two looks."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
        deadline = asyncio.get_running_loop().time() + 120
        while asyncio.get_running_loop().time() < deadline:
            relay.send_signal(signal.SIGSTOP)
            sent = int(await pool.fetchval(SENT))
            published = sum((await consumer.end_offsets(partitions)).values())
            if sent >= after and published > sent:
                return
            assert sent < MADE, f"the relay marked all {MADE} messages before a kill after {after}"
            relay.send_signal(signal.SIGCONT)
            await asyncio.sleep(SLICE)
        raise AssertionError(f"the relay never stood between a publish and its mark after {after}")
    finally:
        await consumer.stop()


async def test_a_relay_killed_mid_stream_publishes_every_message_once(
        stack: StackConfig, pool: asyncpg.Pool, topics: dict[str, int]) -> None:
    names, bootstrap = list(topics), stack.bootstrap_servers
    made = messages(names, 12_000, first=0)
    assert len(made) == MADE
    async with pool.acquire() as conn:
        await write_in_transactions(conn, made, each=1_200)  # rows as a ledger batch writes
    dsn = stack.database_url.rsplit("/", 1)[0] + f"/{DATABASE}"
    unmarked = []
    for marked in (1, 10_000, 15_000):  # killed between a publish and its mark, three times
        relay = start_relay(stack, dsn)
        try:
            await until_published_unmarked(pool, bootstrap, topics, relay, marked)
        finally:
            relay.send_signal(signal.SIGKILL)
            relay.wait(timeout=10)
        unmarked.append(len(await on_topics(bootstrap, topics)) - await pool.fetchval(SENT))
    assert min(unmarked) > 0, f"a kill left no published message unmarked ({unmarked})"
    assert await pool.fetchval(SENT) < len(made)
    relay = start_relay(stack, dsn)
    try:
        assert await until(pool, SENT, len(made)) == len(made)
    finally:
        relay.terminate()
        relay.wait(timeout=30)

    records = await on_topics(bootstrap, topics)
    by_ref = Counter(ref for ref, _ in records)
    assert sorted(by_ref) == sorted((r["id"], r["index"]) for r in await pool.fetch(
        "select id, index from outbox_messages"))
    assert set(by_ref.values()) == {1}
    payout_ids = Counter(orjson.loads(value)["payout_id"] for _, value in records
                         if b"payout_id" in value)
    assert len(payout_ids) == 12_000
    assert set(payout_ids.values()) == {1}


__all__ = ["pool", "topics"]  # the fixtures, for pytest
