"""`/healthz` and `/readyz` beside `/metrics`, on the same port: what Kubernetes probes.

`/healthz` answers 200 while the process serves HTTP (liveness: a process whose loop gave up
exits by itself, see services/bootstrap.py). `/readyz` answers 200 only while the service's
loop runs (`puhui_service_up` is 1): 503 while the pool, the migrations and the consumer come
up, and while a transient failure restarts the loop. Every other path is prometheus_client's
exposition, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import Gauge, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

LIVE_PATH = "/healthz"
READY_PATH = "/readyz"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def is_up(up: Gauge) -> bool:
    """True when every service the gauge names runs its loop (a process runs one)."""
    samples = [s for metric in up.collect() for s in metric.samples]
    return bool(samples) and all(s.value == 1 for s in samples)


def health_app(metrics_app: WsgiApp, up: Gauge) -> WsgiApp:
    """`metrics_app` with the two probe paths in front of it."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == LIVE_PATH:
            return _answer(start_response, "200 OK", b"live\n")
        if path == READY_PATH:
            if is_up(up):
                return _answer(start_response, "200 OK", b"ready\n")
            return _answer(start_response, "503 Service Unavailable", b"loop not running\n")
        return metrics_app(environ, start_response)

    return app


def _answer(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body)))])
    return [body]


class _QuietHandler(WSGIRequestHandler):
    """No access log line per scrape or probe."""

    def log_message(self, format: str, *args: Any) -> None:
        return None


def start_server(app: WsgiApp, port: int, host: str) -> None:
    """Serve `app` on a daemon thread (as prometheus_client's own server does)."""
    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()


def metrics_app(registry: Any) -> WsgiApp:
    app: WsgiApp = make_wsgi_app(registry)
    return app
