"""The services as real processes on the real stack: every event sent twice, a service or
the broker or PostgreSQL killed in the middle of the feed; no payout lost, none doubled,
and the audit chain verifies."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from puhui.stack import lifecycle
from puhui.stack.config import StackConfig
from puhui.stack.kafka import KafkaNode
from puhui.stack.postgres import PostgresNode
from tests.e2e.processes import Services, audit_chain_verifies, payouts, payouts_when
from tests.feeds import simulate, standard_feed
from tests.integration.ledger_harness import produce


@pytest.fixture
def services(stack: StackConfig) -> Iterator[Services]:
    running = Services(stack)
    for name in ("enrolment", "disbursement", "audit", "relay"):
        running.start(name)
    yield running
    running.stop_all()
    lifecycle.up(stack, lambda _line: None)  # leave the stack whole for the next test


async def _first_payout(stack: StackConfig, prefix: str) -> None:
    """Wait until the services are in the middle of the feed (polling the database)."""
    for _ in range(300):
        if await payouts(stack.database_url, prefix):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("no payout within a minute: the services are not running")


async def test_sigkill_mid_feed_loses_nothing_and_pays_nothing_twice(
        stack: StackConfig, services: Services) -> None:
    feed = standard_feed(members=40)  # every message is in it twice
    owed = simulate(feed)
    half = len(feed.lines) // 2
    await produce(stack.bootstrap_servers, feed.lines[:half])
    await _first_payout(stack, feed.prefix)
    services.kill("disbursement")
    await produce(stack.bootstrap_servers, feed.lines[half:])
    services.start("disbursement")
    assert await payouts_when(stack.database_url, feed.prefix, len(owed), 120) == owed
    verified = audit_chain_verifies(stack)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_broker_killed_and_restarted_mid_feed(
        stack: StackConfig, services: Services) -> None:
    feed = standard_feed(members=30)
    owed = simulate(feed)
    half = len(feed.lines) // 2
    await produce(stack.bootstrap_servers, feed.lines[:half])
    await _first_payout(stack, feed.prefix)
    broker = KafkaNode(stack)
    pid = broker.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(2)
    await asyncio.to_thread(lifecycle.up, stack, lambda _line: None)
    await produce(stack.bootstrap_servers, feed.lines[half:])
    assert await payouts_when(stack.database_url, feed.prefix, len(owed), 180) == owed
    assert services.all_alive()


async def test_postgres_crashed_and_restarted_mid_feed(
        stack: StackConfig, services: Services) -> None:
    feed = standard_feed(members=30)
    owed = simulate(feed)
    half = len(feed.lines) // 2
    await produce(stack.bootstrap_servers, feed.lines[:half])
    await _first_payout(stack, feed.prefix)
    PostgresNode(stack).stop(mode="immediate")
    await produce(stack.bootstrap_servers, feed.lines[half:])
    await asyncio.sleep(3)
    await asyncio.to_thread(lifecycle.up, stack, lambda _line: None)
    assert await payouts_when(stack.database_url, feed.prefix, len(owed), 180) == owed
    assert services.all_alive()
    verified = audit_chain_verifies(stack)
    assert verified.returncode == 0, verified.stdout + verified.stderr
