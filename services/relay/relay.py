"""Publish the outbox in id order; one relay leads at a time (a PostgreSQL advisory lock).

A crash between publishing and marking sent publishes those rows again: consumers of
`payouts` and `audit` key on payout_id and audit_id, so that is harmless; nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.runtime import outbox
from services.runtime.errors import TransientFailure
from services.runtime.pg_errors import translate_errors

log = logging.getLogger(__name__)
RELAY_LOCK = 7_102_002
BATCH = 5000


async def run_relay(pool: asyncpg.Pool, bootstrap: str, stop: asyncio.Event,
                    on_sent: Callable[[int], None] | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                acks="all", linger_ms=5, max_batch_size=256 * 1024,
                                compression_type=None)
    try:
        await producer.start()
    except KafkaError as exc:
        raise TransientFailure(f"relay: Kafka producer could not start: {exc!r}") from exc
    try:
        async with translate_errors("relay the outbox"), pool.acquire() as conn:
            await _lead(conn, stop)
            while not stop.is_set():
                sent = await _relay_once(conn, producer)
                if on_sent is not None:
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


async def _relay_once(conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
    batch = await outbox.pending(conn, BATCH)
    if not batch:
        return 0
    futures = [await producer.send(m.topic, m.value, key=m.key) for m in batch]
    await asyncio.gather(*futures)
    await outbox.mark_sent(conn, [m.id for m in batch])
    return len(batch)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
