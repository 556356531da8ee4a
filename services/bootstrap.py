"""Build and run one service process: pool, schema check, consumer or relay, metrics, signals.

Each service connects as its own PostgreSQL role (`puhui_<name>`, migration 0006), which may
not change the schema: the owner migrates first (`puhui db migrate`), and a service whose
database is behind its code stops at once saying so.

Every service runs the same way: `puhui service NAME`. A transient failure (Kafka or
PostgreSQL gone) restarts the loop with backoff inside the process, from the last committed
offset; once transient failures have lasted `GIVE_UP_SECONDS` (services/runtime/retry.py) in
a row, the process exits non-zero for its supervisor.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from engine.catalogue import Catalogue
from schemas.topics import CONSUMER_GROUPS
from services import disbursement, enrolment
from services.audit.settings import AuditSettings
from services.ledger.adapters.repository import PgLedgerStore
from services.ledger.consumer import LedgerConsumer, LedgerServiceSpec
from services.ledger.service_layer.recorder import Recorder
from services.relay.relay import run_relay
from services.runtime import db
from services.runtime.config import METRICS_PORTS, Connections
from services.runtime.consumer import ConsumerSettings, run_consumer
from services.runtime.errors import TransientFailure
from services.runtime.metrics import ServiceMetrics, serve
from services.runtime.probes import budget_probe, outbox_probe, sample_every
from services.runtime.records import utc_now
from services.runtime.retry import Retrying

log = logging.getLogger("puhui.service")
LEDGER_SPECS: dict[str, LedgerServiceSpec] = {"enrolment": enrolment.SPEC,
                                              "disbursement": disbursement.SPEC}
DEFAULT_METRICS_PORTS = METRICS_PORTS
SERVICES = tuple(DEFAULT_METRICS_PORTS)

Loop = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class ServiceOptions:
    name: str
    connections: Connections
    catalogue: Catalogue
    metrics_port: int
    max_batch: int = 2000
    metrics_host: str = "127.0.0.1"
    audit: AuditSettings | None = None
    """The audit service's own settings (None: read from the environment when it starts)."""


async def run_service(options: ServiceOptions) -> None:
    """Run until SIGTERM/SIGINT; `GaveUp` once transient failures outlast the give-up time."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    metrics = ServiceMetrics.create(options.name)
    await serve(metrics, options.metrics_port, options.metrics_host)
    settings = db.KEYED_LOOKUPS if options.name in LEDGER_SPECS else None
    pool = await db.create_pool(options.connections.service_database_url(options.name),
                                max_size=3, settings=settings)
    probing: asyncio.Task[None] | None = None
    try:
        await db.require_current(pool)
        retrying = Retrying()
        body = BUILDS[options.name](Parts(
            options.connections.kafka_bootstrap, pool, metrics, options.catalogue,
            retrying=retrying, max_batch=options.max_batch, audit=options.audit))
        _freeze_start_up()
        probing = _probe_for(options, pool, metrics, stop)
        await _with_restarts(body, stop, options.name, metrics, retrying)
    finally:
        metrics.up.labels(options.name).set(0)
        if probing is not None:
            probing.cancel()
            await asyncio.gather(probing, return_exceptions=True)
        await pool.close()


def _freeze_start_up() -> None:
    """Modules, pydantic schemas and the catalogue live as long as the process: move them out
    of the collector's way, so the full collections a batch's garbage triggers do not walk
    them again and again; and collect young objects less often (measured with `puhui bench`:
    disbursement CPU per card event about 145 -> 122 us with the freeze, -> 110 us with the
    threshold)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)


@dataclass(frozen=True)
class Parts:
    """What every service's loop is built from: made once per process by `run_service`, and
    by the integration tests the same way."""

    bootstrap: str
    pool: asyncpg.Pool
    """Signed in as the service's own role."""
    metrics: ServiceMetrics
    catalogue: Catalogue
    clock: Callable[[], datetime] = utc_now
    retrying: Retrying = field(default_factory=Retrying)
    max_batch: int = 2000
    audit: AuditSettings | None = None
    """The audit service's own settings (None: read from the environment)."""


Build = Callable[[Parts], Loop]


def build_ledger(spec: LedgerServiceSpec) -> Build:
    """enrolment or disbursement: the ledger's consumer over `spec`'s topics."""

    def build(parts: Parts) -> Loop:
        recorder = Recorder(PgLedgerStore(parts.pool), parts.catalogue, spec.name)
        consumer = LedgerConsumer(spec, recorder, parts.metrics, clock=parts.clock)
        settings = ConsumerSettings(parts.bootstrap, CONSUMER_GROUPS[spec.name], spec.topics,
                                    max_batch=parts.max_batch, retrying=parts.retrying)
        metrics = parts.metrics
        return lambda stop: run_consumer(settings, consumer.handle, stop,
                                         on_lag=metrics.observe_lag,
                                         on_unreadable=metrics.unreadable_batches.inc)

    return build


def build_relay(parts: Parts) -> Loop:
    def sent(count: int) -> None:
        parts.metrics.outbox_published.inc(count)
        parts.retrying.recovered()

    return lambda stop: run_relay(parts.pool, parts.bootstrap, stop, sent)


def build_audit(parts: Parts) -> Loop:
    from services.audit.bootstrap import audit_loop  # the audit service builds its own

    loop: Loop = audit_loop(parts.pool, parts.bootstrap, parts.metrics, parts.max_batch,
                            settings=parts.audit, retrying=parts.retrying, clock=parts.clock)
    return loop


BUILDS: dict[str, Build] = {
    **{name: build_ledger(spec) for name, spec in LEDGER_SPECS.items()},
    "audit": build_audit,
    "relay": build_relay,
}
"""The one composition root: each service's loop, by name."""


def _probe_for(options: ServiceOptions, pool: asyncpg.Pool, metrics: ServiceMetrics,
               stop: asyncio.Event) -> asyncio.Task[None] | None:
    """The gauges read from PostgreSQL: the relay's outbox, the ledger services' budgets."""
    if options.name == "relay":
        probe = outbox_probe(metrics)
    elif options.name in LEDGER_SPECS:
        probe = budget_probe(metrics, options.catalogue)
    else:
        return None
    return asyncio.create_task(sample_every(pool, probe, stop))


async def _with_restarts(body: Loop, stop: asyncio.Event, name: str,
                         metrics: ServiceMetrics, retrying: Retrying) -> None:
    while not stop.is_set():
        metrics.up.labels(name).set(1)
        try:
            await body(stop)
            return
        except TransientFailure as exc:
            metrics.up.labels(name).set(0)
            metrics.loop_restarts.labels(name).inc()
            delay = retrying.delay_after(exc)
            log.warning("%s: %s; restarting the loop in %.1fs (failure %d in a row)", name, exc,
                        delay, retrying.failures)
            await asyncio.sleep(delay)
