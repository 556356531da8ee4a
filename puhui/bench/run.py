"""One bench run, phase by phase, on a clean database and fresh topics.

1. population: produced, copied by the raw floor, then through the services (started now);
2. latency: swipes offered at a fixed rate to the running services, stamped as they go;
3. card day: the services stop, the day is produced and copied by the raw floor, then the
   services start again and take it as a backlog: throughput against the floor.

The watch, unless left out, runs beside the four services from their start: after each phase
the bench waits until it has caught up too (`watch_progress`), so that what it has left of
one phase is not counted in the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from puhui.bench import machine, profile
from puhui.bench.figures import Figures, Stage
from puhui.bench.fleet import Fleet
from puhui.bench.floor import end_offsets, ranges_between, raw_floor
from puhui.bench.fresh import FLOOR_TOPIC, fresh_database, fresh_topics
from puhui.bench.latency import CommitClock, Latency, measure, offer
from puhui.bench.plan import BenchPlan, Line
from puhui.bench.watch import Watch
from puhui.bench.watch_progress import WatchProgress, WatchStage
from puhui.feed_producer import produce_lines
from puhui.settings import Connections
from puhui.synthetic.timing import SHANGHAI_OFFSET
from schemas.topics import CARD_TRANSACTIONS, CLOCK_DAYS, MEMBER_ENROLMENT, PARTITIONS

INBOUND = (CARD_TRANSACTIONS, CLOCK_DAYS, MEMBER_ENROLMENT)
FLOOR_PARTITIONS = 8
Say = Callable[[str], None]


@dataclass
class Bench:
    plan: BenchPlan
    connections: Connections
    logs: Path
    say: Say
    profile: tuple[str, ...] = ()
    full_day: bool = False
    instances: int = 1
    watch: bool = True
    """Run the watch beside the hot path."""
    _beside: WatchProgress | None = field(default=None, init=False)

    async def run(self) -> Figures:
        figures = Figures({**self.plan.as_dict(), "disbursement_instances": self.instances,
                           "watch": self.watch}, os.getloadavg(), full_day=self.full_day)
        bootstrap = self.connections.kafka_bootstrap
        self.say("fresh database puhui_bench and fresh topics")
        dsn = await fresh_database(self.connections.database_url)
        await fresh_topics(bootstrap, {**PARTITIONS, FLOOR_TOPIC: FLOOR_PARTITIONS})
        env = {**os.environ, "PUHUI_DATABASE_URL": dsn, "PUHUI_KAFKA_BOOTSTRAP": bootstrap}
        fleet = Fleet(env, self.logs, self.profile, self.instances, self.watch)
        watch = Watch(bootstrap, dsn, fleet)
        self._beside = WatchProgress(bootstrap, fleet) if self.watch else None
        try:
            async with _sampling(fleet):
                today = datetime.now(SHANGHAI_OFFSET).date()
                figures.population = await self._stage(
                    "population", self.plan.population(today), fleet, watch, figures)
                figures.latency = await self._latency(fleet, watch, dsn, figures)
                fleet.stop()
                figures.day = await self._stage("card day", self.plan.day_lines(), fleet, watch,
                                                figures)
        finally:
            fleet.stop()
        figures.rss_bytes = dict(fleet.peak_rss)
        figures.profile = profile.by_service(fleet.profiles)
        figures.load_after = os.getloadavg()
        return figures

    async def _stage(self, name: str, lines: Iterator[Line], fleet: Fleet,
                     watch: Watch, figures: Figures) -> Stage:
        bootstrap = self.connections.kafka_bootstrap
        before = await end_offsets(bootstrap, INBOUND)
        started = time.perf_counter()
        events = await produce_lines(lines, bootstrap)
        produced = time.perf_counter() - started
        after = await end_offsets(bootstrap, INBOUND)
        self.say(f"{name}: produced {events:,} events in {produced:.1f} s; raw floor ...")
        floor = await raw_floor(bootstrap, ranges_between(before, after))
        self.say(f"{name}: raw floor {floor.per_second:,.0f}/s; the pipeline ...")
        started, cpu = time.monotonic(), machine.snapshot()
        fleet.new_stage()
        fleet.start()
        self._watch_starts(restarted=True)
        timeline = await watch.until_done(after, before, started)
        fleet.sample()
        stage = Stage(events, produced, floor, timeline, dict(fleet.cpu),
                      machine.spent(cpu, machine.snapshot()))
        self.say(f"{name}: pipeline {stage.per_second:,.0f}/s "
                 f"(ratio {stage.ratio:.2f}); audit caught up at {timeline.audited:.1f} s")
        card_events = events if name == "card day" else 0
        await self._watch_catches_up(name, card_events, started, figures)
        return stage

    def _watch_starts(self, restarted: bool) -> None:
        if self._beside is not None:
            self._beside.stage_started(restarted)

    async def _watch_catches_up(self, name: str, card_events: int, started: float,
                                figures: Figures) -> None:
        """The pipeline is done: wait for the watch (if it runs) and keep its figures."""
        if self._beside is None:
            return
        self.say(f"{name}: waiting for the watch ...")
        found: WatchStage = await self._beside.until_caught_up(card_events, started)
        figures.watch[name] = found
        self.say(f"{name}: watch {_caught(found)}")

    async def _latency(self, fleet: Fleet, watch: Watch, dsn: str,
                       figures: Figures) -> Latency:
        plan, bootstrap = self.plan, self.connections.kafka_bootstrap
        self.say(f"latency: {plan.rate:,} swipes/s for {plan.latency_seconds:.0f} s ...")
        fleet.new_stage()
        self._watch_starts(restarted=False)
        async with CommitClock(dsn) as clock:
            before = await end_offsets(bootstrap, INBOUND)
            started = time.monotonic()
            ids = await offer(bootstrap, plan.latency_swipes(), plan.rate, plan.latency_seconds)
            after = await end_offsets(bootstrap, INBOUND)
            await watch.until_done(after, before, started)
            latency = await measure(dsn, clock, ids, plan.rate, plan.latency_seconds)
        c = latency.to_commit
        self.say(f"latency: p50 {c.p50_ms} ms, p95 {c.p95_ms} ms, p99 {c.p99_ms} ms")
        await self._watch_catches_up("latency", latency.offered, started, figures)
        return latency


def _caught(found: WatchStage) -> str:
    lag = ", ".join(f"{n:,} {topic}" for topic, n in found.lag_at_pipeline_done.items())
    when = "not caught up" if found.caught_up is None else f"caught up at {found.caught_up:.1f} s"
    return f"{lag} behind at {found.pipeline_done:.1f} s, {when}"


@contextlib.asynccontextmanager
async def _sampling(fleet: Fleet, every: float = 0.25) -> AsyncIterator[None]:
    """Keep the fleet's peak RSS up to date for as long as the block runs."""

    async def sample() -> None:
        while True:
            fleet.sample()
            await asyncio.sleep(every)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
