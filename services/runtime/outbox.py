"""The outbox: events are written with the effect that caused them and published by a relay."""

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


async def backlog(conn: asyncpg.Connection) -> tuple[int, float]:
    """Unsent messages and the age in seconds of the oldest."""
    row = await conn.fetchrow(BACKLOG)
    return int(row[0]), float(row[1])
