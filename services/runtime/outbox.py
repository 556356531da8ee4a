"""The outbox: events are written with the effect that caused them and published by a relay.

One row per topic per `write`: its messages in order, `message_keys[i]` with
`message_values[i]`. A ledger batch of hundreds of events is one row per topic, not one per
message, so the insert and the relay's mark-sent are paid per batch. A message is named by
its row's id and its index in the row (`MessageRef`).

Ids come from a sequence, taken when a row is inserted, not when its transaction commits: a
slower concurrent transaction can commit a lower id after a higher one was published. So
`pending` may return a row below one already sent; nothing is skipped for good (every row
not marked sent is pending), and the relay never treats "below the highest id sent" as sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import asyncpg

MessageRef = tuple[int, int]
"""(outbox row id, index of the message in its row)."""

INSERT = "insert into outbox (topic, message_keys, message_values) values ($1, $2, $3)"
PENDING = """
select id, topic, message_keys, message_values from (
    select id, topic, message_keys, message_values,
           sum(message_count) over (order by id) - message_count as before
    from outbox where sent_at is null) as unsent
where before < $1 order by id
"""
MARK_SENT = "update outbox set sent_at = now() where id = any($1::bigint[])"
PENDING_AMONG = """
select id, topic, message_keys, message_values from outbox
where id = any($1::bigint[]) and sent_at is null
"""
PENDING_TOPICS = "select distinct topic from outbox where sent_at is null"
BACKLOG = """
select coalesce(sum(message_count), 0), coalesce(extract(epoch from now() - min(created_at)), 0)
from outbox where sent_at is null
"""


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: bytes | None
    value: bytes


class PendingMessage(NamedTuple):
    """A message of a pending row (a tuple: the relay makes one per message it sends, and a
    frozen dataclass costs several times as much to make)."""

    id: int
    """The row's id."""
    position: int
    """The message's index in its row, from 0."""
    topic: str
    key: bytes | None
    value: bytes

    @property
    def ref(self) -> MessageRef:
        return self.id, self.position


PendingRows = dict[int, tuple[str, list[bytes | None], list[bytes]]]
"""Pending rows by id: their topic, keys and values."""


async def write(conn: asyncpg.Connection, messages: Iterable[OutboxMessage]) -> None:
    """Add messages inside the caller's transaction: one row per topic, in their order."""
    by_topic: dict[str, tuple[list[bytes | None], list[bytes]]] = {}
    for m in messages:
        keys, values = by_topic.setdefault(m.topic, ([], []))
        keys.append(m.key)
        values.append(m.value)
    if by_topic:
        await conn.executemany(INSERT, [(topic, keys, values)
                                        for topic, (keys, values) in by_topic.items()])


async def pending(conn: asyncpg.Connection, limit: int) -> list[PendingMessage]:
    """The oldest rows not marked sent, flattened, up to the row that reaches `limit`
    messages (a row is never split: the first is taken whatever its size)."""
    return [PendingMessage(r["id"], i, r["topic"], key, value)
            for r in await conn.fetch(PENDING, limit)
            for i, (key, value) in enumerate(zip(r["message_keys"], r["message_values"],
                                                 strict=True))]


async def mark_sent(conn: asyncpg.Connection, ids: Iterable[int]) -> None:
    await conn.execute(MARK_SENT, sorted(set(ids)))


async def pending_among(conn: asyncpg.Connection, ids: Sequence[int]) -> PendingRows:
    """The topic, keys and values of each of `ids` that is a row not yet marked sent."""
    rows = await conn.fetch(PENDING_AMONG, sorted(set(ids)))
    return {r["id"]: (r["topic"], list(r["message_keys"]), list(r["message_values"]))
            for r in rows}


async def pending_topics(conn: asyncpg.Connection) -> list[str]:
    return [r["topic"] for r in await conn.fetch(PENDING_TOPICS)]


async def backlog(conn: asyncpg.Connection) -> tuple[int, float]:
    """Unsent messages and the age in seconds of the oldest."""
    row = await conn.fetchrow(BACKLOG)
    return int(row[0]), float(row[1])
