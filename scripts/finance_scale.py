"""Finance's main queries at full scale: a month of payouts for 1.75 million members.

    .venv/bin/python scripts/finance_scale.py [--database puhui_scale] [--load] [--runs 5]

`--load` (re)creates the database on the PostgreSQL of PUHUI_DATABASE_URL (the stack's by
default), applies the migrations and loads, with COPY: 1.75 million members and names, 1.4
million cards, March 2027's payouts (about 3 million, clawbacks among them) with their
audit trail decisions and some denials, settlement of the first 20 days, held events and dead
letters. Then every main query of the finance API (the SQL it runs, built by the same code)
runs `--runs` times warm under EXPLAIN ANALYZE; the median execution time and the plan's
top nodes are printed as a Markdown table for docs/finance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from engine.catalogue import load_catalogue
from engine.periods import SHANGHAI
from puhui.settings import Connections
from services.finance.adapters import settlement as settlement_sql
from services.finance.adapters import views
from services.finance.domain.stream import Cursor, PayoutFilter
from services.runtime import db

MEMBERS = 1_750_000
CARDS = 1_400_000
MONTH = date(2027, 3, 1)
DAYS = 31
# programme: (payouts in the month, smallest and largest amount in fen)
PROGRAMMES = {
    "green_commute": (2_400_000, 50, 100),
    "cinema": (150_000, 1_000, 3_000),
    "books": (120_000, 200, 10_000),
    "birthday": (145_000, 10_000, 10_000),
    "return_trip": (3_000, 1_000, 20_000),
    "skill_upgrade": (2_000, 100_000, 200_000),
    "craft_award": (100, 200_000, 500_000),
}
CLAWBACK_EVERY = 60  # one card payout in 60 is (partly) clawed back
DENIALS = 300_000
CHUNK = 100_000
PAYOUT_COLUMNS = ("payout_id", "kind", "member_id", "programme", "amount_fen", "source_event_id",
                  "transaction_id", "period", "occurred_at", "recorded_at", "trace", "merchant_id",
                  "merchant_name")
TRAIL_COLUMNS = ("seq", "audit_id", "decision", "reason", "programme", "member_id", "card_id",
                 "source_event_id", "source_topic", "transaction_id", "amount_fen", "occurred_at",
                 "trace", "prev_hash", "hash")
CARD_PROGRAMMES = {"green_commute", "cinema", "books", "return_trip"}
MERCHANTS = 5_000
ZERO = bytes(32)


def member(n: int) -> str:
    return f"m{n:07d}"


def payouts(rng: random.Random) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(payout row, audit trail row) of the month, in recording order (one a few ms apart)."""
    plan = [name for name, (count, _, _) in PROGRAMMES.items() for _ in range(count)]
    rng.shuffle(plan)
    start = datetime(2027, 3, 1, tzinfo=SHANGHAI).astimezone(UTC)
    step = timedelta(days=DAYS) / len(plan)
    for n, programme in enumerate(plan):
        _, low, high = PROGRAMMES[programme]
        occurred = start + step * n
        card = programme in CARD_PROGRAMMES
        clawback = card and n % CLAWBACK_EVERY == 0
        amount = rng.randint(low, high)
        amount = -max(1, amount // 2) if clawback else amount
        who = member(rng.randrange(MEMBERS))
        event = str(uuid.UUID(int=rng.getrandbits(128)))
        tx = f"tx{n:09d}" if card else None
        shop = f"mch{rng.randrange(MERCHANTS):05d}" if card else None
        trace = [{"rule": "matched", "outcome": f"{programme}: purchase", "amount_fen": amount},
                 {"rule": "budget", "outcome": "budget 2027 not exhausted", "amount_fen": amount}]
        text = orjson.dumps(trace).decode()
        local = occurred.astimezone(SHANGHAI)
        period = local.strftime("%Y-%m-%d" if programme == "green_commute" else "%Y-%m")
        recorded = occurred + timedelta(seconds=2)
        payout = (f"pay-{n:09d}", "clawback" if clawback else "payout", who, programme, amount,
                  event, tx, period, occurred, recorded, text, shop,
                  None if shop is None else f"Shop {shop}")
        decision = "clawed_back" if clawback else "paid"
        trail = (0, f"aud-{n:09d}", decision, None, programme, who,
                 f"c{rng.randrange(CARDS):07d}" if card else None, event,
                 "card.transactions" if card else "member.enrolment", tx, amount, occurred, text,
                 ZERO, ZERO)
        yield payout, trail


def denials(rng: random.Random, first_seq: int) -> Iterator[tuple[Any, ...]]:
    start = datetime(2027, 3, 1, tzinfo=SHANGHAI).astimezone(UTC)
    reasons = ["limit_reached", "card_blocked", "not_registered", "no_programme_matched"]
    for n in range(DENIALS):
        occurred = start + timedelta(days=DAYS) * (n / DENIALS)
        trace = orjson.dumps([{"rule": "daily_count", "outcome": "4 of 4 rides already paid",
                               "amount_fen": None}]).decode()
        yield (first_seq + n, f"den-{n:09d}", "denied", rng.choice(reasons), "green_commute",
               member(rng.randrange(MEMBERS)), f"c{rng.randrange(CARDS):07d}",
               str(uuid.UUID(int=rng.getrandbits(128))), "card.transactions", f"dtx{n:09d}", 0,
               occurred, trace, ZERO, ZERO)


async def recreate(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'drop database if exists "{name}" with (force)')
        await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def load(url: str) -> None:
    pool = await db.create_pool(url)
    await db.migrate(pool)
    rng = random.Random(20270301)  # noqa: S311  # synthetic data, seeded
    started = time.monotonic()
    async with pool.acquire() as conn:
        await conn.execute(
            "insert into members (member_id, birth_date, birth_month, birth_day, union_branch,"
            " memberships) select 'm' || lpad(n::text, 7, '0'), date '1970-01-01' + n % 15000,"
            " extract(month from date '1970-01-01' + n % 15000),"
            " extract(day from date '1970-01-01' + n % 15000), 'branch ' || n % 40,"
            " '[[\"2026-01-01T00:00:00+08:00\", null]]' from generate_series(0, $1 - 1) n",
            MEMBERS)
        await conn.execute(
            "insert into member_names select 'm' || lpad(n::text, 7, '0'),"
            " 'Member ' || n from generate_series(0, $1 - 1) n", MEMBERS)
        await conn.execute(
            "insert into card_holdings (card_id, holdings, member_id) select"
            " 'c' || lpad(n::text, 7, '0'), '[]', 'm' || lpad(n::text, 7, '0')"
            " from generate_series(0, $1 - 1) n", CARDS)
        print(f"registry loaded in {time.monotonic() - started:.0f} s", flush=True)
        seq = 0
        batch_p: list[tuple[Any, ...]] = []
        batch_a: list[tuple[Any, ...]] = []
        for payout, trail in payouts(rng):
            seq += 1
            batch_p.append(payout)
            batch_a.append((seq, *trail[1:]))
            if len(batch_p) == CHUNK:
                await _copy(conn, batch_p, batch_a)
                batch_p, batch_a = [], []
        await _copy(conn, batch_p, batch_a)
        print(f"{seq:,} payouts loaded in {time.monotonic() - started:.0f} s", flush=True)
        rows = list(denials(rng, seq + 1))
        await conn.copy_records_to_table("audit_trail", columns=TRAIL_COLUMNS, records=rows)
        # the synthetic month pays more than some yearly budgets allow; the ledger never would
        budgets = {p.name: p.yearly_budget_fen for p in load_catalogue().programmes}
        await conn.execute(
            "insert into budget_spent (programme, year, spent_fen) select t.programme, 2027,"
            " least(sum(t.paid_fen - t.clawed_back_fen), b.budget) from payout_daily_totals t"
            " join unnest($1::text[], $2::bigint[]) as b(programme, budget) using (programme)"
            " group by t.programme, b.budget", list(budgets), list(budgets.values()))
        await _settle_first_days(conn)
        await _holds_and_dead_letters(conn, rng)
        await conn.execute("vacuum analyze")
        print(f"loaded in {time.monotonic() - started:.0f} s", flush=True)
    await pool.close()


async def _copy(conn: asyncpg.Connection, payout_rows: list[tuple[Any, ...]],
                trail_rows: list[tuple[Any, ...]]) -> None:
    if payout_rows:
        await conn.copy_records_to_table("payouts", columns=PAYOUT_COLUMNS, records=payout_rows)
        await conn.copy_records_to_table("audit_trail", columns=TRAIL_COLUMNS,
                                         records=trail_rows)


async def _settle_first_days(conn: asyncpg.Connection) -> None:
    """Days 1-20 gathered, approved, exported and settled (a few failed); 21-31 pending."""
    await conn.execute("""
        insert into settlement_batches (batch_id, programme, business_day, status, payout_count,
                                        total_fen, prepared_by, prepared_at, approved_by,
                                        approved_at, exported_by, exported_at)
        select 'bat_' || programme || '_' || day || '_1', programme, day, 'closed', payouts,
               paid_fen - clawed_back_fen, 'zhao', now(), 'wang', now(), 'wang', now()
          from payout_daily_totals where day < date '2027-03-21'""")
    await conn.execute("""
        insert into payout_settlement (payout_id, recorded_at, amount_fen, state, batch_id,
                                       bank_reference, approved_by, updated_at)
        select payout_id, recorded_at, amount_fen, case when payout_id like '%77' then 'failed'
                                            else 'settled' end,
               'bat_' || programme || '_' || (occurred_at at time zone 'Asia/Shanghai')::date
               || '_1', 'BK' || payout_id,
               case when abs(amount_fen) > 100000 then 'wang' end, now()
          from payouts where occurred_at < timestamptz '2027-03-21 00:00+08'""")


async def _holds_and_dead_letters(conn: asyncpg.Connection, rng: random.Random) -> None:
    now = datetime.now(UTC)
    held = [(f"held-{n}", "card" if n % 3 else "purchase", f"c9{n:06d}", "card.transactions",
             orjson.dumps({"type": "purchase", "card_id": f"c9{n:06d}",
                           "amount_fen": 500}).decode(),
             now - timedelta(hours=n % 48), now - timedelta(minutes=n % 600))
            for n in range(5_000)]
    await conn.executemany(
        "insert into held_events (event_id, waiting_for, waiting_key, source_topic, payload,"
        " occurred_at, held_at) values ($1, $2, $3, $4, $5::jsonb, $6, $7)", held)
    dead = [("disbursement", "card.transactions", n % 8, n, "amount_fen: must be an integer",
             b"{}", now - timedelta(minutes=rng.randrange(100_000))) for n in range(2_000)]
    await conn.copy_records_to_table(
        "dead_letters", columns=("consumer", "source_topic", "partition", "offset", "reason",
                                 "raw", "received_at"), records=dead)


async def queries(conn: asyncpg.Connection) -> list[tuple[str, str, list[Any]]]:
    """(name, SQL, arguments) of each main query, as the API builds it."""
    row = await conn.fetchrow("select recorded_at, payout_id from payouts"
                              " order by recorded_at desc, payout_id desc offset 20000 limit 1")
    deep = Cursor(row["recorded_at"], row["payout_id"])
    newest = await conn.fetchrow("select recorded_at, payout_id from payouts"
                                 " order by recorded_at desc, payout_id desc limit 1")
    sample = await conn.fetchrow("select * from payouts where programme = 'cinema'"
                                 " and kind = 'payout' order by payout_id limit 1 offset 777")
    found: list[tuple[str, str, list[Any]]] = []

    def stream(name: str, where: PayoutFilter, after: Cursor | None = None,
               since: Cursor | None = None) -> None:
        sql, args = views.stream_query(where, after, 51, newer_than=since)
        found.append((name, sql, args))

    stream("stream, first page", PayoutFilter())
    stream("stream, page after 20,000 rows", PayoutFilter(), deep)
    stream("live poll (since the newest)", PayoutFilter(),
           since=Cursor(newest["recorded_at"], newest["payout_id"]))
    stream("by programme (rare: craft_award)", PayoutFilter(programme="craft_award"))
    stream("by programme (cinema)", PayoutFilter(programme="cinema"))
    stream("by member", PayoutFilter(member_id=sample["member_id"]))
    stream("by merchant", PayoutFilter(merchant_id=sample["merchant_id"]))
    stream("by one day + programme", PayoutFilter(programme="books",
                                                  date_from=date(2027, 3, 12),
                                                  date_to=date(2027, 3, 12)))
    stream("by status settled", PayoutFilter(status="settled"))
    stream("by status failed", PayoutFilter(status="failed"))
    stream("by status pending", PayoutFilter(status="pending"))
    stream("by amount over 1,000 CNY", PayoutFilter(min_fen=100_001))
    stream("everything at once", PayoutFilter(programme="cinema", member_id=sample["member_id"],
                                              date_from=date(2027, 3, 1),
                                              date_to=date(2027, 3, 31), status="pending",
                                              min_fen=1, max_fen=5_000))
    found += [
        ("payout detail", views.PAYOUT, [sample["payout_id"]]),
        ("payout trail", views.PAYOUT_TRAIL, [sample["source_event_id"],
                                              sample["transaction_id"]]),
        ("member decisions", views.MEMBER_DECISIONS, [sample["member_id"], 200]),
        ("daily totals (month)", views.DAILY_TOTALS, [date(2027, 3, 1), date(2027, 4, 1)]),
        ("monthly totals (year)", views.MONTHLY_TOTALS, [date(2027, 1, 1), date(2028, 1, 1)]),
        ("budgets", views.BUDGETS, [2027]),
        ("held counts", views.HELD_COUNTS, []),
        ("held, oldest 100", views.HELD, [100]),
        ("dead letter counts", views.DEAD_LETTER_COUNTS, []),
        ("batchable days", views.BATCHABLE_DAYS, [date(2027, 3, 1), date(2027, 4, 1)]),
        ("batch payouts (largest 500)", views.BATCH_PAYOUTS,
         ["bat_green_commute_2027-03-12_1", 500]),
        ("settlement file lines (green_commute day)", settlement_sql.SETTLEMENT_LINES,
         ["bat_green_commute_2027-03-12_1"]),
        ("finance actions", views.FINANCE_ACTIONS, [100]),
    ]
    return found


PREPARE = ("prepare a batch (green_commute, one day, in a rolled-back transaction)",
           settlement_sql.GATHER)


async def measure(url: str, runs: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        counts = await conn.fetchrow(
            "select (select count(*) from payouts) p, (select count(*) from audit_trail) a,"
            " (select count(*) from members) m, (select count(*) from payout_settlement) s,"
            " pg_size_pretty(pg_database_size(current_database())) size")
        print(f"\n{counts['p']:,} payouts, {counts['a']:,} audit records, {counts['m']:,} members,"
              f" {counts['s']:,} settlement rows; database {counts['size']}\n")
        print("| query | median ms | max ms | rows | plan |")
        print("|---|---:|---:|---:|---|")
        for name, sql, args in await queries(conn):
            await _measure_one(conn, name, sql, args, runs)
        day = datetime(2027, 3, 25, tzinfo=SHANGHAI)
        await _measure_one(conn, PREPARE[0], PREPARE[1],
                           ["bat_green_commute_2027-03-25_1", "green_commute", day,
                            day + timedelta(days=1), datetime.now(UTC)], runs, rollback=True)
    finally:
        await conn.close()


async def _measure_one(conn: asyncpg.Connection, name: str, sql: str, args: list[Any],
                       runs: int, rollback: bool = False) -> None:
    times, plan, rows = [], {}, 0
    for _ in range(runs):
        tx = conn.transaction()
        await tx.start()
        try:
            if rollback:
                await conn.execute(
                    "insert into settlement_batches values ($1, 'green_commute',"
                    " date '2027-03-25', 'prepared', 0, 0, 'zhao', now())", args[0])
            result = await conn.fetchval(f"explain (analyze, format json) {sql}", *args)
        finally:
            await tx.rollback()
        plan = orjson.loads(result)[0] if isinstance(result, str) else result[0]
        times.append(plan["Execution Time"] + plan.get("Planning Time", 0))
        rows = plan["Plan"].get("Actual Rows", 0)
    print(f"| {name} | {statistics.median(times):.1f} | {max(times):.1f} | {rows:,} |"
          f" {_shape(plan['Plan'])} |", flush=True)


def _shape(node: dict[str, Any], depth: int = 0) -> str:
    """The plan's scans, e.g. `Index Scan Backward payouts_recorded`."""
    parts = []
    kind = node.get("Node Type", "")
    if "Scan" in kind and node.get("Relation Name") not in (None,):
        index = node.get("Index Name")
        direction = " Backward" if node.get("Scan Direction") == "Backward" else ""
        parts.append(f"{kind}{direction} {index or node.get('Relation Name')}")
    for child in node.get("Plans", []):
        parts.append(_shape(child, depth + 1))
    return ", ".join(p for p in parts if p)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="puhui_scale")
    parser.add_argument("--load", action="store_true", help="(re)create and load it first")
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    admin_url = Connections.from_env().database_url
    url = admin_url.rsplit("/", 1)[0] + "/" + options.database
    if options.load:
        url = await recreate(admin_url, options.database)
        await load(url)
    await measure(url, options.runs)


if __name__ == "__main__":
    asyncio.run(main())
