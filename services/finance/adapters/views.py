"""What finance reads: the payout stream, a payout's trail, totals, holds, dead letters.

Each query is written for an index (docs/finance.md lists them with their timings at full
scale). Rows come back as plain dicts: these are read models, shaped for the page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg
import orjson

from schemas.audit import AuditRecord
from services.finance.adapters.errors import translated
from services.finance.domain.stream import Cursor, PayoutFilter

Row = dict[str, Any]

PAYOUT_COLUMNS = """
p.payout_id, p.kind, p.member_id, p.programme, p.amount_fen, p.source_event_id,
p.transaction_id, p.period, p.occurred_at, p.recorded_at, p.merchant_id, p.merchant_name,
coalesce(s.state, 'pending') as status, s.batch_id, s.approved_by, s.approved_at,
s.bank_reference, s.failure_reason, n.name as member_name
"""
PAYOUT_FROM = """
from payouts p
left join payout_settlement s on s.payout_id = p.payout_id
left join member_names n on n.member_id = p.member_id
"""
PAYOUT = f"select {PAYOUT_COLUMNS}, p.trace {PAYOUT_FROM} where p.payout_id = $1"
TRAIL_COLUMNS = ", ".join(("seq", *AuditRecord.model_fields, "recorded_at"))
"""A decision as the pages show it: the contract's fields (schemas/audit.py), and the link's."""
# the decisions on the payout's own event, and on its purchase's (payouts, refunds, clawbacks)
PAYOUT_TRAIL = f"""
select {TRAIL_COLUMNS} from audit_trail where source_event_id = $1
union
select {TRAIL_COLUMNS} from audit_trail where transaction_id = $2
order by seq
"""
DECISION = f"select {TRAIL_COLUMNS} from audit_trail where audit_id = $1"
MEMBER_DECISIONS = f"""
select {TRAIL_COLUMNS} from audit_trail where member_id = $1
 order by occurred_at desc, seq desc limit $2
"""
PAYOUTS_OF_EVENT = "select payout_id from payouts where source_event_id = $1 order by payout_id"
MEMBER_NAME = "select name from member_names where member_id = $1"
DAILY_TOTALS = """
select programme, day, payouts, paid_fen, clawbacks, clawed_back_fen
  from payout_daily_totals where day >= $1 and day < $2 order by day, programme
"""
MONTHLY_TOTALS = """
select programme, date_trunc('month', day)::date as month, sum(payouts)::bigint as payouts,
       sum(paid_fen)::bigint as paid_fen, sum(clawbacks)::bigint as clawbacks,
       sum(clawed_back_fen)::bigint as clawed_back_fen
  from payout_daily_totals where day >= $1 and day < $2 group by 1, 2 order by 2, 1
"""
BUDGETS = "select programme, spent_fen from budget_spent where year = $1"
HELD_COUNTS = """
select waiting_for, count(*) as count, min(held_at) as oldest, max(held_at) as newest
  from held_events where released_at is null group by waiting_for order by waiting_for
"""
HELD = """
select event_id, waiting_for, waiting_key, source_topic, occurred_at, held_at,
       payload->>'type' as type, payload->>'card_id' as card_id,
       payload->>'transaction_id' as transaction_id,
       payload->>'original_transaction_id' as original_transaction_id,
       payload->>'merchant_name' as merchant_name,
       case when jsonb_typeof(payload->'amount_fen') = 'number'
            then (payload->>'amount_fen')::numeric end as amount_fen
  from held_events where released_at is null order by held_at, event_id limit $1
"""
DEAD_LETTER_COUNTS = """
select consumer, source_topic, count(*) as count, min(received_at) as oldest,
       max(received_at) as newest
  from dead_letters group by consumer, source_topic order by consumer, source_topic
"""
DEAD_LETTERS = """
select id, consumer, source_topic, partition, "offset", reason, octet_length(raw) as size,
       received_at
  from dead_letters order by id desc limit $1
"""
BATCHES = "select * from settlement_batches order by prepared_at desc, batch_id desc limit $1"
BATCHES_BY_STATUS = """
select * from settlement_batches where status = $1
 order by prepared_at desc, batch_id desc limit $2
