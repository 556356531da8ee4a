"""The ledger's tables over asyncpg: lock, load a slice into a `Ledger`, write an outcome.

SQL lives here as module constants; asyncpg errors are translated by the runtime's
`translate_errors`, with the ledger's own `RACES`.
Locks are taken in one global order, cards before members before budgets, each set sorted,
so that concurrent batches (several instances, or enrolment beside disbursement) never
deadlock and never decide on a stale limit or budget.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from engine.outcome import Outcome
from engine.periods import MonthDay, celebrated_on, month_day
from engine.state import BudgetKey, HeldItem, HeldKey, Ledger, Usage, UsageKey
from schemas import card_transactions, member_enrolment
from schemas.card_transactions import CardTransaction
from services.ledger.adapters import rows
from services.ledger.adapters.staged import StagedInsert, create_stages
from services.ledger.service_layer.store import PayoutColumns
from services.runtime import outbox
from services.runtime.dead_letters import record_dead_letters
from services.runtime.outbox import OutboxMessage
from services.runtime.pg_errors import translate_errors
from services.runtime.records import Rejected

LOCK_KEYS = """
select count(pg_advisory_xact_lock(h)) from (
    select distinct hashtextextended(k, 0) as h from json_array_elements_text($1::json) as k
    order by 1
) as ordered
"""
# A lookup's keys go as one JSON array (`_json_array`), read by `json_array_elements(_text)`:
# asyncpg encodes a `text[]` parameter element by element, with three `collections.abc`
# checks each (docs/bench.md, "A lookup's keys as one JSON parameter").
PROCESSED = """
select event_id from processed_events
where event_id = any(array(select json_array_elements_text($1::json)))
"""
CARDS = """
select card_id, holdings from card_holdings
where card_id = any(array(select json_array_elements_text($1::json)))
"""
MEMBERS = """
select member_id, birth_date, union_branch, memberships from members
where member_id = any(array(select json_array_elements_text($1::json)))
"""
BIRTHDAY_MEMBERS = """
select member_id, birth_date, union_branch, memberships from members
where (birth_month, birth_day) in (select * from unnest($1::smallint[], $2::smallint[]))
"""
USAGE = """
select member_id, programme, limit_name, period, scope, count, fen from limit_usage
where member_id = any(array(select json_array_elements_text($1::json)))
  and period = any(array(select json_array_elements_text($2::json)))
"""
USAGE_KEYS = """
select u.member_id, u.programme, u.limit_name, u.period, u.scope, u.count, u.fen
from limit_usage u join (
    select k->>0 as member_id, k->>1 as programme, k->>2 as limit_name, k->>3 as period,
           k->>4 as scope
    from json_array_elements($1::json) as k) as k
  using (member_id, programme, limit_name, period, scope)
"""
ENSURE_BUDGETS = """
insert into budget_spent (programme, year) select * from unnest($1::text[], $2::int[])
on conflict do nothing
"""
LOCK_BUDGETS = """
select programme, year, spent_fen from budget_spent
where (programme, year) in (select * from unnest($1::text[], $2::int[]))
order by programme, year for update
"""
PURCHASES = """
select * from purchases
where transaction_id = any(array(select json_array_elements_text($1::json)))
"""
HELD = """
select event_id, waiting_for, waiting_key, source_topic, payload::text as payload,
       arrival_topic, arrival_partition, arrival_offset from held_events
where released_at is null
  and (waiting_for, waiting_key) in (select k->>0, k->>1 from json_array_elements($1::json) k)
order by arrival_topic, arrival_partition, arrival_offset, held_at, event_id
"""
CARD_STOPS = """
select card_id, stops::text from early_card_stops
where card_id = any(array(select json_array_elements_text($1::json)))
"""
TICKS = """
select day, event_id from days_started
where (birth_month, birth_day) in (select * from unnest($1::smallint[], $2::smallint[]))
"""

WRITE_PROCESSED = StagedInsert("processed_events", (("event_id", "text"),))
WRITE_USAGE = StagedInsert(
    "limit_usage",
    (("member_id", "text"), ("programme", "text"), ("limit_name", "text"), ("period", "text"),
     ("scope", "text"), ("count", "integer"), ("fen", "bigint")),
    "on conflict (member_id, programme, limit_name, period, scope) do update "
    "set count = limit_usage.count + excluded.count, fen = limit_usage.fen + excluded.fen")
NEW_USAGE = dataclasses.replace(WRITE_USAGE, direct_first=True)
"""Limit usage rows the batch did not find: copied straight in (through the stage, whose
rule adds to the row, only if one is there after all)."""
# PostgreSQL checks the proposed row's CHECK constraints before it looks for a conflict, so a
# negative delta (a clawback giving room back) must never take the INSERT path: it is an
# UPDATE of the row the purchase counted in, which exists.
GIVE_BACK_USAGE = """
update limit_usage u set count = u.count + d.count, fen = u.fen + d.fen
from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[])
  as d(member_id, programme, limit_name, period, scope, count, fen)
