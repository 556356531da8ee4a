"""Build and run the watch: rules, metrics, the signal book, the faust worker.

faust's worker owns the event loop and the signals (SIGTERM stops it cleanly), so the watch
runs outside `services.bootstrap.run_service`; the PostgreSQL pool is made on first use,
inside that loop. The process lowers its own priority: the watch is advice, the ledger's
hot path comes first when both want the CPU.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import faust

from puhui.settings import Connections
from puhui.topics import CARD_TRANSACTIONS
from schemas.signals import Signal
from services.runtime import db
from services.runtime.metrics import ServiceMetrics, serve
from services.watch.adapters.signal_book import SignalBook
from services.watch.adapters.stream import (
    APP_ID,
    Counters,
    StreamSettings,
    build_app,
    create_internal_topic,
)
from services.watch.config import Watched

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


class LazyPool:
    """One pool per process, made (and the schema migrated) on first use inside faust's loop."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                pool = await db.create_pool(self.dsn, max_size=2)
                await db.migrate(pool)
                self._pool = pool
            return self._pool


def build(options: WatchOptions, metrics: ServiceMetrics) -> faust.App:
    pool = LazyPool(options.connections.database_url)

    def raised(signal: Signal) -> None:
        metrics.signals.labels(signal.rule).inc()
        log.info("signal %s: %s in %s from %s", signal.signal_id, signal.rule, signal.key_kind,
                 signal.window_start.isoformat())

    async def record(signals: Sequence[Signal]) -> None:
        await SignalBook(await pool(), raised).record(signals)

    counters = Counters(consumed=lambda topic: metrics.events_consumed.labels(topic).inc(),
                        skipped=lambda _topic: None)
    app = build_app(stream_settings(options), options.watched, record, counters)

    async def started() -> None:
        await pool()
        metrics.up.labels("watch").set(1)

    app.task(started)

    return app


def stream_settings(options: WatchOptions) -> StreamSettings:
    return StreamSettings(options.connections.kafka_bootstrap, options.state_dir, options.app_id,
                          options.source_topic)


def run_watch(options: WatchOptions) -> None:
    """Run until SIGTERM or SIGINT (faust's worker handles both)."""
    if options.nice:
        os.nice(options.nice)
    metrics = ServiceMetrics.create("watch")
    for rule in ("merchant_burst", "subsidy_maximising", "refund_ratio", "card_velocity"):
        metrics.signals.labels(rule)
    options.state_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.new_event_loop()  # faust's worker runs on this loop too
    asyncio.set_event_loop(loop)
    loop.run_until_complete(serve(metrics, options.metrics_port, options.metrics_host))
    loop.run_until_complete(create_internal_topic(stream_settings(options)))
    app = build(options, metrics)
    worker = faust.Worker(app, loglevel="WARNING", override_logging=False)
    worker.execute_from_commandline()