"""
BATCH = "select * from settlement_batches where batch_id = $1"
BATCH_PAYOUTS = f"""
select {PAYOUT_COLUMNS} {PAYOUT_FROM}
 where p.payout_id in (select payout_id from payout_settlement where batch_id = $1
                        order by abs(amount_fen) desc, payout_id limit $2)
 order by abs(p.amount_fen) desc, p.payout_id
"""
BATCHABLE_DAYS = """
select t.programme, t.day, (t.payouts + t.clawbacks)::bigint as recorded,
       coalesce(b.batched, 0)::bigint as batched
  from payout_daily_totals t
  left join (select programme, business_day, sum(payout_count) as batched
               from settlement_batches group by 1, 2) b
    on b.programme = t.programme and b.business_day = t.day
 where t.day >= $1 and t.day < $2
 order by t.day desc, t.programme
"""
FINANCE_ACTIONS = """
select seq, audit_id, decision, programme, amount_fen, occurred_at, recorded_at, trace
  from audit_trail where source_topic = 'finance' order by seq desc limit $1
"""


def _row(record: asyncpg.Record) -> Row:
    row = dict(record)
    if isinstance(row.get("trace"), str):
        row["trace"] = orjson.loads(row["trace"])
    return row


class Views:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def _fetch(self, doing: str, sql: str, *args: object) -> list[Row]:
        async with translated(doing):
            return [_row(r) for r in await self._pool.fetch(sql, *args)]

    async def _one(self, doing: str, sql: str, *args: object) -> Row | None:
        rows = await self._fetch(doing, sql, *args)
        return rows[0] if rows else None

    async def payouts(self, where: PayoutFilter, after: Cursor | None, limit: int) -> list[Row]:
        sql, args = stream_query(where, after, limit)
        return await self._fetch("read the payout stream", sql, *args)

    async def newer_payouts(self, where: PayoutFilter, since: Cursor, limit: int) -> list[Row]:
        sql, args = stream_query(where, None, limit, newer_than=since)
        return await self._fetch("read new payouts", sql, *args)

    async def payout_rows(self, where: PayoutFilter) -> AsyncIterator[Row]:
        """Every payout of the view, newest first, from one snapshot (for a CSV export)."""
        sql, args = stream_query(where, None, None)
        async with translated("export the payout stream"), self._pool.acquire() as conn, \
                conn.transaction(isolation="repeatable_read", readonly=True):
            async for record in conn.cursor(sql, *args, prefetch=2000):
                yield _row(record)

    async def payout(self, payout_id: str) -> Row | None:
        return await self._one("read a payout", PAYOUT, payout_id)

    async def payout_trail(self, source_event_id: str, transaction_id: str | None) -> list[Row]:
        return await self._fetch("read a payout's trail", PAYOUT_TRAIL, source_event_id,
                                 transaction_id)

    async def decision(self, audit_id: str) -> Row | None:
        return await self._one("read a decision", DECISION, audit_id)

    async def payouts_of_event(self, source_event_id: str) -> list[str]:
        rows = await self._fetch("read an event's payouts", PAYOUTS_OF_EVENT, source_event_id)
        return [row["payout_id"] for row in rows]

    async def member_decisions(self, member_id: str, limit: int) -> list[Row]:
        return await self._fetch("read a member's decisions", MEMBER_DECISIONS, member_id,
                                 limit)

    async def member_name(self, member_id: str) -> str | None:
        row = await self._one("read a member's name", MEMBER_NAME, member_id)
        return None if row is None else str(row["name"])

    async def daily_totals(self, first: date, end: date) -> list[Row]:
        return await self._fetch("read daily totals", DAILY_TOTALS, first, end)

    async def monthly_totals(self, first: date, end: date) -> list[Row]:
        return await self._fetch("read monthly totals", MONTHLY_TOTALS, first, end)

    async def budget_spent(self, year: int) -> dict[str, int]:
        rows = await self._fetch("read budgets", BUDGETS, year)
        return {row["programme"]: int(row["spent_fen"]) for row in rows}

    async def held_counts(self) -> list[Row]:
        return await self._fetch("count held events", HELD_COUNTS)

    async def held(self, limit: int) -> list[Row]:
        return await self._fetch("read held events", HELD, limit)

    async def dead_letter_counts(self) -> list[Row]:
        return await self._fetch("count dead letters", DEAD_LETTER_COUNTS)

    async def dead_letters(self, limit: int) -> list[Row]:
        return await self._fetch("read dead letters", DEAD_LETTERS, limit)

    async def batches(self, status: str | None, limit: int) -> list[Row]:
        if status is None:
            return await self._fetch("read batches", BATCHES, limit)
        return await self._fetch("read batches", BATCHES_BY_STATUS, status, limit)

    async def batch(self, batch_id: str) -> Row | None:
        return await self._one("read a batch", BATCH, batch_id)

    async def batch_payouts(self, batch_id: str, limit: int) -> list[Row]:
        return await self._fetch("read a batch's payouts", BATCH_PAYOUTS, batch_id, limit)

    async def batchable_days(self, first: date, end: date) -> list[Row]:
        return await self._fetch("read batchable days", BATCHABLE_DAYS, first, end)

    async def finance_actions(self, limit: int) -> list[Row]:
        return await self._fetch("read finance actions", FINANCE_ACTIONS, limit)


LIVE_OVERLAP = timedelta(seconds=30)
"""`recorded_at` is when a ledger transaction began, so a payout can commit a little after a
later one is already shown: a live poll looks back this far and the page drops repeats."""


def stream_query(where: PayoutFilter, after: Cursor | None, limit: int | None, *,
                 newer_than: Cursor | None = None) -> tuple[str, list[object]]:
    """The stream's SQL for a filter, in `order_of(where)`, after a cursor (or newer than one)."""
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    # a live poll always asks what was recorded since, newest first, whatever the view's order
    columns = order_of(where) if newer_than is None else recorded_order(where)
    keyset = ", ".join(columns)
    conditions = _conditions(where, arg)
    if where.status == "pending":
        # an anti-join the planner runs as a nested loop beside the keyset scan
        conditions.append("not exists (select 1 from payout_settlement x"
                          " where x.payout_id = p.payout_id and x.state <> 'pending')")
    elif where.status is not None:
        conditions.append(f"s.state = {arg(where.status)}")
    if after is not None:
        conditions.append(f"({keyset}) < ({arg(after.moment)}, {arg(after.payout_id)})")
    if newer_than is not None:
        conditions.append(f"{columns[0]} > {arg(newer_than.moment - LIVE_OVERLAP)}")
    order = ", ".join(f"{column} desc" for column in columns)
    sql = (f"select {PAYOUT_COLUMNS} {PAYOUT_FROM}"
           f" where {' and '.join(conditions) or 'true'} order by {order}")
    if limit is not None:
        sql += f" limit {arg(limit)}"
    return sql, args


