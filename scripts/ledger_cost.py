"""What the ledger's service layer costs per card event, in this process, without Kafka.

    .venv/bin/python scripts/ledger_cost.py memory [MEMBERS] [EVENTS] [--profile]
    .venv/bin/python scripts/ledger_cost.py postgres [MEMBERS] [EVENTS] [--profile]
        [--without-finance-indexes]

Both register MEMBERS members (4/5 of them with a card) and then decide EVENTS card-day
events (the bench's own feed, `puhui.bench.plan.BenchPlan`) through `LedgerConsumer.handle`
in batches of 2,000, as disbursement does, and print this process's CPU per card event
(`time.process_time`, so other work on the machine moves it less than a wall clock).
`memory` records into the in-memory store (Python alone: decode, engine, publishing,
metrics; `--profile` adds cProfile's top costs). `postgres` records into a database of its
own (puhui_ledgercost, dropped and made again) on the stack `puhui stack up` started
(PUHUI_* names it), with the ledger services' session settings, and also prints
PostgreSQL's CPU per event and each statement's wall time per event.
`--without-finance-indexes` drops, before the card day, every index of `payouts` but its
primary key, and its daily-totals trigger: what they cost the hot path (#11's "only the
primary key on the hot tables" direction; finance's pages need them, so this is a
measurement, not a setting).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import gc
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any

import asyncpg
import orjson

from engine.catalogue import load_catalogue
from puhui.bench import machine
from puhui.bench.fresh import fresh_database
from puhui.bench.plan import BenchPlan
from puhui.settings import Connections
from services.ledger.adapters.memory import MemoryLedgerStore, MemoryLedgerTransaction
from services.ledger.adapters.repository import PgLedgerStore
from services.ledger.consumer import LedgerConsumer, LedgerServiceSpec
from services.ledger.service_layer.recorder import Recorder
from services.ledger.service_layer.store import LedgerStore
from services.runtime import db
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import InboundRecord

DATABASE = "puhui_ledgercost"
BATCH = 2_000
FINANCE_ON_PAYOUTS = """
drop index payouts_member, payouts_programme_time, payouts_recorded, payouts_transaction,
    payouts_programme_recorded, payouts_merchant_recorded, payouts_occurred, payouts_large;
drop trigger payouts_daily_totals on payouts;
"""


class _NoCopyStore(MemoryLedgerStore):
    """The memory store without its copy-on-begin (a rollback safety net for tests, which
    would otherwise be most of what this measures)."""

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryLedgerTransaction]:
        yield MemoryLedgerTransaction(self.tables)


def _batches(lines: Sequence[tuple[str, bytes]], size: int) -> list[list[InboundRecord]]:
    return [[InboundRecord(topic, 0, start + i, None, value)
             for i, (topic, value) in enumerate(lines[start:start + size])]
            for start in range(0, len(lines), size)]


def _feed(members: int, events: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    plan = BenchPlan(members=members, cards=members * 4 // 5, events=events)
    population = [(t, orjson.dumps(v)) for t, v in plan.population(date(2026, 11, 1))]
    return population, [(t, orjson.dumps(v)) for t, v in plan.day_lines()]


def _consumer(store: LedgerStore) -> LedgerConsumer:
    recorder = Recorder(store, load_catalogue(), "ledgercost")
    return LedgerConsumer(LedgerServiceSpec("ledgercost", ()), recorder,
                          ServiceMetrics.create("ledgercost"))


def _as_the_services_do() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)  # services/bootstrap.py `_freeze_start_up`


async def memory(members: int, events: int, profile: bool) -> None:
    population, day = _feed(members, events)
    consumer = _consumer(_NoCopyStore())
    for batch in _batches(population, 5 * BATCH):
        await consumer.handle(batch)
    _as_the_services_do()
    profiler = cProfile.Profile() if profile else None
    started = time.process_time()
    with profiler or contextlib.nullcontext():
        for batch in _batches(day, BATCH):
            await consumer.handle(batch)
    spent = time.process_time() - started
    print(f"memory store: {len(day):,} card-day events, {spent / len(day) * 1e6:.1f} µs CPU "
          "per event in this process")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


async def postgres(members: int, events: int, profile: bool, bare: bool) -> None:
    population, day = _feed(members, events)
    dsn = await fresh_database(Connections.from_env().database_url, DATABASE,
                               commit_signal=False)
    pool = await db.create_pool(dsn, max_size=1, settings=db.KEYED_LOOKUPS)
    try:
        consumer = _consumer(PgLedgerStore(pool))
        for batch in _batches(population, 5 * BATCH):
            await consumer.handle(batch)
        if bare:
            await pool.execute(FINANCE_ON_PAYOUTS)
        await pool.execute("vacuum analyze")
        await _measure(pool, consumer, day, profile)
    finally:
        await pool.close()


async def _measure(pool: asyncpg.Pool, consumer: LedgerConsumer,
                   day: Sequence[tuple[str, bytes]], profile: bool) -> None:
    statements: defaultdict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def log(query: Any) -> None:
        entry = statements[" ".join(query.query.split())[:72]]
        entry[0] += 1
        entry[1] += query.elapsed

    # One connection (max_size=1), so the batches run on the one that logs their statements.
    async with pool.acquire() as conn:
        conn.add_query_logger(log)
    _as_the_services_do()
    profiler = cProfile.Profile() if profile else None
    before, started, wall = machine.snapshot(), time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for batch in _batches(day, BATCH):
        await consumer.handle(batch)
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    spent = machine.spent(before, machine.snapshot())
    n = len(day)
    print(f"PostgreSQL store: {n:,} card-day events, {n / wall:,.0f}/s; CPU per event: this "
          f"process {cpu / n * 1e6:.0f} µs, postgres {spent.get('postgres', 0) / n * 1e6:.0f} µs")
    print("wall time per event of each statement (client and server):")
    for text, (count, seconds) in sorted(statements.items(), key=lambda s: -s[1][1])[:16]:
        print(f"  {seconds / n * 1e6:6.1f} µs  {int(count):4d}×  {text}")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main(argv: list[str]) -> None:
    args = [a for a in argv if not a.startswith("--")]
    if not args or args[0] not in ("memory", "postgres"):
        sys.exit(__doc__)
    members = int(args[1]) if len(args) > 1 else 20_000
    events = int(args[2]) if len(args) > 2 else 60_000
    if args[0] == "memory":
        asyncio.run(memory(members, events, "--profile" in argv))
    else:
        asyncio.run(postgres(members, events, "--profile" in argv,
                             "--without-finance-indexes" in argv))


if __name__ == "__main__":
    main(sys.argv[1:])
