"""The watch's windowed faust tables, behind the service layer's `Tallies` and `Pairings`.

Each is a faust windowed table (tumbling or hopping) in memory, backed by its changelog topic
on the broker: a restarted watch reads the changelog back before it consumes again, and a
window expires `expires` after its end by the events' own time (`ExpiringTable`). Windows
are addressed by their own range, which is the key faust gives them (the range in UTC
seconds; `domain.windows` keeps Shanghai wall time).

A message of the watch's internal topics carries a batch of swipes. What the batch changes is
kept in a `Batch` and written once per (key, window) when the batch is done
(`BulkChangelog.flush`): into the table's store and, in one produce batch per changelog
partition, to its changelog. faust's own `table[key] = value` sends one changelog message
per write through its producer buffer, about 200 µs of CPU each (measured on the local
broker): the watch's cost per card event was mostly that.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from heapq import heappop
from typing import Any, Generic, TypeVar

import faust
import orjson
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faust.types import TP

from services.watch.adapters.read_back import bootstrap_of, read_back
from services.watch.domain.paid import Pairing
from services.watch.domain.windows import SHANGHAI_SECONDS, Tally, Window

log = logging.getLogger("puhui.watch")
V = TypeVar("V", Tally, Pairing)
WindowKey = tuple[str, tuple[float, float]]
Produce = Callable[[str, int, list[tuple[bytes, bytes | None]]], Awaitable[None]]
"""Sends (key, value) records to one topic partition in one batch, and waits until the broker
has them (a value of None is a tombstone)."""


def faust_key(key: str, window: Window) -> WindowKey:
    start = window.start - SHANGHAI_SECONDS
    return (key, (start, start + window.size - 0.1))


@dataclass
class BatchTable(Generic[V]):
    """One windowed table as a batch sees it: reads go through what the batch has written."""

    table: Any
    """The faust table (`WindowWrapper.table`): its store holds each window's value as bytes."""
    decode: Callable[[Any], V]
    encode: Callable[[V], bytes | None]
    """None: nothing worth keeping (the key is deleted)."""
    empty: Callable[[], V]
    written: dict[WindowKey, V] = field(default_factory=dict)
    read: dict[WindowKey, V] = field(default_factory=dict)
    """What the batch read, decoded once (values are immutable)."""

    def get(self, key: str, window: Window) -> V:
        start = window.start - SHANGHAI_SECONDS  # faust_key, inline: called most of all
        at = (key, (start, start + window.size - 0.1))
        found = self.written.get(at) or self.read.get(at)
        if found is None:
            raw = self.table.data.get(at)
            found = self.empty() if raw is None else self.decode(orjson.loads(raw))
            self.read[at] = found
        return found

    def put(self, key: str, window: Window, value: V) -> None:
        start = window.start - SHANGHAI_SECONDS
        self.written[(key, _shared_range((start, start + window.size - 0.1)))] = value


RANGES_SHARED = 1 << 14
"""How many window ranges `_shared_range` keeps (a few hundred a day are in use)."""
_RANGES: dict[tuple[float, float], tuple[float, float]] = {}


def _shared_range(span: tuple[float, float]) -> tuple[float, float]:
    """One tuple for every key of the same window: the keys a table keeps each hold their
    window's range, and a purchase's day is the range of every pairing of that day (104 of
    the 381 bytes a completed pairing took, measured with tracemalloc). Once full, it
    starts again (equal ranges still find each other; they are only no longer shared)."""
    kept = _RANGES.get(span)
    if kept is None:
        if len(_RANGES) >= RANGES_SHARED:
            _RANGES.clear()
        kept = _RANGES[span] = span
    return kept


class BulkChangelog:
    """Writes what a batch changed into the tables and their changelogs, once per key."""

    def __init__(self, produce: Produce) -> None:
        self.produce = produce

    async def flush(self, tables: Sequence[BatchTable[Any]], partition: int) -> None:
        """`partition`: the partition of the internal topic the batch came from (each table
        is partitioned like the stream that writes it, as faust's own writes are). Returns
        when the broker has every record."""
        sends = []
        for batch in tables:
            batch.read = {}
            if not batch.written:
                continue
            table, records = batch.table, []
            # faust-streaming 0.15 has no public bulk write: `table.data` (the store) is a
            # public property, but the expiry bookkeeping `_maybe_set_key_ttl` is private;
            # its one public caller, `Table.on_key_set`, also sends a changelog message per
            # key through faust's producer, the cost this class exists to avoid
            store = table.data
            for at, value in batch.written.items():
                raw = batch.encode(value)
                key = orjson.dumps(at)
                if raw is None:
                    store.pop(at, None)
                else:
                    if at not in store:  # faust's expiry bookkeeping, once a key
                        table._maybe_set_key_ttl(at, partition)
                    # orjson's bytes keep its whole 4 kB output buffer (whatever their length):
                    # an exact copy is kept, 40-150 bytes (docs/watch.md, "Memory")
                    store[at] = memoryview(raw).tobytes()
                records.append((key, raw))
            batch.written = {}
            sends.append(self.produce(table.changelog_topic_name, partition,
                                      records))
        await asyncio.gather(*sends)


