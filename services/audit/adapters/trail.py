"""The audit trail in PostgreSQL, inside one transaction: lock the head, append, dead-letter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg

from schemas.topics import AUDIT
from services.audit.adapters.errors import translated
from services.audit.domain.anchor import Anchor
from services.audit.domain.chain import ChainHead, ChainLink
from services.audit.domain.record import ROW_FIELDS
from services.runtime import outbox
from services.runtime.dead_letters import record_dead_letters
from services.runtime.records import Rejected

CONSUMER = "audit"
"""How the audit service names itself in `dead_letters`."""

LOCK_HEAD = "select seq, hash from audit_chain_head for update"
MOVE_HEAD = "update audit_chain_head set seq = $1, hash = $2"
RECORDED = "select audit_id from audit_trail where audit_id = any($1::text[])"
LINK_COLUMNS = ("prev_hash", "hash", "recorded_at", "format")
COLUMNS = ("seq", *ROW_FIELDS, *LINK_COLUMNS)
"""The trail's columns: the link's seq, the record's fields (the contract's), the link's own."""
KEEP_ANCHOR = """
insert into audit_anchors (seq, hash, signed_at, key_id, signature) values ($1, $2, $3, $4, $5)
on conflict do nothing
"""
ANCHOR_KEY = b"chain-anchor"
"""The key of anchors on topic `audit`: one partition, so they stay in order."""


@asynccontextmanager
async def open_trail(pool: asyncpg.Pool) -> AsyncIterator[PostgresTrail]:
    """The trail in a new transaction, committed when the block ends without an error."""
    async with (translated("record a batch in the audit trail"), pool.acquire() as conn,
                conn.transaction()):
        yield PostgresTrail(conn)


class PostgresTrail:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def lock_head(self) -> ChainHead:
        row = await self._conn.fetchrow(LOCK_HEAD)
        return ChainHead(row["seq"], row["hash"])

    async def recorded(self, audit_ids: Sequence[str]) -> set[str]:
        return {row["audit_id"] for row in await self._conn.fetch(RECORDED, audit_ids)}

    async def append(self, links: Sequence[ChainLink]) -> None:
        # COPY: the cheapest way in for a batch of thousands (no per-element array encoding)
        await self._conn.copy_records_to_table(
            "audit_trail", columns=COLUMNS, records=copy_rows(links))

    async def move_head(self, head: ChainHead) -> None:
        await self._conn.execute(MOVE_HEAD, head.seq, head.hash)

    async def dead_letter(self, rejected: Sequence[Rejected], now: datetime) -> None:
        await record_dead_letters(self._conn, CONSUMER, rejected, now)

    async def anchor(self, anchor: Anchor) -> None:
        await self._conn.execute(KEEP_ANCHOR, anchor.head.seq, anchor.head.hash,
                                 anchor.signed_at, anchor.key_id, anchor.signature)
        await outbox.write(self._conn, [outbox.OutboxMessage(AUDIT, ANCHOR_KEY, anchor.to_json())])


def copy_rows(links: Sequence[ChainLink]) -> list[tuple[object, ...]]:
    """The links as rows of `COLUMNS`, for COPY."""
    return [_row(link) for link in links]


def _row(link: ChainLink) -> tuple[object, ...]:
    """A link as a row of `COLUMNS`."""
    return (link.seq, *link.record.row(), link.prev_hash, link.hash, link.recorded_at,
            link.format)
