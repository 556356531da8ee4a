"""Run the ledger services in-process against the real stack, for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from engine.catalogue import load_catalogue
from puhui.settings import Connections
from services.bootstrap import BUILDS, Parts
from services.runtime import db
from services.runtime.metrics import ServiceMetrics
from tests.feeds import Line

KEY_FIELD = {"card.transactions": "card_id", "member.enrolment": "member_id",
             "clock.days": "date"}
"""The message key of each inbound topic, as PRODUCT.md's contract sets it."""


RawLine = tuple[str, bytes, bytes]  # (topic, key, raw value): for messages that are not JSON


async def produce(bootstrap: str, lines: Sequence[Line | RawLine]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for line in lines:
            if len(line) == 3:
                topic, key, raw = line
            else:
                topic, value = line
                key = str(value[KEY_FIELD[topic]]).encode()
                raw = orjson.dumps(value)
            await producer.send(topic, raw, key=key)
        await producer.flush()
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def running_services(bootstrap: str, dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """enrolment, disbursement and the relay as tasks, each over a pool signed in as its own
    role (as `puhui service` does); yields the owner's pool (`dsn`) for assertions."""
    pool = await db.create_pool(dsn, max_size=6)
    await db.migrate(pool)
    connections = Connections(bootstrap, dsn)
    own = {name: await db.create_pool(connections.service_database_url(name), max_size=3)
           for name in ("enrolment", "disbursement", "relay")}
    stop = asyncio.Event()
    catalogue = load_catalogue()
    tasks = [asyncio.create_task(BUILDS[name](Parts(
                 bootstrap, service_pool, ServiceMetrics.create(name), catalogue))(stop))
             for name, service_pool in own.items()]  # built as `puhui service NAME` builds it
    try:
        yield pool
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for service_pool in (*own.values(), pool):
            await service_pool.close()


async def wait_for(pool: asyncpg.Pool, query: str, args: Sequence[object], want: int,
                   seconds: float = 90.0) -> int:
    """Poll `query` (a count) until it reaches `want` or time runs out; returns the last."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        got = int(await pool.fetchval(query, *args))
        if got >= want or asyncio.get_running_loop().time() > deadline:
            return got
        await asyncio.sleep(0.3)
