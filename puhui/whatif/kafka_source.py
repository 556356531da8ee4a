"""The recorded inbound events, read from the broker in the order a live service saw them.

Each partition is read in offset order, as its consumer read it, with its resends and its
garbage. Partitions and topics are interleaved this way (docs/services.md, "What if"):
1. all of `member.enrolment` first, its partitions merged by `occurred_at`: the registry as
   it was recorded, every membership and card span with its own times;
2. then `card.transactions` and `clock.days` of the window, their partitions merged by time
   (a swipe's `occurred_at`, a day's 00:00 in Asia/Shanghai).
A merge never reorders a partition: it takes the partition whose next event is earliest.
Undecodable messages (what the services dead-lettered) are skipped and counted.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from engine.periods import local_date, start_of_day
from engine.state import Arrival
from puhui.whatif.window import Window
from schemas.clock_days import DayStarted
from schemas.decode import InboundEvent, Invalid, decode
from schemas.topics import CARD_TRANSACTIONS, CLOCK_DAYS, INBOUND, MEMBER_ENROLMENT

FETCH_RECORDS = 4_000
"""Records asked of one partition at a time."""

Recorded = tuple[InboundEvent, Arrival]


class ReplayMisplaced(RuntimeError):
    """A partition would not be read from its beginning: the replay would miss events."""


@dataclass
class Counts:
    """What the replay read: events fed, dead letters skipped (by kind), events outside the
    window."""

    fed: int = 0
    read: int = 0
    outside: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)


@dataclass
class _Partition:
    tp: TopicPartition
    start: int
    end: int
    buffer: deque[ConsumerRecord[bytes, bytes]] = field(default_factory=deque)


class RecordedEvents:
    """The inbound topics of the broker at `bootstrap`, up to their ends when opened."""

    def __init__(self, bootstrap: str, window: Window) -> None:
        self.window = window
        self._bootstrap = bootstrap
        self.counts = Counts()
        self.total = 0
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
            # an assigned partition is first placed by this policy, in the background; with
            # the default "latest", that placement can land after a seek and leave the
            # partition at its end (aiokafka keeps whichever offset answer comes last)
            auto_offset_reset="earliest",
            isolation_level="read_committed", request_timeout_ms=10_000,
            # a partition read to its end would hold every fetch for the default 500 ms
            fetch_max_wait_ms=50, max_partition_fetch_bytes=4 * 1024 * 1024)
        self._parts: dict[str, list[_Partition]] = {}

    async def open(self) -> None:
        """Connect, assign every inbound partition from its beginning, note where each ends."""
        await self._consumer.start()
        tps = await self._partitions()
        self._consumer.assign(tps)
        starts = await self._consumer.beginning_offsets(tps)
        ends = await self._consumer.end_offsets(tps)
        for tp in tps:
            self._consumer.seek(tp, starts[tp])
            self._parts.setdefault(tp.topic, []).append(_Partition(tp, starts[tp], ends[tp]))
        for tp, (position, start) in (await self.positions()).items():
            if position != start:
                raise ReplayMisplaced(f"{tp.topic}[{tp.partition}] would be read from offset "
                                      f"{position}, not from its beginning {start}")
        self.total = sum(ends[tp] - starts[tp] for tp in tps)

    async def positions(self) -> dict[TopicPartition, tuple[int, int]]:
        """Each partition's next offset to read, beside its beginning when opened."""
        return {part.tp: (await self._consumer.position(part.tp), part.start)
                for parts in self._parts.values() for part in parts}

    async def _partitions(self) -> list[TopicPartition]:
        """Every partition of the inbound topics, as the broker has them."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=10_000)
        await admin.start()
        try:
            described = await admin.describe_topics(list(INBOUND))
        finally:
            await admin.close()
        return [TopicPartition(topic["topic"], partition["partition"])
                for topic in sorted(described, key=lambda t: INBOUND.index(t["topic"]))
                for partition in sorted(topic["partitions"], key=lambda p: p["partition"])]

    async def close(self) -> None:
        await self._consumer.stop()

    async def events(self) -> AsyncIterator[Recorded]:
        """Every event to replay, in replay order, with where it arrived."""
        async for recorded in self._merged(self._parts.get(MEMBER_ENROLMENT, [])):
            yield recorded
        card_and_days = self._parts.get(CLOCK_DAYS, []) + self._parts.get(CARD_TRANSACTIONS, [])
        async for recorded in self._merged(card_and_days):
            yield recorded

    async def _merged(self, parts: list[_Partition]) -> AsyncIterator[Recorded]:
        heap: list[tuple[datetime, int, Recorded]] = []
        for rank, part in enumerate(parts):
            await self._push(heap, rank, part)
        while heap:
            _, rank, recorded = heapq.heappop(heap)
            self.counts.fed += 1
            yield recorded
            await self._push(heap, rank, parts[rank])

    async def _push(self, heap: list[tuple[datetime, int, Recorded]], rank: int,
                    part: _Partition) -> None:
        recorded = await self._next(part)
        if recorded is not None:
            heapq.heappush(heap, (_time(recorded[0]), rank, recorded))

    async def _next(self, part: _Partition) -> Recorded | None:
        """The partition's next event to replay (None at its end)."""
        while (record := await self._record(part)) is not None:
            self.counts.read += 1
            event = decode(record.topic, record.value or b"")
            if isinstance(event, Invalid):
                self.counts.dead_letters[event.kind] += 1
            elif record.topic != MEMBER_ENROLMENT and not self.window.takes(_day(event)):
                self.counts.outside += 1
            else:
                return event, Arrival(record.topic, record.partition, record.offset)
        return None

    async def _record(self, part: _Partition) -> ConsumerRecord[bytes, bytes] | None:
        while not part.buffer:
            if await self._consumer.position(part.tp) >= part.end:
                return None
            batches = await self._consumer.getmany(part.tp, timeout_ms=1_000,
                                                   max_records=FETCH_RECORDS)
            part.buffer.extend(r for r in batches.get(part.tp, []) if r.offset < part.end)
        return part.buffer.popleft()


def _time(event: InboundEvent) -> datetime:
    if isinstance(event, DayStarted):
        return start_of_day(event.date)
    return event.occurred_at


def _day(event: InboundEvent) -> date:
    return event.date if isinstance(event, DayStarted) else local_date(event.occurred_at)

