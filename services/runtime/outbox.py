"""The outbox: events are written with the effect that caused them and published by a relay.

Ids come from a sequence, taken when a row is inserted, not when its transaction commits: a
slower concurrent transaction can commit a lower id after a higher one was published. So
`pending` may return a row below one already sent; nothing is skipped for good (every row
not marked sent is pending), and the relay never treats "below the highest id sent" as sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg

INSERT = """
insert into outbox (topic, key, value)
select * from unnest($1::text[], $2::bytea[], $3::bytea[])
"""
PENDING = "select id, topic, key, value from outbox where sent_at is null order by id limit $1"
MARK_SENT = "update outbox set sent_at = now() where id = any($1::bigint[])"
PENDING_AMONG = """
select id, key, value from outbox where id = any($1::bigint[]) and sent_at is null
"""
PENDING_TOPICS = "select distinct topic from outbox where sent_at is null"
BACKLOG = """
select count(*), coalesce(extract(epoch from now() - min(created_at)), 0)
from outbox where sent_at is null
"""


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class PendingMessage:
    id: int
    topic: str
    key: bytes | None
    value: bytes


async def write(conn: asyncpg.Connection, messages: Iterable[OutboxMessage]) -> None:
    """Add messages inside the caller's transaction."""
    batch = list(messages)
    if batch:
        await conn.execute(INSERT, [m.topic for m in batch], [m.key for m in batch],
                           [m.value for m in batch])


async def pending(conn: asyncpg.Connection, limit: int) -> list[PendingMessage]:
    rows = await conn.fetch(PENDING, limit)
    return [PendingMessage(r["id"], r["topic"], r["key"], r["value"]) for r in rows]


async def mark_sent(conn: asyncpg.Connection, ids: Sequence[int]) -> None:
    await conn.execute(MARK_SENT, list(ids))


async def pending_among(conn: asyncpg.Connection,
                        ids: Sequence[int]) -> dict[int, tuple[bytes | None, bytes]]:
    """The key and value of each of `ids` that is a row not yet marked sent."""
    rows = await conn.fetch(PENDING_AMONG, list(ids))
    return {r["id"]: (r["key"], r["value"]) for r in rows}


async def pending_topics(conn: asyncpg.Connection) -> list[str]:
    return [r["topic"] for r in await conn.fetch(PENDING_TOPICS)]


async def backlog(conn: asyncpg.Connection) -> tuple[int, float]:
    """Unsent messages and the age in seconds of the oldest."""
    row = await conn.fetchrow(BACKLOG)
    return int(row[0]), float(row[1])
