"""The metrics every service exposes on `/metrics`, built against a registry passed in.

Labels stay low-cardinality: a topic, a partition, a programme, a decision, a reason class,
a year; never a member, card or transaction id. docs/metrics.md is the catalogue (a test
keeps the two equal).
"""

from __future__ import annotations

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
    start_http_server,
)

# From a bank's swipe to its payout recorded is normally well under a second; a backlog or a
# replay shows up in the upper buckets, and anything over an hour is simply "late".
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
BATCH_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Dead-letter reasons are sentences naming fields and values; the metric keeps only their class.
# The prefixes are those of schemas.decode and of pydantic (the audit trail's intake).
_REASON_CLASSES = (("not valid JSON", "not_json"), ("Invalid JSON", "not_json"),
                   ("not a JSON object", "not_object"), ("Input should be an object", "not_object"),
                   ("unknown topic", "unknown_topic"), ("unknown type", "unknown_type"),
                   ("missing field", "missing_field"))
OTHER_REASON = "invalid_value"

LagByPartition = Mapping[tuple[str, int], int]


def reason_class(reason: str) -> str:
    """`missing field card_id` -> `missing_field`: a small fixed set, fit for a label."""
    for prefix, name in _REASON_CLASSES:
        if reason.startswith(prefix):
            return name
    return OTHER_REASON


@dataclass(frozen=True)
class ServiceMetrics:
    registry: CollectorRegistry
    up: Gauge
    loop_restarts: Counter
    events_consumed: Counter
    duplicates: Counter
    dead_letters: Counter
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
        )

    def dead_lettered(self, topic: str, reason: str) -> None:
        self.dead_letters.labels(topic, reason_class(reason)).inc()

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


def serve(metrics: ServiceMetrics, port: int, host: str = "127.0.0.1") -> None:
    """Serve `/metrics` on a background thread (prometheus_client's own server)."""
    # Every counter would also get a `_created` series: twice the series, of no use here.
    disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream
    start_http_server(port, addr=host, registry=metrics.registry)