class ExpiringTable(faust.Table[Any, Any]):
    """faust's `Table`, with windows that expire by the events' own time, recovered ones too.

    - **By event time.** faust-streaming 0.15 drops a window `expires` after its end by the
      wall clock (`time.time()` in `_del_old_keys`): a watch that lags by more than that
      loses windows it is still counting, and a feed dated ahead of the clock (the bench's
      2027 card day) expires nothing at all. Here each partition has a clock of its own, the
      start of the latest window booked in it (no event of that window came before it, so
      the clock never runs ahead of the events), as Kafka Streams keeps its stream time.
      One outlier cannot push it far: a window booked moves the clock by at most `expires`
      (an event dated 2099 then drops only windows that had already ended); faust's own
      `_partition_latest_timestamp` (the latest window end, uncapped) would let it run
      ahead. A partition that receives nothing keeps what it has.
    - **Recovered windows.** Recovery puts each changelog record into the store
      (`apply_changelog_batch`) without the expiry bookkeeping a write gets
      (`_maybe_set_key_ttl`, which `BulkChangelog.flush` also calls only for a key not in
      the store yet), so a window recovered when the watch started was kept until it
      stopped; here it is booked, and moves its partition's clock, like one written.

    - **Read back in bulk.** At each rebalance the table reads its changelog partitions
      itself, on from where it last read them (from their start, the first time), before
      faust's recovery starts, which then reads only what came after (`read_back.py`:
      faust's own recovery costs about 250 µs of CPU a record).

    Used as the app's `Table` class (faust's documented setting). No tombstone is written
    when a window expires (faust writes none either): a restart reads it back and the next
    clean-up drops it again. faust's `on_window_close` callback is not called (the watch
    sets none).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event_clock: dict[int, float] = {}
        """Per partition, in UTC seconds: the start of the latest window booked in it."""
        self.watermarks: dict[int, float] | None = None
        """A join's (`expire_by_watermark`): per partition, in UTC seconds, the intake's
        watermark as its messages carried it."""
        self.read_back_to: dict[TP, int] = {}
        """Per changelog partition read back in bulk: the offset it is applied up to."""

    def expire_by_watermark(self) -> None:
        """Make this a join's table: a partition's windows expire by the intake's watermark
        (`Watermark`), never ahead of the latest window booked, and not before a watermark
        came.

        A join's inputs are read at their own pace: a watch catching up is handed a card
        partition's fetched records in one go, a week of them, before other partitions'
        and the payouts'. Expired by the latest window booked, a purchase's window went
        before its payout came (or a payout's before its purchase) and the pair never
        completed: the planted-week e2e test lost 510-2,703 of its 12,776 pairs in 2 runs
        of 5. The watermark is the slowest source partition still behind."""
        self.watermarks = {}

    def advance(self, partition: int, watermark: float) -> None:
        """A message of `partition` carried `watermark` (UTC seconds)."""
        assert self.watermarks is not None
        self.watermarks[partition] = max(watermark, self.watermarks.get(partition, watermark))

    def clock(self, partition: int) -> float | None:
        """The event time `partition`'s windows expire by (None: nothing expires yet)."""
        booked = self.event_clock.get(partition)
        if booked is None or self.watermarks is None:
            return booked
        mark = self.watermarks.get(partition)
        return None if mark is None else min(booked, mark)

    async def on_rebalance(self, assigned: set[TP], revoked: set[TP],
                           newly_assigned: set[TP], generation_id: int = 0) -> None:
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)
        for tp in [tp for tp in self.read_back_to if tp not in assigned]:
            del self.read_back_to[tp]  # the store drops its keys once recovery is done
        mine, standbys = set(self.changelog_topic.topics), self.app.assignor.assigned_standbys()
        # a partition kept through the rebalance is read on from where the last read-back
        # stopped: what the watch wrote since is in the store already, and applied again,
        # in order, it leaves the store as it is; faust would read it a record at a time
        wanted = {TopicPartition(tp.topic, tp.partition): self.read_back_to.get(tp)
                  for tp in assigned if tp.topic in mine and tp not in standbys}
        if wanted:
            await self._read_back(wanted)

    def persisted_offset(self, tp: TP) -> int | None:
        """What faust's recovery starts after: the offset read back to, if it was."""
        return self.read_back_to.get(tp)

    async def _read_back(self, after: dict[TopicPartition, int | None]) -> None:
        started, records = time.monotonic(), 0
        schema = self.changelog_topic.schema

        def apply(tp: TopicPartition, read: list[ConsumerRecord[bytes, bytes]]) -> None:
            nonlocal records
            records += len(read)
            self.apply_changelog_batch([_Read(
                schema.loads_key(self.app, r),
                None if r.value is None else schema.loads_value(self.app, r), r)
                for r in read])

        try:
            ends = await read_back(bootstrap_of(self.app.conf.broker), after, apply,
                                   self._del_old_keys)
        except KafkaError as exc:  # faust's recovery reads them all, as it always could
            log.warning("watch: could not read back %s (%r); faust's recovery reads it",
                        self.changelog_topic.get_topic_name(), exc)
            return
        self.read_back_to.update({TP(tp.topic, tp.partition): end for tp, end in ends.items()})
        log.info("watch: read back %d records of %s in %.1f s", records,
                 self.changelog_topic.get_topic_name(), time.monotonic() - started)

    def apply_changelog_batch(self, batch: Any) -> None:
        events = list(batch)
        super().apply_changelog_batch(events)
        if not self._should_expire_keys():
            return
        for event in events:
            if event.message.value is None:  # a tombstone: the key is gone
                continue
            key = self._to_key(event.key)
            partition = event.message.partition
            if key not in self._partition_timestamp_keys.get((partition, key[1][1]), ()):
                self._maybe_set_key_ttl(key, partition)

    def _maybe_set_key_ttl(self, key: Any, partition: int) -> None:
        super()._maybe_set_key_ttl(key, partition)
        window = self.window
        if window is None or window.expires is None:
            return
        start = key[1][0]
        clock = self.event_clock.get(partition)
        self.event_clock[partition] = start if clock is None else \
            max(clock, min(start, clock + window.expires))

    async def _del_old_keys(self) -> None:
        """What faust's clean-up timer runs (every `table_cleanup_interval`).

        faust's memory store also keeps, for every key it was handed by a recovery, the
        partition it came from (`_key_partition`, to drop the keys of partitions taken
        away), and faust's own clean-up never drops that entry: a recovered window's key
        stayed there after the window expired, so a watch restarted every day kept every
        key it had ever read back. The key goes from both here."""
        window = self.window
        assert window is not None
        store = self.data
        partition_of = getattr(store, "_key_partition", {})
        for partition, ends in self._partition_timestamps.items():
            clock = self.clock(partition)
            if clock is None:
                continue
            while ends and window.stale(ends[0], clock):
                end = heappop(ends)
                for key in self._partition_timestamp_keys.pop((partition, end), ()):
                    store.pop(key, None)
                    partition_of.pop(key, None)


