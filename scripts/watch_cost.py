"""The watch's CPU per card event and its peak RSS, over the planted week on the local stack.

    PUHUI_STACK_DIR=... PUHUI_KAFKA_PORT=... PUHUI_PG_PORT=... PYTHONPATH=. \
        .venv/bin/python scripts/watch_cost.py

Starts `puhui service watch` as a process over topics of its own (as tests/e2e does), waits
until it is up (start-up is not counted), produces the planted week (card transactions, and
the payouts of the purchases paid), waits until every swipe and pair is taken, and reads the
process's CPU time (/proc/PID/stat: user + system) and its peak RSS (VmHWM). CPU per card
event = CPU over the card transactions (the payouts ride along: they are part of the work a
card event brings). The watch runs at nice 10, so on a busy machine this measures it waiting
its turn too: read the load beside it.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from puhui.stack.config import StackConfig
from puhui.synthetic.planted import planted_week
from tests.e2e.test_watch import PLANTED_KEYS, _on
from tests.e2e.watch_process import forget_signals, watch_process
from tests.integration.ledger_harness import produce

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def until_up(watch: object, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while watch.metric("puhui_service_up", 'service="watch"') < 1:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the watch did not come up"
        await asyncio.sleep(0.5)


def main() -> None:
    stack = StackConfig.from_env()
    week = planted_week()
    cards = sum(1 for topic, _ in week if topic == "card.transactions")
    asyncio.run(forget_signals(stack.database_url, PLANTED_KEYS))
    with tempfile.TemporaryDirectory() as state, watch_process(stack, Path(state)) as watch:
        watch.start()
        assert watch.proc is not None
        asyncio.run(until_up(watch))
        before, started = cpu_seconds(watch.proc.pid), time.monotonic()
        asyncio.run(produce(stack.bootstrap_servers, _on(watch, week)))
        asyncio.run(watch.wait_for_swipes(len(week)))
        spent = cpu_seconds(watch.proc.pid) - before
        took = time.monotonic() - started - 3  # wait_for_swipes waits 3 s more
        rss = peak_rss_mb(watch.proc.pid)
    print(f"{cards:,} card events, {len(week) - cards:,} payouts, in {took:.1f} s "
          f"({cards / took:,.0f} card events/s); load {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"watch CPU {spent:.2f} s: {spent / cards * 1e6:,.0f} us per card event; "
          f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
