"""`puhui simulate`'s events per second: `python -m puhui.bench.simulate_speed`.

Generates a feed (`puhui generate`'s, seeded), optionally keeps its first `--lines` lines,
then runs `puhui simulate FEED > /dev/null` as a process, `--rounds` times for each
`--processes` value, alternating them. Wall time is taken around the process and CPU time
from its resource usage (its workers included: user + system). Events per second are input
lines over either; the start of the process (about a second of imports) is in both. The
load average before and after is printed too: other work on the machine moves the figures.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click

from puhui.generate import write_feed
from puhui.synthetic.feed import FeedPlan

MONTH_EVENTS = 90_000_000
"""A generated federation month: 1.75 million members, about 90 million events."""


@dataclass(frozen=True)
class Timing:
    processes: int
    wall: float
    cpu: float
    fell_back: str

    def rates(self, events: int) -> tuple[float, float]:
        return events / self.wall, events / self.cpu


def time_simulate(feed: Path, processes: int, extra: tuple[str, ...]) -> Timing:
    """One run of `puhui simulate` over `feed`, its output thrown away."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "puhui", "simulate", str(feed), "--processes", str(processes),
         *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    notes = [line for line in done.stderr.decode().splitlines() if "one process" in line]
    return Timing(processes, wall, cpu, notes[0] if notes else "")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@click.command()
@click.option("--members", type=click.IntRange(min=1), default=50_000, show_default=True)
@click.option("--cards", type=click.IntRange(min=1), default=40_000, show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=35, show_default=True)
@click.option("--events", "card_events", type=click.IntRange(min=1), default=300_000,
              show_default=True, help="Card transactions of the feed (resends included).")
@click.option("--lines", type=click.IntRange(min=1), default=None,
              help="Keep only the feed's first LINES lines.")
@click.option("--processes", "processes", default="1,2", show_default=True,
              help="Comma-separated `puhui simulate --processes` values to compare.")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--budget", "budgets", multiple=True, metavar="PROGRAMME=FEN",
              help="Passed to `puhui simulate --budget` (repeatable).")
def main(members: int, cards: int, days: int, card_events: int, lines: int | None,
         processes: str, rounds: int, budgets: tuple[str, ...]) -> None:
    """Events per second of `puhui simulate` on a generated feed, wall and CPU."""
    counts = [int(p) for p in processes.split(",")]
    extra = tuple(arg for budget in budgets for arg in ("--budget", budget))
    with tempfile.TemporaryDirectory(prefix="puhui-simulate-speed-") as folder:
        feed = Path(folder) / "feed.jsonl"
        plan = FeedPlan(members, cards, days, date(2027, 2, 1), max_swipes=card_events)
        with feed.open("wb") as out:
            write_feed(plan, out)
        if lines is not None:
            kept = feed.read_bytes().splitlines(keepends=True)[:lines]
            feed.write_bytes(b"".join(kept))
        events = sum(1 for line in feed.open("rb") if line.strip())
        part = f", its first {lines:,} lines" if lines else ""
        click.echo(f"feed: {events:,} events ({members:,} members, {cards:,} cards, "
                   f"{card_events:,} card events{part}); load average {_load()}")
        timings: dict[int, list[Timing]] = {count: [] for count in counts}
        for round_ in range(1, rounds + 1):
            for count in counts:
                timing = time_simulate(feed, count, extra)
                timings[count].append(timing)
                wall, cpu = timing.rates(events)
                click.echo(f"round {round_}, {count} process{'es' if count > 1 else ''}: "
                           f"{wall:,.0f} events/s wall ({timing.wall:.2f} s), {cpu:,.0f} "
                           f"events/s CPU ({timing.cpu:.2f} s) {timing.fell_back}")
        click.echo(f"load average after: {_load()}")
        for count, runs in timings.items():
            wall = statistics.median(events / t.wall for t in runs)
            cpu = statistics.median(events / t.cpu for t in runs)
            month = MONTH_EVENTS / wall / 60
            click.echo(f"median, --processes {count}: {wall:,.0f} events/s wall, {cpu:,.0f} "
                       f"events/s CPU; a federation month ({MONTH_EVENTS:,} events) at this "
                       f"rate: about {month:,.0f} minutes (extrapolated, not run)")


if __name__ == "__main__":
    main()
