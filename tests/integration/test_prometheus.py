"""A real Prometheus (the stack's node, Debian's package) scrapes the four services running as
processes on the real stack; its HTTP API returns the payouts the test's feed produced, and
what it scraped is the documented catalogue."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from puhui.stack import lifecycle
from puhui.stack.config import StackConfig
from puhui.stack.prometheus import PrometheusNode
from schemas.topics import PARTITIONS
from services import disbursement
from tests.e2e.processes import Services, payouts_when
from tests.feeds import simulate, standard_feed
from tests.integration.ledger_harness import produce
from tests.unit.monitoring.catalogue import documented

SERVICES = ("enrolment", "disbursement", "audit", "relay")
JOBS = 'job=~"enrolment|disbursement|audit|relay"'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def services(stack: StackConfig) -> Iterator[Services]:
    running = Services(stack)
    for name in SERVICES:
        running.start(name)
    yield running
    running.stop_all()


@pytest.fixture(scope="module")
def prometheus(services: Services,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusNode]:
    home = tmp_path_factory.mktemp("prometheus")
    config = StackConfig(home=home, prometheus_port=_free_port())
    targets = {name: [f"127.0.0.1:{port}"] for name, port in services.ports.items()}
    node = PrometheusNode(config, targets, interval="1s")
    lifecycle.prometheus_up(node, lambda _line: None)
    yield node
    node.stop()


def _queried_name(family: str, kind: str) -> str:
    """Prometheus scrapes OpenMetrics and keeps a counter's family name; one queries `_total`."""
    return f"{family}_total" if kind == "counter" and not family.endswith("_total") else family


def _api(node: PrometheusNode, path: str, **params: str) -> Any:
    url = f"{node.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310  # our own server
        body = json.load(answer)
    assert body["status"] == "success", body
    return body["data"]


async def _value(node: PrometheusNode, query: str) -> float | None:
    """The single value of an instant query, None while it has no result."""
    result = await asyncio.to_thread(_api, node, "query", query=query)
    return float(result["result"][0]["value"][1]) if result["result"] else None


async def _until(node: PrometheusNode, query: str, ok: Callable[[float | None], bool],
                 seconds: float = 90.0) -> float | None:
    deadline = asyncio.get_running_loop().time() + seconds
    value = await _value(node, query)
    while not ok(value) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
        value = await _value(node, query)
    return value


async def _settled(node: PrometheusNode, query: str) -> float:
    """The value once the consumers have caught up and it has held for a few scrapes: what
    the services counted before this test's feed (other tests' leftovers, if any)."""
    caught_up = f'sum(puhui_consumer_lag{{{JOBS}}})'
    assert await _until(node, caught_up, lambda v: v == 0) == 0, "the consumers never caught up"
    last = await _value(node, query) or 0.0
    for _ in range(30):
        await asyncio.sleep(3.0)
        now = await _value(node, query) or 0.0
        if now == last:
            return now
        last = now
    raise AssertionError(f"{query} kept changing before the feed was sent")


async def test_prometheus_returns_the_payout_count_the_feed_produced(
        stack: StackConfig, prometheus: PrometheusNode) -> None:
    up = await _until(prometheus, f"sum(up{{{JOBS}}}) + sum(puhui_service_up)", lambda v: v == 8)
    assert up == 8, "four targets scraped, four loops running"
    paid_query = 'sum(puhui_payouts_total{kind="payout"})'
    clawed_query = 'sum(puhui_payouts_total{kind="clawback"})'
    paid_before = await _settled(prometheus, paid_query)
    clawed_before = await _value(prometheus, clawed_query) or 0.0
    fen_before = await _value(prometheus, "sum(puhui_payout_fen_total)") or 0.0
    feed = standard_feed(members=12)
    owed = simulate(feed)
    paid = sum(1 for *_, amount in owed if amount > 0)
    clawed = len(owed) - paid
    await produce(stack.bootstrap_servers, feed.lines)
    assert await payouts_when(stack.database_url, feed.prefix, len(owed), 90) == owed
    got = await _until(prometheus, paid_query, lambda v: v == paid_before + paid)
    assert got == paid_before + paid
    assert await _value(prometheus, clawed_query) == clawed_before + clawed
    paid_fen = sum(amount for *_, amount in owed if amount > 0)
    assert await _value(prometheus, "sum(puhui_payout_fen_total)") == fen_before + paid_fen
    backlog = await _until(prometheus, "max(puhui_outbox_backlog)", lambda v: v == 0)
    assert backlog == 0, "the relay published the whole outbox"
    # the feed's year (2027) has budget rows now; the ledger services read them every 5 s
    left = 'min(puhui_budget_left_fen{programme="books", year="2027"})'
    assert (await _until(prometheus, left, lambda v: v is not None) or 0) > 0
    assert await _value(prometheus, 'max(puhui_budget_fen{programme="books"})') == 200_000_000


async def test_consumer_lag_is_reported_for_every_partition(prometheus: PrometheusNode) -> None:
    partitions = 'count by (topic) (puhui_consumer_lag{job="disbursement"})'
    want = {topic: PARTITIONS[topic] for topic in disbursement.SPEC.topics}
    got: dict[str, int] = {}
    for _ in range(60):
        result = await asyncio.to_thread(_api, prometheus, "query", query=partitions)
        got = {r["metric"]["topic"]: int(r["value"][1]) for r in result["result"]}
        if got == want:
            break
        await asyncio.sleep(0.5)
    assert got == want


async def test_what_prometheus_scraped_is_the_documented_catalogue(
        prometheus: PrometheusNode) -> None:
    await _until(prometheus, f"sum(up{{{JOBS}}})", lambda v: v == 4)
    want = {(entry.name, entry.type) for entry in documented()}
    scraped: set[tuple[str, str]] = set()
    for _ in range(20):
        metadata = await asyncio.to_thread(_api, prometheus, "metadata")
        scraped = {(_queried_name(name, kinds[0]["type"]), kinds[0]["type"])
                   for name, kinds in metadata.items()
                   if name.startswith(("puhui_", "process_", "python_"))}
        if scraped == want:
            break
        await asyncio.sleep(0.5)
    assert scraped == want
    rules = await asyncio.to_thread(_api, prometheus, "rules")
    loaded = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(loaded) >= 6
    assert all(rule["health"] in ("ok", "unknown") for rule in loaded), loaded
