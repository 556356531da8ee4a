"""The watch's signals as finance reads them, and the review of one (with its audit record)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson

from schemas.signals import Signal
from services.finance.adapters.errors import translated
from services.finance.domain.settlement import NotFound
from services.finance.domain.watch import SignalAction, next_status
from services.runtime import outbox

Row = dict[str, Any]
REVIEW_COLUMNS = ("raised_at", "status", "reviewed_by", "reviewed_at", "note")
"""What finance keeps beside the watch's signal (schemas/signals.py, whose fields lead)."""
COLUMNS = ", ".join((*Signal.model_fields, *REVIEW_COLUMNS))
LIST = f"""
select {COLUMNS} from watch_signals
where ($1::text is null and status <> 'reviewed') or status = $1
order by raised_at desc, signal_id desc limit $2
"""
ONE = f"select {COLUMNS} from watch_signals where signal_id = $1"
LOCK = f"select {COLUMNS} from watch_signals where signal_id = $1 for update"
MARK = """
update watch_signals set status = $2, reviewed_by = $3, reviewed_at = $4, note = $5
where signal_id = $1
"""
# a merchant's payouts around the window (payouts_merchant_recorded has merchant, time)
MERCHANT_PAYOUTS = """
select payout_id, kind, member_id, programme, amount_fen, transaction_id, occurred_at
from payouts where merchant_id = $1 and occurred_at >= $2 and occurred_at < $3
order by occurred_at desc limit 50
"""
# what the ledger decided on the signal's example transactions (purchases and refunds)
DECISIONS = """
select audit_id, decision, reason, programme, member_id, card_id, transaction_id, amount_fen,
       occurred_at
from audit_trail where transaction_id = any($1::text[]) order by seq desc limit 50
"""
AROUND = timedelta(hours=6)


def _row(record: asyncpg.Record) -> Row:
    row = dict(record)
    for field in ("figures", "thresholds"):
        if isinstance(row.get(field), str):
            row[field] = orjson.loads(row[field])
    return row


class WatchViews:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def signals(self, status: str | None, limit: int) -> list[Row]:
        async with translated("read the signals"):
            return [_row(r) for r in await self._pool.fetch(LIST, status, limit)]

    async def signal(self, signal_id: str) -> Row | None:
        async with translated("read a signal"):
            record = await self._pool.fetchrow(ONE, signal_id)
        return None if record is None else _row(record)

    async def payouts_near(self, merchant_id: str, start: datetime, end: datetime) -> list[Row]:
        async with translated("read the merchant's payouts"):
            rows = await self._pool.fetch(MERCHANT_PAYOUTS, merchant_id, start - AROUND,
                                          end + AROUND)
        return [dict(r) for r in rows]

    async def decisions(self, transaction_ids: Sequence[str]) -> list[Row]:
        async with translated("read the decisions"):
            return [dict(r) for r in await self._pool.fetch(DECISIONS, list(transaction_ids))]


class WatchStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def act(self, signal_id: str, action: SignalAction, note: str, actor: str,
                  now: datetime, audit: outbox.OutboxMessage) -> Row:
        """Mark the signal and write the action's audit record, in one transaction."""
        async with translated("review a signal"), self._pool.acquire() as conn, \
                conn.transaction():
            record = await conn.fetchrow(LOCK, signal_id)
            if record is None:
                raise NotFound(f"no signal {signal_id}")
            status = next_status(record["status"], action, note)
            await conn.execute(MARK, signal_id, status, actor, now, note)
            await outbox.write(conn, [audit])
            return {**_row(record), "status": status, "reviewed_by": actor,
                    "reviewed_at": now, "note": note}
