"""Latency at a fixed offered rate: from a swipe's event time to its payout recorded.

Each swipe is stamped `occurred_at` = the moment it is produced. "Recorded" is the commit of
the transaction that inserted the payout: the bench database's trigger NOTIFYs on insert,
and PostgreSQL delivers that at commit, naming the transaction by its start (`now()`, which
is the payout row's `recorded_at`; two transactions started in the same microsecond would be
taken for one).
`recorded_at` (the transaction's start, `now()`) is reported beside it: it leaves out the
time the batch spent in its transaction.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from puhui.bench.fresh import COMMIT_SIGNAL
from puhui.bench.plan import stamp_now
from schemas.topics import CARD_TRANSACTIONS, key_of

TICK_SECONDS = 0.005
PAYOUTS_OF = """
select extract(epoch from occurred_at)::float8 as occurred,
       (extract(epoch from recorded_at) * 1000000)::bigint as started_us,
       extract(epoch from recorded_at - occurred_at)::float8 as to_recorded_at
from payouts where source_event_id = any($1::text[])
"""


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Percentiles:
        ordered = sorted(seconds)
        if not ordered:
            return cls(0, math.nan, math.nan, math.nan, math.nan)

        def rank(p: float) -> float:
            return round(1000 * ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)], 1)

        return cls(len(ordered), rank(50), rank(95), rank(99), rank(100))


@dataclass
class CommitClock:
    """Listens for the bench trigger: when each transaction that inserted payouts committed,
    by its start in microseconds."""

    dsn: str
    committed: dict[int, float] = field(default_factory=dict)
    _conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> CommitClock:
        self._conn = await asyncpg.connect(self.dsn)
        await self._conn.add_listener(COMMIT_SIGNAL, self._heard)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._conn is not None:
            await self._conn.close()

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self.committed.setdefault(int(payload), time.time())


async def offer(bootstrap: str, swipes: Iterator[dict[str, Any]], rate: int,
                seconds: float) -> list[str]:
    """Produce `rate` swipes a second for `seconds`, each stamped as it goes; their ids."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True,
                                acks="all", linger_ms=1)
    await producer.start()
    ids: list[str] = []
    try:
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            for _ in range(int(rate * elapsed) - len(ids)):
                value = stamp_now(next(swipes))
                await producer.send(CARD_TRANSACTIONS, orjson.dumps(value),
                                    key=key_of(CARD_TRANSACTIONS, value))
                ids.append(value["event_id"])
            await asyncio.sleep(TICK_SECONDS)
        await producer.flush()
    finally:
        await producer.stop()
    return ids


@dataclass(frozen=True)
class Latency:
    offered_rate: int
    offered: int
    seconds: float
    to_commit: Percentiles
    to_recorded_at: Percentiles
    unheard: int
    """Payouts whose commit the listener did not hear (left out of `to_commit`)."""


async def measure(dsn: str, clock: CommitClock, ids: list[str], rate: int,
                  seconds: float) -> Latency:
    """The latencies of the payouts of `ids`, once they are all recorded."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(PAYOUTS_OF, ids)
    finally:
        await conn.close()
    commits = [clock.committed[r["started_us"]] - r["occurred"] for r in rows
               if r["started_us"] in clock.committed]
    return Latency(rate, len(ids), seconds, Percentiles.of(commits),
                   Percentiles.of([r["to_recorded_at"] for r in rows]), len(rows) - len(commits))
