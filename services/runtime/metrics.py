"""The metrics every service exposes on `/metrics`, built against a registry passed in.

Labels stay low-cardinality: a topic, a partition, a programme, a decision, a reason class,
a year; never a member, card or transaction id. docs/metrics.md is the catalogue (a test
keeps the two equal).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from schemas.dead_letters import DEAD_LETTER_KINDS
from services.runtime import health
from services.runtime.records import kind_of_reason

log = logging.getLogger(__name__)

# From a bank's swipe to its payout recorded is normally well under a second; a backlog or a
# replay shows up in the upper buckets, and anything over an hour is simply "late".
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
BATCH_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LagByPartition = Mapping[tuple[str, int], int]


@dataclass(frozen=True)
class ServiceMetrics:
    registry: CollectorRegistry
    up: Gauge
    loop_restarts: Counter
    events_consumed: Counter
    duplicates: Counter
    dead_letters: Counter
    bisected_batches: Counter
    unreadable_batches: Counter
    decisions: Counter
    payouts: Counter
    payout_fen: Counter
    clawback_fen: Counter
    events_held: Counter
    batch_seconds: Histogram
    payout_latency: Histogram
    consumer_lag: Gauge
    outbox_backlog: Gauge
    outbox_oldest_seconds: Gauge
    held_key_known: Gauge
    outbox_published: Counter
    budget_fen: Gauge
    budget_left_fen: Gauge
    signals: Counter
    watch_table_entries: Gauge
    _lag_partitions: set[tuple[str, str]] = field(default_factory=set)
    _budget_years: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def create(cls, service: str, registry: CollectorRegistry | None = None) -> ServiceMetrics:
        reg = registry if registry is not None else CollectorRegistry()
        ProcessCollector(registry=reg)
        PlatformCollector(registry=reg)
        up = Gauge("puhui_service_up", "1 while the service runs its loop", ["service"],
                   registry=reg)
        up.labels(service).set(0)
        restarts = Counter("puhui_loop_restarts", "Loop restarts after a transient failure",
                           ["service"], registry=reg)
        restarts.labels(service)
        return cls(
            registry=reg, up=up, loop_restarts=restarts,
            events_consumed=Counter("puhui_events_consumed", "Messages consumed", ["topic"],
                                    registry=reg),
            duplicates=Counter("puhui_duplicate_events", "Resent or redelivered events ignored",
                               registry=reg),
            dead_letters=Counter("puhui_dead_letters", "Messages sent to the dead-letter topic",
                                 ["topic", "reason"], registry=reg),
            bisected_batches=Counter(
                "puhui_bisected_batches", "Batches whose recording failed for good, split to "
                "dead-letter the messages it fails on", registry=reg),
            unreadable_batches=Counter(
                "puhui_unreadable_batches", "Fetched batches that could not be read at all",
                registry=reg),
            decisions=Counter("puhui_decisions", "Decisions by programme and outcome",
                              ["programme", "decision", "reason"], registry=reg),
            payouts=Counter("puhui_payouts", "Payouts and clawbacks recorded",
                            ["programme", "kind"], registry=reg),
            payout_fen=Counter("puhui_payout_fen", "Fen paid out (before clawbacks)",
                               ["programme"], registry=reg),
            clawback_fen=Counter("puhui_clawback_fen", "Fen clawed back by refunds and reversals",
                                 ["programme"], registry=reg),
            events_held=Counter("puhui_events_held", "Events put aside to wait",
                                ["waiting_for"], registry=reg),
            batch_seconds=Histogram("puhui_batch_seconds", "Time to record one batch",
                                    buckets=BATCH_BUCKETS, registry=reg),
            payout_latency=Histogram(
                "puhui_payout_latency_seconds",
                "From the event's occurred_at to its payout recorded", buckets=LATENCY_BUCKETS,
                registry=reg),
            consumer_lag=Gauge("puhui_consumer_lag", "Messages in a partition not yet consumed",
                               ["topic", "partition"], registry=reg),
            outbox_backlog=Gauge("puhui_outbox_backlog", "Outbox messages not yet published",
                                 registry=reg),
            outbox_oldest_seconds=Gauge("puhui_outbox_oldest_seconds",
                                        "Age of the oldest unpublished outbox message",
                                        registry=reg),
            held_key_known=Gauge(
                "puhui_held_events_key_known",
                "Held events whose card, member or purchase is known: each is a bug (a hold "
                "is released in the transaction that makes its key known)",
                ["waiting_for"], registry=reg),
            outbox_published=Counter("puhui_outbox_published", "Outbox messages published",
                                     registry=reg),
            budget_fen=Gauge("puhui_budget_fen", "Yearly budget of a programme",
                             ["programme"], registry=reg),
            budget_left_fen=Gauge("puhui_budget_left_fen",
                                  "Budget left of a programme in this year or a later one",
                                  ["programme", "year"], registry=reg),
            signals=Counter("puhui_signals", "Signals of possible subsidy abuse raised (watch)",
                            ["rule"], registry=reg),
            watch_table_entries=Gauge(
                "puhui_watch_table_entries",
                "Windows the watch keeps in memory, one per key and window, per table (watch)",
                ["table"], registry=reg),
        )

    def dead_lettered(self, topic: str, kind: str) -> None:
        """Count one dead letter under its kind (`DeadLetterKind`); a caller that still hands
        over the reason's words gets the kind they name, so the label set stays fixed."""
        label = kind if kind in DEAD_LETTER_KINDS else kind_of_reason(kind)
        self.dead_letters.labels(topic, label).inc()

    def observe_lag(self, lags: LagByPartition) -> None:
        """Set the lag of each assigned partition; partitions no longer assigned disappear."""
        now = {(topic, str(partition)): lag for (topic, partition), lag in lags.items()}
        for gone in self._lag_partitions - now.keys():
            self.consumer_lag.remove(*gone)
        for labels, lag in now.items():
            self.consumer_lag.labels(*labels).set(lag)
        self._lag_partitions.clear()
        self._lag_partitions.update(now)

    def observe_budgets(self, budgets: Mapping[str, int],
                        spent: Mapping[tuple[str, int], int], from_year: int) -> None:
        """Yearly budgets from the catalogue, and what is left of each programme's budget in
        `from_year` and later (an earlier year is closed: its budget matters to no one)."""
        for programme, fen in budgets.items():
            self.budget_fen.labels(programme).set(fen)
        shown = {(programme, year): max(budgets[programme] - fen, 0)
                 for (programme, year), fen in spent.items()
                 if programme in budgets and year >= from_year}
        labels = {(programme, str(year)) for programme, year in shown}
        for gone in self._budget_years - labels:
            self.budget_left_fen.remove(*gone)
        for (programme, year), left in shown.items():
            self.budget_left_fen.labels(programme, str(year)).set(left)
        self._budget_years.clear()
        self._budget_years.update(labels)

    def observe_outbox(self, backlog: int, oldest_seconds: float) -> None:
        self.outbox_backlog.set(backlog)
        self.outbox_oldest_seconds.set(oldest_seconds)

    def observe_held_key_known(self, by_waiting_for: dict[str, int]) -> None:
        for waiting_for in ("card", "member", "purchase"):
            self.held_key_known.labels(waiting_for).set(by_waiting_for.get(waiting_for, 0))


PORT_WAIT_SECONDS = 30.0


async def serve(metrics: ServiceMetrics, port: int, host: str = "127.0.0.1",
                wait_seconds: float = PORT_WAIT_SECONDS) -> None:
    """Serve `/metrics`, and the probes `/healthz` and `/readyz` (services/runtime/health.py),
    on a background thread.

    The server binds with SO_REUSEADDR (a port in TIME_WAIT is free); a port still held (by
    the process this one replaces, while it exits) is waited for, at most `wait_seconds`,
    then the error says which port and which setting moves it."""
    # Every counter would also get a `_created` series: twice the series, of no use here.
    disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream
    app = health.health_app(health.metrics_app(metrics.registry), metrics.up)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            health.start_server(app, port, host)
            return
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            if time.monotonic() >= deadline:
                raise MetricsPortTaken(
                    f"metrics port {host}:{port} is still in use after {wait_seconds:.0f}s "
                    "(another process holds it: choose another block with PUHUI_METRICS_PORT, "
                    "or --metrics-port)") from None
            log.warning("metrics port %s:%d is in use; waiting for it", host, port)
            await asyncio.sleep(0.5)


class MetricsPortTaken(Exception):
    """The `/metrics` port stayed taken: the service cannot be watched, so it does not start."""
