"""The probe paths beside /metrics: live always, ready only while the loop runs."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from services.runtime import health
from services.runtime.metrics import ServiceMetrics


def _get(app: health.WsgiApp, path: str) -> tuple[str, bytes]:
    answered: list[str] = []

    def start_response(status: str, _headers: list[tuple[str, str]], *_: Any) -> None:
        answered.append(status)

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""}
    body = b"".join(app(environ, start_response))
    return answered[0], body


def _app() -> tuple[health.WsgiApp, ServiceMetrics]:
    metrics = ServiceMetrics.create("relay", CollectorRegistry())
    return health.health_app(health.metrics_app(metrics.registry), metrics.up), metrics


def test_ready_only_while_the_loop_runs() -> None:
    app, metrics = _app()
    assert _get(app, health.READY_PATH)[0].startswith("503")  # created with up = 0
    metrics.up.labels("relay").set(1)
    assert _get(app, health.READY_PATH) == ("200 OK", b"ready\n")
    metrics.up.labels("relay").set(0)  # a transient failure restarts the loop
    assert _get(app, health.READY_PATH)[0].startswith("503")


def test_live_whatever_the_loop_does() -> None:
    app, _ = _app()
    assert _get(app, health.LIVE_PATH) == ("200 OK", b"live\n")


def test_metrics_are_still_served_beside_the_probes() -> None:
    app, metrics = _app()
    metrics.up.labels("relay").set(1)
    status, body = _get(app, "/metrics")
    assert status.startswith("200")
    assert b'puhui_service_up{service="relay"} 1.0' in body