where (u.member_id, u.programme, u.limit_name, u.period, u.scope)
    = (d.member_id, d.programme, d.limit_name, d.period, d.scope)
"""
ADD_BUDGET = """
update budget_spent b set spent_fen = b.spent_fen + d.fen
from unnest($1::text[], $2::int[], $3::bigint[]) as d(programme, year, fen)
where b.programme = d.programme and b.year = d.year
"""
# The registry's rows go as one JSON array of rows (`_json_array`), for the reason the lookups' keys
# do: on the population's batches, unnest's array parameters were most of their encoding.
UPSERT_MEMBERS = """
insert into members (member_id, birth_date, birth_month, birth_day, union_branch, memberships)
select r->>0, (r->>1)::date, (r->>2)::smallint, (r->>3)::smallint, r->>4, (r->5)::jsonb
from json_array_elements($1::json) as r
on conflict (member_id) do update set birth_date = excluded.birth_date,
    birth_month = excluded.birth_month, birth_day = excluded.birth_day,
    union_branch = excluded.union_branch, memberships = excluded.memberships, updated_at = now()
"""
UPSERT_NAMES = """
insert into member_names (member_id, name)
select r->>0, r->>1 from json_array_elements($1::json) as r
on conflict (member_id) do update set name = excluded.name
"""
UPSERT_CARDS = """
insert into card_holdings (card_id, holdings, member_id)
select r->>0, (r->1)::jsonb, r->>2 from json_array_elements($1::json) as r
on conflict (card_id) do update set holdings = excluded.holdings,
    member_id = excluded.member_id, updated_at = now()
"""
WRITE_PURCHASES = StagedInsert(
    "purchases",
    (("transaction_id", "text"), ("event_id", "text"), ("member_id", "text"),
     ("programme", "text"), ("period", "text"), ("amount_fen", "bigint"),
     ("earned_fen", "bigint"), ("refunded_fen", "bigint"), ("clawed_back_fen", "bigint"),
     ("usage_keys", "jsonb"), ("budget_year", "integer"), ("counted", "boolean"),
     ("count_returned", "boolean"), ("refund_ids", "text[]")),
    "on conflict (transaction_id) do update set earned_fen = excluded.earned_fen, "
    "refunded_fen = excluded.refunded_fen, clawed_back_fen = excluded.clawed_back_fen, "
    "count_returned = excluded.count_returned, refund_ids = excluded.refund_ids")
NEW_PURCHASES = dataclasses.replace(WRITE_PURCHASES, direct_first=True)
"""Purchases the batch did not find in the table: copied straight in (through the stage
only if one is there after all)."""
INSERT_HELD = """
insert into held_events (event_id, waiting_for, waiting_key, source_topic, payload, occurred_at,
    arrival_topic, arrival_partition, arrival_offset)
select e, w, k, t, p::jsonb, o, at, ap, ao from unnest($1::text[], $2::text[], $3::text[],
    $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::int[], $9::bigint[])
    as x(e, w, k, t, p, o, at, ap, ao)
on conflict (event_id) do nothing
"""
UPSERT_CARD_STOPS = """
insert into early_card_stops (card_id, stops) select c, s::jsonb from unnest($1::text[], $2::text[])
    as x(c, s)