@dataclass(frozen=True, slots=True)
class _Read:
    """A changelog record read back, as faust's recovery hands one to the table."""

    key: Any
    value: Any
    message: ConsumerRecord[bytes, bytes]
    """`value` (None: a tombstone) and `partition`, as the table reads them."""


def tallies(table: Any) -> BatchTable[Tally]:
    return BatchTable(table, Tally.from_json, lambda t: orjson.dumps(t.as_json()), Tally)


def pairings(table: Any) -> BatchTable[Pairing]:
    return BatchTable(table, Pairing.from_json, _pairing_bytes, Pairing)


def _pairing_bytes(pairing: Pairing) -> bytes:
    """A completed pairing is kept without its purchase: its pair was passed on (and is on
    the broker) before the pairing is written, so a replay of the message that completed it
    has nothing to pass on again; what is kept only stops a resent side from pairing twice."""
    if pairing.completed_by is not None:
        pairing = Pairing(None, 0, pairing.seen, pairing.completed_by)
    return orjson.dumps(pairing.as_json())


def tumbling_table(app: faust.App, name: str, size: timedelta, expires: timedelta,
                   partitions: int) -> Any:
    return app.Table(name, value_type=bytes, partitions=partitions).tumbling(
        size, expires=expires).table


def hopping_table(app: faust.App, name: str, size: timedelta, step: timedelta,
                  expires: timedelta, partitions: int) -> Any:
    return app.Table(name, value_type=bytes, partitions=partitions).hopping(
        size, step, expires=expires).table
