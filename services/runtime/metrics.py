"""The metrics every service exposes on `/metrics`, built against a registry passed in.

Labels stay low-cardinality: a topic, a programme, a decision, a reason; never a member,
card or transaction id. docs/metrics.md is the catalogue (a test keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True)
class ServiceMetrics:
    registry: CollectorRegistry
    events_consumed: Counter
    duplicates: Counter
    dead_letters: Counter
    decisions: Counter
    payout_fen: Counter
    events_held: Counter
    batch_seconds: Histogram
    payout_latency: Histogram
    up: Gauge

    @classmethod
    def create(cls, service: str, registry: CollectorRegistry | None = None) -> ServiceMetrics:
        reg = registry if registry is not None else CollectorRegistry()
        up = Gauge("puhui_service_up", "1 while the service runs its loop", ["service"],
                   registry=reg)
        up.labels(service).set(0)
        return cls(
            registry=reg,
            events_consumed=Counter("puhui_events_consumed", "Messages consumed", ["topic"],
                                    registry=reg),
            duplicates=Counter("puhui_duplicate_events", "Resent or redelivered events ignored",
                               registry=reg),
            dead_letters=Counter("puhui_dead_letters", "Messages sent to the dead-letter topic",
                                 ["topic"], registry=reg),
            decisions=Counter("puhui_decisions", "Decisions by programme and outcome",
                              ["programme", "decision", "reason"], registry=reg),
            payout_fen=Counter("puhui_payout_fen", "Fen paid (net of clawbacks)", ["programme"],
                               registry=reg),
            events_held=Counter("puhui_events_held", "Events put aside to wait",
                                ["waiting_for"], registry=reg),
            batch_seconds=Histogram("puhui_batch_seconds", "Time to record one batch",
                                    buckets=BATCH_BUCKETS, registry=reg),
            payout_latency=Histogram(
                "puhui_payout_latency_seconds",
                "From the event's occurred_at to its payout recorded", buckets=LATENCY_BUCKETS,
                registry=reg),
            up=up,
        )


def serve(metrics: ServiceMetrics, port: int, host: str = "127.0.0.1") -> None:
    """Serve `/metrics` on a background thread (prometheus_client's own server)."""
    start_http_server(port, addr=host, registry=metrics.registry)