on conflict (card_id) do update set stops = excluded.stops
"""
DELETE_CARD_STOPS = "delete from early_card_stops where card_id = any($1::text[])"
INSERT_TICKS = """
insert into days_started (day, event_id, birth_month, birth_day)
select d, e, extract(month from d), extract(day from d)
from unnest($1::date[], $2::text[]) as x(d, e)
on conflict (day) do nothing
"""
RELEASE_HELD = "update held_events set released_at = now() where event_id = any($1::text[])"
WRITE_PAYOUTS = StagedInsert(
    "payouts",
    (("payout_id", "text"), ("kind", "text"), ("member_id", "text"), ("programme", "text"),
     ("amount_fen", "bigint"), ("source_event_id", "text"), ("transaction_id", "text"),
     ("period", "text"), ("occurred_at", "timestamptz"), ("trace", "json"),
     ("merchant_id", "text"), ("merchant_name", "text")),
    "on conflict (payout_id) do nothing", direct_first=True)
STAGES = (WRITE_USAGE, WRITE_PURCHASES, WRITE_PAYOUTS)
"""The ledger's batch writes that go through a COPY stage (processed events are copied
straight into their table; the rest are rare on a card day)."""

RACES = (asyncpg.UniqueViolationError,)
"""Transient for the ledger alone: two instances that raced on a rebalance meet on a unique
key; the loser's batch rolls back whole and is retried (docs/services.md)."""


class LedgerInconsistent(Exception):
    """The database does not hold what the engine's outcome says it must: a bug, not a
    transient failure; the service stops loudly rather than write around it."""


def _json_array(values: Iterable[Any]) -> str:
    """Keys or rows as one JSON array parameter; a tuple (a `UsageKey`, a row) as an
    array of its parts."""
    return orjson.dumps(list(values), default=tuple).decode()


async def lock(conn: asyncpg.Connection, keys: Iterable[str]) -> None:
    """Transaction-level advisory locks on `keys`, taken in one global order."""
    wanted = sorted(set(keys))
    if wanted:
        await conn.fetchval(LOCK_KEYS, _json_array(wanted))


async def processed(conn: asyncpg.Connection, event_ids: Sequence[str]) -> set[str]:
    return {r["event_id"] for r in await conn.fetch(PROCESSED, _json_array(event_ids))}


async def load_cards(conn: asyncpg.Connection, ledger: Ledger, card_ids: Iterable[str]) -> None:
    wanted = _json_array(set(card_ids))
    for r in await conn.fetch(CARDS, wanted):
        ledger.cards[r["card_id"]] = rows.holdings_from_json(r["holdings"])
    for r in await conn.fetch(CARD_STOPS, wanted):
        ledger.card_stops[r["card_id"]] = rows.stops_from_json(r["stops"])


async def load_ticks(conn: asyncpg.Connection, ledger: Ledger,
                     birthdays: Iterable[MonthDay]) -> None:
    wanted = sorted({md for b in birthdays for md in celebrated_on(b)})
    if wanted:
        for r in await conn.fetch(TICKS, [m for m, _ in wanted], [d for _, d in wanted]):
            ledger.days_started[r["day"]] = r["event_id"]


async def load_members(conn: asyncpg.Connection, ledger: Ledger,
                       member_ids: Iterable[str]) -> None:
    _put_members(ledger, await conn.fetch(MEMBERS, _json_array(set(member_ids))))


async def load_birthday_members(conn: asyncpg.Connection, ledger: Ledger,
                                month_days: Sequence[tuple[int, int]]) -> None:
    if month_days:
        found = await conn.fetch(BIRTHDAY_MEMBERS, [m for m, _ in month_days],
                                 [d for _, d in month_days])
        _put_members(ledger, found)


def _put_members(ledger: Ledger, found: Iterable[asyncpg.Record]) -> None:
    for r in found:
        member = rows.member_from_row(r)
        ledger.members[member.member_id] = member
        if member.birth_date is not None:
            ledger.birthdays.setdefault(month_day(member.birth_date), set()).add(member.member_id)


async def load_usage(conn: asyncpg.Connection, ledger: Ledger, member_ids: Iterable[str],
                     periods: Iterable[str], keys: Iterable[UsageKey]) -> set[UsageKey]:
    """Returns the keys found."""
    found = list(await conn.fetch(USAGE, _json_array(set(member_ids)), _json_array(set(periods))))
    exact = set(keys)
    if exact:
        found += await conn.fetch(USAGE_KEYS, _json_array(exact))
    keys_found = set()
    for r in found:
        key = UsageKey(r["member_id"], r["programme"], r["limit_name"], r["period"], r["scope"])
        ledger.usage[key] = Usage(r["count"], r["fen"])
        keys_found.add(key)
    return keys_found


async def lock_budgets(conn: asyncpg.Connection, ledger: Ledger, keys: Iterable[BudgetKey]) -> None:
    wanted = sorted(set(keys))
    if not wanted:
        return
    programmes, years = [k[0] for k in wanted], [k[1] for k in wanted]
    await conn.execute(ENSURE_BUDGETS, programmes, years)
    for r in await conn.fetch(LOCK_BUDGETS, programmes, years):
        ledger.budget_spent[(r["programme"], r["year"])] = r["spent_fen"]


