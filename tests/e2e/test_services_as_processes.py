"""The services as real processes on the real stack: every event sent twice, a service or
the broker or PostgreSQL killed in the middle of the feed, a ledger killed between its
commits and their publishing, a consumer group rebalanced twice mid-feed; no payout lost,
none doubled (in PostgreSQL and on the `payouts` topic), and the audit chain verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import urllib.request
from collections.abc import Awaitable, Callable, Iterator

import asyncpg
import pytest

from puhui.stack import lifecycle
from puhui.stack.config import StackConfig
from puhui.stack.kafka import KafkaNode
from puhui.stack.postgres import PostgresNode
from tests.e2e.processes import (
    Payouts,
    Services,
    audit_chain_verifies,
    every_service,
    payout_ids_on_topic,
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


UNSENT = "select count(*) from outbox where sent_at is null"
Middle = Callable[[], Awaitable[None]]
"""Sends the middle third of the feed (once; the feed sends it after the break otherwise)."""
Break = Callable[[StackConfig, Services, Middle], Awaitable[None]]


async def _feed_with_a_break(stack: StackConfig, services: Services, members: int,
                             break_it: Break) -> Payouts:
    """A third of the feed, a break while the services are in the middle of it (which may
    send the middle third when it needs events flowing), the rest; then every payout
    simulate owes must be there exactly once and the audit chain whole. Returns what was
    owed."""
    feed = standard_feed(members=members)  # every message is in it twice
    owed = simulate(feed)
    third = len(feed.lines) // 3
    sent = [False]

    async def middle() -> None:
        if not sent[0]:
            sent[0] = True
            await produce(stack.bootstrap_servers, feed.lines[third:2 * third])

    await produce(stack.bootstrap_servers, feed.lines[:third])
    await _first_payout(stack, feed.prefix)
    await break_it(stack, services, middle)
    await middle()
    await produce(stack.bootstrap_servers, feed.lines[2 * third:])
    assert await payouts_when(stack.database_url, feed.prefix, len(owed), 180) == owed
    assert services.all_alive()
    verified = audit_chain_verifies(stack)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return owed


async def _kill_disbursement(_stack: StackConfig, services: Services, _middle: Middle) -> None:
    services.kill("disbursement")
    services.start("disbursement")


async def _kill_between_commit_and_publish(stack: StackConfig, services: Services,
                                           middle: Middle) -> None:
    """The relay down, so what disbursement commits of the middle third stays in the
    outbox; then disbursement SIGKILLed with committed batches unpublished, and both
    started again."""
    services.kill("relay")
    conn = await asyncpg.connect(stack.database_url)
    try:
        before = await conn.fetchval(UNSENT)
        await middle()
        for _ in range(100):  # until disbursement has committed more than nothing publishes
            if await conn.fetchval(UNSENT) > before:
                break
            await asyncio.sleep(0.1)
        assert await conn.fetchval(UNSENT) > 0, "nothing committed and unpublished: untested"
    finally:
        await conn.close()
    services.kill("disbursement")
    services.start("disbursement")
    services.start("relay")


async def _rebalance_twice(_stack: StackConfig, services: Services, middle: Middle) -> None:
    """A second disbursement joins the group (its partitions move), takes batches of the
    middle third, and is SIGKILLed mid-feed (they move back once its session times out)."""
    services.start("disbursement-joiner", "disbursement")
    await asyncio.sleep(6)  # its group join, before the events it should share
    await middle()
    for _ in range(150):  # until it has taken events from partitions that moved to it
        if await asyncio.to_thread(_consumed, services.ports["disbursement-joiner"]):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the joining instance took no events: no rebalance was tested")
    services.kill("disbursement-joiner")
    services.procs.pop("disbursement-joiner")  # gone for good; the rest must stay alive


def _consumed(port: int) -> float:
    """The events an instance has taken, from its /metrics (0 until it answers)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return 0.0
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("puhui_events_consumed_total{"))


async def _kill_broker(stack: StackConfig, _services: Services, _middle: Middle) -> None:
    pid = KafkaNode(stack).pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(2)
    await asyncio.to_thread(lifecycle.up, stack, lambda _line: None)


async def _crash_postgres(stack: StackConfig, _services: Services, _middle: Middle) -> None:
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


async def test_killed_between_the_ledger_commit_and_the_publish(
        stack: StackConfig, services: Services) -> None:
    owed = await _feed_with_a_break(stack, services, 30, _kill_between_commit_and_publish)
    await _each_once_on_the_topic(stack, owed)


async def test_a_consumer_group_rebalanced_mid_feed(
        stack: StackConfig, services: Services) -> None:
    owed = await _feed_with_a_break(stack, services, 30, _rebalance_twice)
    await _each_once_on_the_topic(stack, owed)


async def _each_once_on_the_topic(stack: StackConfig, owed: Payouts) -> None:
    wanted = {payout_id for payout_id, *_ in owed}
    on_topic = await payout_ids_on_topic(stack.bootstrap_servers, wanted, seconds=60)
    assert set(on_topic) == wanted
    assert set(on_topic.values()) == {1}, "a payout published twice"