def order_of(where: PayoutFilter) -> tuple[str, str]:
    """The keyset of a view: by when its payouts occurred if it has a date range (an index
    range on the days), else by when they were recorded; with a status other than pending,
    along payout_settlement's (state, recorded_at) index."""
    return ("p.occurred_at", "p.payout_id") if where.dated else recorded_order(where)


def recorded_order(where: PayoutFilter) -> tuple[str, str]:
    if where.status is not None and where.status != "pending":
        return "s.recorded_at", "s.payout_id"
    return "p.recorded_at", "p.payout_id"


def _conditions(where: PayoutFilter, arg: Any) -> list[str]:
    conditions: list[str] = []
    equal: Sequence[tuple[str, str | None]] = (
        ("p.programme", where.programme), ("p.member_id", where.member_id),
        ("p.merchant_id", where.merchant_id))
    for column, value in equal:
        if value is not None:
            conditions.append(f"{column} = {arg(value)}")
    occurred_from, occurred_before = where.occurred_from(), where.occurred_before()
    if occurred_from is not None:
        conditions.append(f"p.occurred_at >= {arg(occurred_from)}")
    if occurred_before is not None:
        conditions.append(f"p.occurred_at < {arg(occurred_before)}")
    if where.min_fen is not None:
        conditions.append(f"p.amount_fen >= {arg(where.min_fen)}")
    if where.max_fen is not None:
        conditions.append(f"p.amount_fen <= {arg(where.max_fen)}")
    return conditions
