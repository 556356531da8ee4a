"""The audit trail read back for verification: one consistent snapshot, streamed in seq order."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from services.audit.adapters.errors import translated
from services.audit.domain.chain import ChainHead, ChainLink
from services.audit.domain.record import TrailRecord

PREFETCH = 5_000
READ_HEAD = "select seq, hash from audit_chain_head"
READ_CHAIN = """
select seq, audit_id, decision, reason, programme, member_id, card_id, source_event_id,
       source_topic, transaction_id, amount_fen, occurred_at, trace::text as trace,
       prev_hash, hash
  from audit_trail
 order by seq
"""


@asynccontextmanager
async def snapshot(database_url: str) -> AsyncIterator[TrailSnapshot]:
    """The trail as of one moment (a read-only repeatable-read transaction)."""
    async with translated("read the audit trail"):
        conn = await asyncpg.connect(database_url)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                yield TrailSnapshot(conn)
        finally:
            await conn.close()


class TrailSnapshot:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def head(self) -> ChainHead:
        row = await self._conn.fetchrow(READ_HEAD)
        return ChainHead(row["seq"], row["hash"])

    async def links(self) -> AsyncGenerator[ChainLink, None]:
        """Every link in seq order, through a server-side cursor."""
        async for row in self._conn.cursor(READ_CHAIN, prefetch=PREFETCH):
            yield link_of(row)


def link_of(row: Any) -> ChainLink:
    record = TrailRecord(
        row["audit_id"], row["decision"], row["reason"], row["programme"], row["member_id"],
        row["card_id"], row["source_event_id"], row["source_topic"], row["transaction_id"],
        row["amount_fen"], row["occurred_at"], orjson.loads(row["trace"]))
    return ChainLink(row["seq"], record, row["prev_hash"], row["hash"])