async def load_purchases(conn: asyncpg.Connection, ledger: Ledger,
                         transaction_ids: Iterable[str]) -> set[str]:
    """Returns the transaction ids found."""
    found = set()
    for r in await conn.fetch(PURCHASES, _json_array(set(transaction_ids))):
        ledger.purchases[r["transaction_id"]] = rows.purchase_from_row(r)
        found.add(r["transaction_id"])
    return found


async def load_held(conn: asyncpg.Connection, ledger: Ledger,
                    keys: Iterable[tuple[str, str]]) -> list[HeldItem]:
    wanted = set(keys)
    if not wanted:
        return []
    found = [rows.held_from_row(r) for r in await conn.fetch(HELD, _json_array(wanted))]
    for item in found:
        key = (item.waiting_for, item.key)
        ledger.held[key] = (*ledger.held.get(key, ()), item)
    return found


async def save(conn: asyncpg.Connection, outcome: Outcome,
               names: dict[str, str] | None = None,
               found: AbstractSet[str] = frozenset(),
               usage_found: AbstractSet[UsageKey] = frozenset()) -> None:
    """Write one (merged) outcome: every effect it carries. `found` and `usage_found`: the
    purchases and limit usage rows this transaction read from their tables (the rest are
    new, and copied straight in)."""
    await WRITE_PROCESSED.write(conn, [(event_id,) for event_id in outcome.processed])
    await _save_usage(conn, outcome.usage, usage_found)
    await _save_budget(conn, outcome.budget)
    await _save_registry(conn, outcome, names or {})
    known: list[tuple[Any, ...]] = []
    new: list[tuple[Any, ...]] = []
    for p in outcome.purchases.values():
        (known if p.transaction_id in found else new).append(rows.purchase_row(p))
    await WRITE_PURCHASES.write(conn, known)
    await NEW_PURCHASES.write(conn, new)
    if outcome.holds_added:
        held = [rows.held_row(i, _topic_of(i)) for i in outcome.holds_added]
        await conn.execute(INSERT_HELD, *(list(c) for c in zip(*held, strict=True)))
    if outcome.holds_released:
        await conn.execute(RELEASE_HELD, [i.event_id for i in outcome.holds_released])
    await _save_card_stops(conn, outcome)
    if outcome.days_started:
        days = list(outcome.days_started.items())
        await conn.execute(INSERT_TICKS, [d for d, _ in days], [e for _, e in days])


async def _save_card_stops(conn: asyncpg.Connection, outcome: Outcome) -> None:
    kept = [(c, s) for c, s in outcome.card_stops.items() if s]
    gone = [c for c, s in outcome.card_stops.items() if not s]
    if kept:
        await conn.execute(UPSERT_CARD_STOPS, [c for c, _ in kept],
                           [rows.stops_json(s) for _, s in kept])
    if gone:
        await conn.execute(DELETE_CARD_STOPS, gone)


def _topic_of(item: HeldItem) -> str:
    is_swipe = isinstance(item.event, CardTransaction)
    return card_transactions.TOPIC if is_swipe else member_enrolment.TOPIC


async def _save_usage(conn: asyncpg.Connection, usage: Mapping[UsageKey, Usage],
                      found: AbstractSet[UsageKey]) -> None:
    known: list[tuple[Any, ...]] = []
    new: list[tuple[Any, ...]] = []
    given_back: list[tuple[UsageKey, Usage]] = []
    for k, d in usage.items():
        if d.count < 0 or d.fen < 0:
            given_back.append((k, d))
        elif d.count or d.fen:
            (known if k in found else new).append((*k, d.count, d.fen))
    await WRITE_USAGE.write(conn, known)
    await NEW_USAGE.write(conn, new)
    if given_back:
        status = await conn.execute(GIVE_BACK_USAGE, *_usage_columns(given_back))
        if status != f"UPDATE {len(given_back)}":
            raise LedgerInconsistent(
                f"room given back to usage rows that do not exist ({status} of "
                f"{len(given_back)}): {[k for k, _ in given_back][:3]}")


def _usage_columns(rows: Sequence[tuple[UsageKey, Usage]]) -> list[list[Any]]:
    columns: list[list[Any]] = [[k[i] for k, _ in rows] for i in range(5)]
    return [*columns, [d.count for _, d in rows], [d.fen for _, d in rows]]


