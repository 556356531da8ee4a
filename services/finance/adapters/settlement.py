"""Settlement in PostgreSQL: one transaction per action, with its audit record in the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from services.finance.adapters.errors import translated
from services.finance.domain.confirmation import Change, Standing
from services.finance.domain.files import SettlementLine
from services.finance.domain.settlement import (
    LARGE_PAYOUT_FEN,
    Batch,
    BatchStatus,
    SettlementState,
)
from services.runtime import outbox

LOCK_DAY = "select pg_advisory_xact_lock(hashtext('finance-batch:' || $1 || ':' || $2::text))"
DAY_BATCHES = "select count(*) from settlement_batches where programme = $1 and business_day = $2"
NEW_BATCH = """
insert into settlement_batches (batch_id, programme, business_day, status, payout_count,
                                total_fen, prepared_by, prepared_at)
values ($1, $2, $3, 'prepared', 0, 0, $4, $5)
"""
# a payout joins a batch only from `pending` (or no row yet): one payout, at most one batch
GATHER = """
with taken as (
    insert into payout_settlement (payout_id, recorded_at, amount_fen, state, batch_id,
                                   updated_at)
    select p.payout_id, p.recorded_at, p.amount_fen, 'batched', $1, $5 from payouts p
     where p.programme = $2 and p.occurred_at >= $3 and p.occurred_at < $4
    on conflict (payout_id) do update
       set state = 'batched', batch_id = excluded.batch_id, updated_at = excluded.updated_at
     where payout_settlement.state = 'pending'
    returning amount_fen
)
select count(*) as payout_count, coalesce(sum(amount_fen), 0)::bigint as total_fen from taken
"""
SET_BATCH_TOTALS = """
update settlement_batches set payout_count = $2, total_fen = $3 where batch_id = $1
"""
LOCK_BATCH = "select * from settlement_batches where batch_id = $1 for update"
UNAPPROVED_LARGE = f"""
select payout_id from payout_settlement
 where batch_id = $1 and abs(amount_fen) > {LARGE_PAYOUT_FEN} and approved_by is null
 order by payout_id
"""
APPROVED_BY = """
select payout_id from payout_settlement where batch_id = $1 and approved_by = $2
 order by payout_id
"""
PREPARER = "select prepared_by from settlement_batches where batch_id = $1"
APPROVE_BATCH = """
update settlement_batches set status = 'approved', approved_by = $2, approved_at = $3
 where batch_id = $1
"""
ENSURE_SETTLEMENT_ROW = """
insert into payout_settlement (payout_id, recorded_at, amount_fen, state)
select payout_id, recorded_at, amount_fen, 'pending' from payouts where payout_id = $1
on conflict (payout_id) do nothing
"""
LOCK_PAYOUT = """
select p.payout_id, p.amount_fen, p.member_id, p.programme, s.state, s.approved_by,
       s.batch_id, s.failure_reason, b.prepared_by
  from payout_settlement s join payouts p using (payout_id)
  left join settlement_batches b on b.batch_id = s.batch_id
 where s.payout_id = $1 for update of s
"""
APPROVE_PAYOUT = """
update payout_settlement set approved_by = $2, approved_at = $3, updated_at = $3
 where payout_id = $1
"""
EXPORT_BATCH = """
update settlement_batches set status = 'exported', exported_by = $2, exported_at = $3
 where batch_id = $1
"""
EXPORT_PAYOUTS = """
update payout_settlement set state = 'exported', updated_at = $2
 where batch_id = $1 and state = 'batched'
"""
SETTLEMENT_LINES = """
select p.payout_id, p.member_id, n.name, c.card_id, p.amount_fen, p.programme, p.occurred_at
  from payout_settlement s join payouts p using (payout_id)
  left join member_names n on n.member_id = p.member_id
  left join lateral (select h.card_id from card_holdings h where h.member_id = p.member_id
                      order by h.updated_at desc, h.card_id limit 1) c on true
 where s.batch_id = $1 and s.state in ('exported', 'settled', 'failed')
 order by p.payout_id
"""
LOCK_CONFIRMED = """
select payout_id, batch_id, state, amount_fen from payout_settlement
 where payout_id = any($1::text[]) order by payout_id for update
"""
CONFIRM = """
update payout_settlement s
   set state = c.state, bank_reference = c.reference, failure_reason = c.reason,
       updated_at = $5
  from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as c(payout_id, state, reference,
                                                                     reason)
 where s.payout_id = c.payout_id
"""
CLOSE_BATCHES = """
update settlement_batches b set status = 'closed'
 where b.batch_id = any($1::text[]) and b.status = 'exported'
   and not exists (select 1 from payout_settlement s
                    where s.batch_id = b.batch_id and s.state in ('batched', 'exported'))
"""
REQUEUE = """
update payout_settlement set state = 'pending', batch_id = null, updated_at = $2
 where payout_id = $1
