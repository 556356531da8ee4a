"""Build and run the watch: rules, metrics, the signal book, the faust worker.

faust's worker owns the event loop and the signals (SIGTERM stops it cleanly), so the watch
runs outside `services.bootstrap.run_service`; its PostgreSQL pool (as its own role,
`puhui_watch`) is made on that loop before the worker starts, and like every service it does
not migrate: it stops (`DatabaseNotReady`, exit 3) when the schema is behind. The process
lowers its own priority (`yield_to_hot_path`): the watch is advice, the ledger's hot path
comes first when both want the CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import faust

from schemas.signals import Signal
from schemas.topics import CARD_TRANSACTIONS, PAYOUTS
from services.runtime import db
from services.runtime.config import Connections
from services.runtime.metrics import ServiceMetrics, serve
from services.watch.adapters.signal_book import SignalBook
from services.watch.adapters.stream import (
    Broker,
    Counters,
    StreamSettings,
    build_app,
    create_internal_topics,
    started_producer,
)
from services.watch.config import Watched
from services.watch.names import APP_ID

log = logging.getLogger("puhui.watch")
NICE = 10


@dataclass(frozen=True)
class WatchOptions:
    connections: Connections
    watched: Watched
    metrics_port: int
    state_dir: Path
    metrics_host: str = "127.0.0.1"
    nice: int = NICE
    app_id: str = APP_ID
    source_topic: str = CARD_TRANSACTIONS
    payouts_topic: str = PAYOUTS


async def open_pool(connections: Connections) -> asyncpg.Pool:
    """The watch's one pool, as its own role, on a schema that is not behind the code."""
    pool = await db.create_pool(connections.service_database_url("watch"), max_size=2)
    try:
        await db.require_current(pool)
    except db.DatabaseNotReady:
        await pool.close()
        raise
    return pool


def build(options: WatchOptions, metrics: ServiceMetrics, pool: asyncpg.Pool,
          broker: Broker) -> faust.App:

    def raised(signal: Signal) -> None:
        metrics.signals.labels(signal.rule).inc()
        log.info("signal %s: %s in %s from %s", signal.signal_id, signal.rule, signal.key_kind,
                 signal.window_start.isoformat())

    async def record(signals: Sequence[Signal]) -> None:
        await SignalBook(pool, raised).record(signals)

    counters = Counters(consumed=lambda topic, n: metrics.events_consumed.labels(topic).inc(n),
                        skipped=lambda _topic: None)
    app = build_app(stream_settings(options), options.watched, record, counters, broker)

    async def started() -> None:
        count_entries(app, metrics)
        metrics.up.labels("watch").set(1)

    app.task(started)

    return app


def count_entries(app: faust.App, metrics: ServiceMetrics) -> None:
    """`puhui_watch_table_entries` per table, read when scraped: what the watch's memory
    grows with. Its store is made here, on the worker's loop, before the metrics thread can
    read it (faust makes a table's store when it is first asked for)."""
    for name, table in app.tables.items():
        metrics.watch_table_entries.labels(name).set_function(table.data.__len__)


def stream_settings(options: WatchOptions) -> StreamSettings:
    return StreamSettings(options.connections.kafka_bootstrap, options.state_dir, options.app_id,
                          options.source_topic, options.payouts_topic)


AUTOGROUP = Path("/proc/self/autogroup")


def yield_to_hot_path(nice: int, autogroup: Path = AUTOGROUP) -> None:
    """Lower this process's priority by `nice`, before it starts any thread (threads inherit
    it; `os.nice` sets only the calling thread's on Linux).

    Where Linux groups processes by session (autogroup, on by default), a thread's nice value
    weighs only against the other threads of its session: a watch in a session of its own (as
    the supervisor and the bench start each service) had the CPU share of any other
    service, whatever its nice. So a session leader also sets its session's nice value. In a
    session it shares (a shell's), it leaves the others' priority alone."""
    os.nice(nice)
    if os.getsid(0) == os.getpid():
        with contextlib.suppress(OSError):  # no autogroup: the thread's nice is the whole story
            autogroup.write_text(f"{nice}\n")


def run_watch(options: WatchOptions) -> None:
    """Run until SIGTERM or SIGINT (faust's worker handles both)."""
    if options.nice:
        yield_to_hot_path(options.nice)
    metrics = ServiceMetrics.create("watch")
    for rule in ("merchant_burst", "subsidy_maximising", "refund_ratio", "card_velocity"):
        metrics.signals.labels(rule)
    options.state_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.new_event_loop()  # faust's worker runs on this loop too
    asyncio.set_event_loop(loop)
    loop.run_until_complete(serve(metrics, options.metrics_port, options.metrics_host))
    pool = loop.run_until_complete(open_pool(options.connections))
    loop.run_until_complete(create_internal_topics(stream_settings(options)))
    kafka = loop.run_until_complete(started_producer(options.connections.kafka_bootstrap))
    app = build(options, metrics, pool, Broker(kafka))
    worker = faust.Worker(app, loglevel="WARNING", override_logging=False)
    worker.execute_from_commandline()