async def _save_budget(conn: asyncpg.Connection, budget: Mapping[BudgetKey, int]) -> None:
    changed = [(k, fen) for k, fen in budget.items() if fen]
    if changed:
        await conn.execute(ADD_BUDGET, [k[0] for k, _ in changed], [k[1] for k, _ in changed],
                           [fen for _, fen in changed])


async def _save_registry(conn: asyncpg.Connection, outcome: Outcome, names: dict[str, str]) -> None:
    if outcome.members:
        await conn.execute(UPSERT_MEMBERS, _json_array(rows.member_row(m)
                                                       for m in outcome.members.values()))
    if names:
        await conn.execute(UPSERT_NAMES, _json_array(names.items()))
    if outcome.cards:
        await conn.execute(UPSERT_CARDS, _json_array(
            (c, rows.holdings_value(h), h[-1].member_id) for c, h in outcome.cards.items()))


async def save_payouts(conn: asyncpg.Connection, payouts: Sequence[PayoutColumns],
                       traces: Sequence[str], merchants: Mapping[str, tuple[str, str]]) -> None:
    """Insert payouts, each with its trace as JSON text; card ones carry the merchant of
    their source swipe."""
    if not payouts:
        return
    none = (None, None)
    await WRITE_PAYOUTS.write(conn, [
        (p.payout_id, p.kind, p.member_id, p.programme, p.amount_fen, p.source_event_id,
         p.transaction_id, p.period, p.occurred_at, trace,
         *merchants.get(p.source_event_id, none))
        for p, trace in zip(payouts, traces, strict=True)])


class PgLedgerTransaction:
    """`LedgerTransaction` on one connection inside an open PostgreSQL transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.purchases_found: set[str] = set()
        self.usage_found: set[UsageKey] = set()

    async def processed(self, event_ids: Sequence[str]) -> set[str]:
        return await processed(self.conn, event_ids)

    async def lock(self, keys: Iterable[str]) -> None:
        await lock(self.conn, keys)

    async def load_cards(self, ledger: Ledger, card_ids: Iterable[str]) -> None:
        await load_cards(self.conn, ledger, card_ids)

    async def load_held(self, ledger: Ledger, keys: Iterable[HeldKey]) -> list[HeldItem]:
        return await load_held(self.conn, ledger, keys)

    async def load_purchases(self, ledger: Ledger, transaction_ids: Iterable[str]) -> None:
        self.purchases_found |= await load_purchases(self.conn, ledger, transaction_ids)

    async def load_birthday_members(self, ledger: Ledger, days: Sequence[MonthDay]) -> None:
        await load_birthday_members(self.conn, ledger, days)

    async def load_ticks(self, ledger: Ledger, birthdays: Iterable[MonthDay]) -> None:
        await load_ticks(self.conn, ledger, birthdays)

    async def load_members(self, ledger: Ledger, member_ids: Iterable[str]) -> None:
        await load_members(self.conn, ledger, member_ids)

    async def load_usage(self, ledger: Ledger, member_ids: Iterable[str],
                         periods: Iterable[str], keys: Iterable[UsageKey]) -> None:
        self.usage_found |= await load_usage(self.conn, ledger, member_ids, periods, keys)

    async def lock_budgets(self, ledger: Ledger, keys: Iterable[BudgetKey]) -> None:
        await lock_budgets(self.conn, ledger, keys)

    async def save(self, outcome: Outcome, names: Mapping[str, str]) -> None:
        await save(self.conn, outcome, dict(names), self.purchases_found, self.usage_found)

    async def save_payouts(self, payouts: Sequence[PayoutColumns], traces: Sequence[str],
                           merchants: Mapping[str, tuple[str, str]]) -> None:
        await save_payouts(self.conn, payouts, traces, merchants)

    async def write_outbox(self, messages: Sequence[OutboxMessage]) -> None:
        await outbox.write(self.conn, messages)

    async def record_dead_letters(self, consumer: str, rejected: Sequence[Rejected],
                                  now: datetime) -> None:
        await record_dead_letters(self.conn, consumer, rejected, now)


class PgLedgerStore:
    """`LedgerStore` on a pool: a batch is one connection and one transaction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgLedgerTransaction]:
        async with (translate_errors("record a batch", RACES), self.pool.acquire() as conn,
                    conn.transaction()):
            await create_stages(conn, STAGES)
            yield PgLedgerTransaction(conn)
