"""`puhui stack up --with-prometheus` as an operator uses it: Prometheus starts once, scrapes
the services' ports on loopback, shows in `status`, and a taken port says what to do."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from puhui.settings import METRICS_PORTS
from puhui.stack.config import StackConfig
from puhui.stack.prometheus import PrometheusNode

PUHUI = [sys.executable, "-m", "puhui"]


def _puhui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PUHUI, *args], capture_output=True, text=True, timeout=400,
                          check=False)


def _scraped(node: PrometheusNode) -> dict[str, str]:
    """job -> instance of the active targets, once Prometheus has loaded them (it batches
    target updates for a few seconds after starting)."""
    deadline = time.monotonic() + 20
    scraped: dict[str, str] = {}
    while not scraped and time.monotonic() < deadline:
        time.sleep(0.5)
        with urllib.request.urlopen(f"{node.url}/api/v1/targets", timeout=5) as answer:  # noqa: S310
            targets = json.load(answer)["data"]["activeTargets"]
        scraped = {t["labels"]["job"]: t["labels"]["instance"] for t in targets}
    return scraped


@pytest.fixture
def node(stack: StackConfig) -> Iterator[PrometheusNode]:
    prometheus = PrometheusNode(stack)
    prometheus.stop()
    yield prometheus
    prometheus.stop()  # not `stack down`: the other tests keep Kafka and PostgreSQL


def test_up_with_prometheus_starts_it_once_and_status_shows_it(node: PrometheusNode) -> None:
    first = _puhui("stack", "up", "--with-prometheus")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"prometheus: started, answering on {node.url}" in first.stdout
    pid = node.pid()
    again = _puhui("stack", "up", "--with-prometheus")
    assert "prometheus: already running" in again.stdout
    assert node.pid() == pid
    status = _puhui("stack", "status")
    line = next(line for line in status.stdout.splitlines() if "prometheus" in line)
    assert line.startswith("up"), status.stdout
    assert _scraped(node) == {name: f"127.0.0.1:{port}" for name, port in METRICS_PORTS.items()}
    node.stop()
    assert "prometheus" not in _puhui("stack", "status").stdout  # stopped: no longer listed


def test_a_taken_port_is_named_with_the_setting_to_change(
        stack: StackConfig, node: PrometheusNode) -> None:
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past a TIME_WAIT
        squatter.bind((stack.host, stack.prometheus_port))
        squatter.listen()
        done = _puhui("stack", "up", "--with-prometheus")
    assert done.returncode == 1
    assert f"port {stack.prometheus_port}" in done.stderr
    assert "PUHUI_PROMETHEUS_PORT" in done.stderr
    assert "Traceback" not in done.stderr
