"""The audit trail read back for verification: one consistent snapshot, streamed in seq order."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson

from services.audit.adapters.errors import translated
from services.audit.adapters.trail import COLUMNS
from services.audit.domain.anchor import Anchor
from services.audit.domain.chain import ChainHead, ChainLink
from services.audit.domain.record import RECORD_FIELDS, TrailRecord

PREFETCH = 5_000
READ_HEAD = "select seq, hash from audit_chain_head"
_SELECTED = ("trace::text as trace" if name == "trace" else name for name in COLUMNS)
# the column names are the contract's field names (COLUMNS), not input
READ_CHAIN = f"select {', '.join(_SELECTED)} from audit_trail order by seq"  # noqa: S608
NEWEST_ANCHOR = """
select seq, hash, signed_at, key_id, signature from audit_anchors where key_id = $1
 order by seq desc, signed_at desc limit 1
"""
HASH_AT = "select hash from audit_trail where seq = $1"


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

    async def newest_anchor(self, key_id: str) -> Anchor | None:
        """The newest anchor kept in the database that names the key `key_id`."""
        row = await self._conn.fetchrow(NEWEST_ANCHOR, key_id)
        if row is None:
            return None
        return Anchor(ChainHead(row["seq"], row["hash"]), row["signed_at"], row["key_id"],
                      row["signature"])

    async def hash_at(self, seq: int) -> bytes | None:
        hashed: bytes | None = await self._conn.fetchval(HASH_AT, seq)
        return hashed

    async def links(self) -> AsyncGenerator[ChainLink, None]:
        """Every link in seq order, through a server-side cursor."""
        async for row in self._conn.cursor(READ_CHAIN, prefetch=PREFETCH):
            yield link_of(row)


def link_of(row: Any) -> ChainLink:
    record = TrailRecord({name: row[name] for name in RECORD_FIELDS})
    record.values["trace"] = orjson.loads(row["trace"])
    return ChainLink(row["seq"], record, row["prev_hash"], row["hash"], row["recorded_at"],
                     row["format"])
