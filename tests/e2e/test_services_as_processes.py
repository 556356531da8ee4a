"""The services as real processes on the real stack: every event sent twice, a service or
the broker or PostgreSQL killed in the middle of the feed; no payout lost, none doubled,
and the audit chain verifies."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Iterator

import pytest

from puhui.stack import lifecycle
from puhui.stack.config import StackConfig
from puhui.stack.kafka import KafkaNode
from puhui.stack.postgres import PostgresNode
from tests.e2e.processes import (
    Services,
    audit_chain_verifies,
    every_service,
    payouts,
    payouts_when,
)
from tests.feeds import simulate, standard_feed
from tests.integration.ledger_harness import produce


@pytest.fixture
def services(stack: StackConfig) -> Iterator[Services]:
    with every_service(stack) as running:
        yield running
    lifecycle.up(stack, lambda _line: None)  # leave the stack whole for the next test


async def _first_payout(stack: StackConfig, prefix: str) -> None:
    """Wait until the services are in the middle of the feed (polling the database)."""
    for _ in range(300):
        if await payouts(stack.database_url, prefix):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("no payout within a minute: the services are not running")


Break = Callable[[StackConfig, Services], Awaitable[None]]


async def _feed_with_a_break(stack: StackConfig, services: Services, members: int,
                             break_it: Break) -> None:
    """Half the feed, a break while the services are in the middle of it, the other half;
    then every payout simulate owes must be there exactly once and the audit chain whole."""
    feed = standard_feed(members=members)  # every message is in it twice
    owed = simulate(feed)
    half = len(feed.lines) // 2
    await produce(stack.bootstrap_servers, feed.lines[:half])
    await _first_payout(stack, feed.prefix)
    await break_it(stack, services)
    await produce(stack.bootstrap_servers, feed.lines[half:])
    assert await payouts_when(stack.database_url, feed.prefix, len(owed), 180) == owed
    assert services.all_alive()
    verified = audit_chain_verifies(stack)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def _kill_disbursement(_stack: StackConfig, services: Services) -> None:
    services.kill("disbursement")
    services.start("disbursement")


async def _kill_broker(stack: StackConfig, _services: Services) -> None:
    pid = KafkaNode(stack).pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(2)
    await asyncio.to_thread(lifecycle.up, stack, lambda _line: None)


async def _crash_postgres(stack: StackConfig, _services: Services) -> None:
    PostgresNode(stack).stop(mode="immediate")
    await asyncio.sleep(3)
    await asyncio.to_thread(lifecycle.up, stack, lambda _line: None)


async def test_sigkill_mid_feed_loses_nothing_and_pays_nothing_twice(
        stack: StackConfig, services: Services) -> None:
    await _feed_with_a_break(stack, services, 40, _kill_disbursement)


async def test_broker_killed_and_restarted_mid_feed(
        stack: StackConfig, services: Services) -> None:
    await _feed_with_a_break(stack, services, 30, _kill_broker)


async def test_postgres_crashed_and_restarted_mid_feed(
        stack: StackConfig, services: Services) -> None:
    await _feed_with_a_break(stack, services, 30, _crash_postgres)
