"""The audit trail in PostgreSQL, inside one transaction: lock the head, append, dead-letter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg

from services.audit.adapters.errors import translated
from services.audit.domain.chain import ChainHead, ChainLink
from services.runtime.dead_letters import record_dead_letters
from services.runtime.records import Rejected

CONSUMER = "audit"
"""How the audit service names itself in `dead_letters`."""

LOCK_HEAD = "select seq, hash from audit_chain_head for update"
MOVE_HEAD = "update audit_chain_head set seq = $1, hash = $2"
RECORDED = "select audit_id from audit_trail where audit_id = any($1::text[])"
APPEND = """
insert into audit_trail (seq, audit_id, decision, reason, programme, member_id, card_id,
                         source_event_id, source_topic, transaction_id, amount_fen,
                         occurred_at, trace, prev_hash, hash)
select seq, audit_id, decision, reason, programme, member_id, card_id, source_event_id,
       source_topic, transaction_id, amount_fen, occurred_at, trace::jsonb, prev_hash, hash
  from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[],
              $12::timestamptz[], $13::text[], $14::bytea[], $15::bytea[])
    as t(seq, audit_id, decision, reason, programme, member_id, card_id, source_event_id,
         source_topic, transaction_id, amount_fen, occurred_at, trace, prev_hash, hash)
"""


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
        records = [link.record for link in links]
        await self._conn.execute(
            APPEND, [link.seq for link in links], [r.audit_id for r in records],
            [r.decision for r in records], [r.reason for r in records],
            [r.programme for r in records], [r.member_id for r in records],
            [r.card_id for r in records], [r.source_event_id for r in records],
            [r.source_topic for r in records], [r.transaction_id for r in records],
            [r.amount_fen for r in records], [r.occurred_at for r in records],
            [r.trace_json() for r in records], [link.prev_hash for link in links],
            [link.hash for link in links])

    async def move_head(self, head: ChainHead) -> None:
        await self._conn.execute(MOVE_HEAD, head.seq, head.hash)

    async def dead_letter(self, rejected: Sequence[Rejected], now: datetime) -> None:
        await record_dead_letters(self._conn, CONSUMER, rejected, now)
