"""The services as real processes: every event sent twice, disbursement killed with SIGKILL
in the middle of the feed and restarted; the payouts are exactly what simulate owes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import asyncpg
import pytest

from puhui.stack.config import StackConfig
from tests.feeds import simulate, standard_feed
from tests.integration.ledger_harness import produce

Payouts = set[tuple[str, str, str, int]]
MINE = "select payout_id, member_id, programme, amount_fen from payouts where member_id like $1"


def _start(name: str, port: int, stack: StackConfig) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PUHUI_KAFKA_BOOTSTRAP": stack.bootstrap_servers,
           "PUHUI_DATABASE_URL": stack.database_url}
    return subprocess.Popen([sys.executable, "-m", "puhui", "service", name,
                             "--metrics-port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def services(stack: StackConfig) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    procs = {"enrolment": _start("enrolment", 19201, stack),
             "disbursement": _start("disbursement", 19202, stack),
             "relay": _start("relay", 19204, stack)}
    yield procs
    for proc in procs.values():
        proc.terminate()
    for proc in procs.values():
        proc.wait(timeout=30)


async def _payouts(dsn: str, prefix: str) -> Payouts:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(MINE, f"{prefix}-%")
    finally:
        await conn.close()
    return {(r["payout_id"], r["member_id"], r["programme"], r["amount_fen"]) for r in rows}


async def _until(dsn: str, prefix: str, want: int, seconds: float) -> Payouts:
    deadline = asyncio.get_running_loop().time() + seconds
    got = await _payouts(dsn, prefix)
    while len(got) < want and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
        got = await _payouts(dsn, prefix)
    return got


async def test_sigkill_mid_feed_loses_nothing_and_pays_nothing_twice(
        stack: StackConfig, services: dict[str, subprocess.Popen[bytes]]) -> None:
    feed = standard_feed(members=40)  # every message is in it twice
    owed = simulate(feed)
    half = len(feed.lines) // 2
    await produce(stack.bootstrap_servers, feed.lines[:half])
    await _until(stack.database_url, feed.prefix, 1, 60)  # disbursement is mid-feed now
    services["disbursement"].send_signal(signal.SIGKILL)
    services["disbursement"].wait(timeout=10)
    await produce(stack.bootstrap_servers, feed.lines[half:])
    services["disbursement"] = _start("disbursement", 19202, stack)
    got = await _until(stack.database_url, feed.prefix, len(owed), 120)
    await asyncio.sleep(2.0)  # a double payment would have landed by now
    got = await _payouts(stack.database_url, feed.prefix)
    assert got == owed
