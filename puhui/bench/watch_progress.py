"""The watch beside the hot path: how far behind it was when the pipeline was done, when it
caught up, and what it cost until then.

The watch (docs/watch.md) is off the hot path: the pipeline's figures end when the audit
trail has caught up, whatever the watch has left. Then its lag is read (what the intake has
not yet committed of `card.transactions` and `payouts`), and the bench waits until it has
taken everything: the intake committed to the end of both, and faust's group to the end of
the three internal topics, read twice around the commits so that a batch passed on between
the two reads is not missed. faust commits every few seconds (`broker_commit_interval`,
2.8 s), so "caught up" is that much late at most.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from puhui.bench.fleet import WATCH, Fleet, autogroup_nice, cpu_seconds, nice_values
from puhui.bench.watch import PhaseFailed
from schemas.topics import CARD_TRANSACTIONS, PARTITIONS, PAYOUTS
from services.watch.names import (
    INTERNAL_PARTITIONS,
    agents_group,
    intake_group,
    internal_topics,
)

SOURCES = (CARD_TRANSACTIONS, PAYOUTS)
SOURCE_PARTITIONS = [TopicPartition(t, p) for t in SOURCES for p in range(PARTITIONS[t])]
INTERNAL_TOPICS = internal_topics()
INTERNAL = [TopicPartition(t, p) for t in INTERNAL_TOPICS for p in range(INTERNAL_PARTITIONS)]
TICK_SECONDS = 0.5
CATCH_UP_WITHIN = 1800.0
"""How long the bench waits for the watch after the pipeline is done, before it goes on."""


@dataclass
class WatchStage:
    """The watch over one stage; seconds from the stage's start."""

    card_events: int
    """Card transactions of the stage (0 for the population, which the watch does not read)."""
    pipeline_done: float
    """When the pipeline's figures ended (the audit trail caught up)."""
    lag_at_pipeline_done: dict[str, int] = field(default_factory=dict)
    """Records of each source topic the intake had not yet committed then."""
    caught_up: float | None = None
    """When it had taken everything (None: not within `CATCH_UP_WITHIN`)."""
    cpu_seconds: float = 0.0
    """CPU of the watch's process over the stage, up to `caught_up` (for a stage that
    started the services, from the process's start: start-up included)."""
    peak_rss_bytes: int = 0
    nice: list[int] = field(default_factory=list)
    """The nice values of its threads (10: it yields to the hot path)."""
    autogroup_nice: int | None = None
    """Its session's nice value (what weighs against the other services' sessions)."""

    @property
    def cpu_us_per_card_event(self) -> float | None:
        return 1e6 * self.cpu_seconds / self.card_events if self.card_events else None

    def as_dict(self) -> dict[str, Any]:
        per_event = self.cpu_us_per_card_event
        return {
            "card_events": self.card_events, "pipeline_done": round(self.pipeline_done, 2),
            "lag_at_pipeline_done": self.lag_at_pipeline_done,
            "caught_up": None if self.caught_up is None else round(self.caught_up, 2),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "cpu_us_per_card_event": None if per_event is None else round(per_event),
            "peak_rss_mb": round(self.peak_rss_bytes / 1024 / 1024, 1), "nice": self.nice,
            "autogroup_nice": self.autogroup_nice,
        }


@dataclass
class WatchProgress:
    bootstrap: str
    fleet: Fleet
    within: float = CATCH_UP_WITHIN
    _cpu_before: float = 0.0

    def stage_started(self, restarted: bool) -> None:
        """A stage begins: the watch's CPU counts from here (from its start, if the fleet
        was just started)."""
        pid = self.fleet.pid(WATCH)
        self._cpu_before = 0.0 if restarted or pid is None else cpu_seconds(pid)

    async def until_caught_up(self, card_events: int, started: float) -> WatchStage:
        """Called when the pipeline is done; returns once the watch has taken everything
        (or `within` seconds have passed)."""
        stage = WatchStage(card_events, time.monotonic() - started)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        offsets = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await admin.start()
        await offsets.start()
        try:
            stage.lag_at_pipeline_done = await _lag(admin, offsets)
            deadline = time.monotonic() + self.within
            while not (await self._up() and await _caught_up(admin, offsets)):
                self.fleet.sample()
                if self.fleet.pid(WATCH) is None:
                    raise PhaseFailed(f"watch exited; see {self.fleet.logs}")
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(TICK_SECONDS)
            else:
                stage.caught_up = time.monotonic() - started
        finally:
            await offsets.stop()
            await admin.close()
        self.fleet.sample()
        pid = self.fleet.pid(WATCH)
        if pid is not None:
            stage.cpu_seconds = cpu_seconds(pid) - self._cpu_before
            stage.nice, stage.autogroup_nice = nice_values(pid), autogroup_nice(pid)
        stage.peak_rss_bytes = self.fleet.stage_rss.get(WATCH, 0)
        return stage


    async def _up(self) -> bool:
        """The watch says it is up on /metrics (its worker started, its topics made)."""
        url = f"http://127.0.0.1:{self.fleet.ports[WATCH]}/metrics"
        try:
            text = await asyncio.to_thread(_get, url)
        except OSError:
            return False
        return re.search(r'^puhui_service_up\{service="watch"\} 1', text, re.MULTILINE) \
            is not None


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  # our own /metrics
        text: str = response.read().decode()
        return text


async def _lag(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer) -> dict[str, int]:
    """Records of each source topic that the intake has not committed."""
    ends = await offsets.end_offsets(SOURCE_PARTITIONS)
    behind = _behind(await admin.list_consumer_group_offsets(intake_group()), ends)
    return {topic: sum(n for tp, n in behind.items() if tp.topic == topic) for topic in SOURCES}


async def _caught_up(admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer) -> bool:
    if any((await _lag(admin, offsets)).values()):
        return False
    ends = await offsets.end_offsets(INTERNAL)
    committed = await admin.list_consumer_group_offsets(agents_group())
    return ends == await offsets.end_offsets(INTERNAL) and not _behind(committed, ends)


def _behind(committed: dict[TopicPartition, Any],
            ends: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Records past the group's committed offset, by partition (only those behind)."""
    found = {tp: end - max(committed[tp].offset if tp in committed else 0, 0)
             for tp, end in ends.items()}
    return {tp: n for tp, n in found.items() if n > 0}
