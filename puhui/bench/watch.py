"""When a phase is done: inbound recorded (every group committed to the end of its topics),
events out (the outbox published), and the audit trail caught up with what was published."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from puhui.bench.fleet import Fleet
from puhui.bench.floor import end_offsets
from schemas.topics import AUDIT, CARD_TRANSACTIONS, CLOCK_DAYS, CONSUMER_GROUPS, MEMBER_ENROLMENT
from services import disbursement, enrolment

TICK_SECONDS = 0.25
GROUP_TOPICS = {CONSUMER_GROUPS[spec.name]: spec.topics
                for spec in (enrolment.SPEC, disbursement.SPEC)}
"""The topics each ledger service's group reads, as the services declare them."""
OWNER = {MEMBER_ENROLMENT: CONSUMER_GROUPS["enrolment"],
         CARD_TRANSACTIONS: CONSUMER_GROUPS["disbursement"],
         CLOCK_DAYS: CONSUMER_GROUPS["disbursement"]}
"""Whose progress on a topic counts as the pipeline's progress."""
UNSENT = "select count(*) from outbox where sent_at is null"


class PhaseFailed(Exception):
    """A service died or the phase did not finish in time."""


@dataclass
class Timeline:
    """Seconds from the phase's start; None until reached."""

    first: float | None = None
    recorded: float | None = None
    published: float | None = None
    audited: float | None = None
    progress: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class Watch:
    bootstrap: str
    dsn: str
    fleet: Fleet
    timeout: float = 3600.0

    async def until_done(self, ends: dict[TopicPartition, int],
                         base: dict[TopicPartition, int], started: float) -> Timeline:
        """Wait until the groups have committed `ends`, the outbox is empty and the audit
        group is at the end of `audit`. `base` is where the phase's messages begin."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        conn = await asyncpg.connect(self.dsn)
        try:
            return await self._ticks(admin, conn, ends, base, started)
        finally:
            await conn.close()
            await admin.close()

    async def _ticks(self, admin: AIOKafkaAdminClient, conn: asyncpg.Connection,
                     ends: dict[TopicPartition, int], base: dict[TopicPartition, int],
                     started: float) -> Timeline:
        line = Timeline()
        audit_ends: dict[TopicPartition, int] | None = None
        while line.audited is None:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic() - started
            self._check(now)
            committed = {g: await admin.list_consumer_group_offsets(g) for g in GROUP_TOPICS}
            done = _progress(committed, base)
            line.progress.append((round(now, 2), done))
            if line.first is None and done > 0:
                line.first = now
            if line.recorded is None and _reached(committed, ends):
                line.recorded = now
            if line.recorded is not None and line.published is None \
                    and await conn.fetchval(UNSENT) == 0:
                line.published = now
                audit_ends = await end_offsets(self.bootstrap, (AUDIT,))
            if audit_ends is not None and _at(
                    await admin.list_consumer_group_offsets(CONSUMER_GROUPS["audit"]), audit_ends):
                line.audited = now
        return line

    def _check(self, now: float) -> None:
        self.fleet.sample()
        if dead := self.fleet.dead():
            raise PhaseFailed(f"{', '.join(dead)} exited; see {self.fleet.logs}")
        if now > self.timeout:
            raise PhaseFailed(f"not done after {self.timeout:.0f} s")


def _progress(committed: dict[str, dict[TopicPartition, object]],
              base: dict[TopicPartition, int]) -> int:
    done = 0
    for topic, group in OWNER.items():
        for tp, meta in committed[group].items():
            if tp.topic == topic:
                done += max(meta.offset - base.get(tp, 0), 0)  # type: ignore[attr-defined]
    return done


def _reached(committed: dict[str, dict[TopicPartition, object]],
             ends: dict[TopicPartition, int]) -> bool:
    return all(_at(committed[g], {tp: n for tp, n in ends.items() if tp.topic in topics})
               for g, topics in GROUP_TOPICS.items())


def _at(committed: dict[TopicPartition, object], ends: dict[TopicPartition, int]) -> bool:
    return all(end == 0 or (tp in committed and committed[tp].offset >= end)  # type: ignore[attr-defined]
               for tp, end in ends.items())