"""


@dataclass(frozen=True, slots=True)
class LockedPayout:
    payout_id: str
    amount_fen: int
    member_id: str
    programme: str
    state: SettlementState
    approved_by: str | None
    batch_id: str | None
    preparer: str | None


def batch_of(row: asyncpg.Record | dict[str, Any]) -> Batch:
    return Batch(row["batch_id"], row["programme"], row["business_day"],
                 BatchStatus(row["status"]), row["payout_count"], row["total_fen"],
                 row["prepared_by"], row["prepared_at"], row["approved_by"], row["approved_at"],
                 row["exported_by"], row["exported_at"])


class SettlementStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def transaction(self, doing: str) -> AsyncIterator[SettlementUnit]:
        """One action: everything it writes, its audit record included, commits together."""
        async with translated(doing), self._pool.acquire() as conn, conn.transaction():
            yield SettlementUnit(conn)


class SettlementUnit:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def record(self, messages: Sequence[outbox.OutboxMessage]) -> None:
        await outbox.write(self._conn, messages)

    async def open_batch(self, programme: str, day: date, preparer: str,
                         now: datetime,
                         make_id: Callable[[str, date, int], str]) -> str:
        """A new, empty batch of this programme and day (serialised per programme and day)."""
        await self._conn.execute(LOCK_DAY, programme, day.isoformat())
        number = int(await self._conn.fetchval(DAY_BATCHES, programme, day)) + 1
        batch_id = make_id(programme, day, number)
        await self._conn.execute(NEW_BATCH, batch_id, programme, day, preparer, now)
        return batch_id

    async def gather(self, batch_id: str, programme: str, start: datetime, end: datetime,
                     now: datetime) -> tuple[int, int]:
        """Move the programme's pending payouts of [start, end) into the batch: (count, fen)."""
        row = await self._conn.fetchrow(GATHER, batch_id, programme, start, end, now)
        count, total = int(row["payout_count"]), int(row["total_fen"])
        await self._conn.execute(SET_BATCH_TOTALS, batch_id, count, total)
        return count, total

    async def lock_batch(self, batch_id: str) -> Batch | None:
        row = await self._conn.fetchrow(LOCK_BATCH, batch_id)
        return None if row is None else batch_of(row)

    async def unapproved_large(self, batch_id: str) -> list[str]:
        return [r["payout_id"] for r in await self._conn.fetch(UNAPPROVED_LARGE, batch_id)]

    async def approved_by(self, batch_id: str, who: str) -> list[str]:
        """The payouts of the batch that `who` approved on their own."""
        return [r["payout_id"] for r in await self._conn.fetch(APPROVED_BY, batch_id, who)]

    async def approve_batch(self, batch_id: str, approver: str, now: datetime) -> None:
        await self._conn.execute(APPROVE_BATCH, batch_id, approver, now)

    async def lock_payout(self, payout_id: str) -> LockedPayout | None:
        await self._conn.execute(ENSURE_SETTLEMENT_ROW, payout_id)
        row = await self._conn.fetchrow(LOCK_PAYOUT, payout_id)
        if row is None:
            return None
        # read again once the row is locked: a batch that gathered it meanwhile was not in
        # the snapshot the join above saw
        preparer = None if row["batch_id"] is None else \
            await self._conn.fetchval(PREPARER, row["batch_id"])
        return LockedPayout(row["payout_id"], row["amount_fen"], row["member_id"],
                            row["programme"], SettlementState(row["state"]), row["approved_by"],
                            row["batch_id"], preparer)

    async def approve_payout(self, payout_id: str, approver: str, now: datetime) -> None:
        await self._conn.execute(APPROVE_PAYOUT, payout_id, approver, now)

    async def mark_exported(self, batch_id: str, who: str, now: datetime) -> None:
        await self._conn.execute(EXPORT_BATCH, batch_id, who, now)
        await self._conn.execute(EXPORT_PAYOUTS, batch_id, now)

    async def settlement_lines(self, batch_id: str) -> list[SettlementLine]:
        rows = await self._conn.fetch(SETTLEMENT_LINES, batch_id)
        return [SettlementLine(r["payout_id"], r["member_id"], r["name"], r["card_id"],
                               r["amount_fen"], r["programme"], r["occurred_at"]) for r in rows]

    async def lock_confirmed(self, payout_ids: Sequence[str]) -> dict[str, Standing]:
        rows = await self._conn.fetch(LOCK_CONFIRMED, list(payout_ids))
        return {r["payout_id"]: Standing(r["payout_id"], r["batch_id"],
                                          SettlementState(r["state"]), r["amount_fen"])
                for r in rows}

    async def confirm(self, changes: Sequence[Change], now: datetime) -> None:
        if changes:
            await self._conn.execute(
                CONFIRM, [c.payout_id for c in changes], [c.state.value for c in changes],
                [c.bank_reference for c in changes], [c.reason for c in changes], now)

    async def close_batches(self, batch_ids: Sequence[str]) -> None:
        await self._conn.execute(CLOSE_BATCHES, list(batch_ids))

    async def requeue(self, payout_id: str, now: datetime) -> None:
        await self._conn.execute(REQUEUE, payout_id, now)
