"""The batch consumer: fetch, hand to the service layer, commit only after it has recorded.

Offsets are committed after the handler's PostgreSQL transaction commits, never before, so a
crash anywhere redelivers the batch; the handler's processed-event markers make that a no-op.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from services.runtime.errors import TransientFailure
from services.runtime.records import InboundRecord
from services.runtime.retry import Retrying

log = logging.getLogger(__name__)
Handler = Callable[[Sequence[InboundRecord]], Awaitable[None]]
OnLag = Callable[[dict[tuple[str, int], int]], None]
"""Receives the lag of every assigned partition: {(topic, partition): messages behind}."""
OnUnreadable = Callable[[], None]
"""Told each time a fetched batch cannot be read at all (a codec, a corrupt record...)."""
LAG_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class ConsumerSettings:
    bootstrap: str
    group_id: str
    topics: tuple[str, ...]
    max_batch: int = 2000
    poll_ms: int = 100
    retrying: Retrying = field(default_factory=Retrying)
    """The process's one retry layer (services/runtime/retry.py), shared with its loop."""


async def run_consumer(settings: ConsumerSettings, handle: Handler, stop: asyncio.Event,
                       on_batch: Callable[[int], None] = lambda _n: None,
                       on_lag: OnLag = lambda _lags: None,
                       on_unreadable: OnUnreadable = lambda: None) -> None:
    """Consume until `stop` is set; `GaveUp` once transient failures outlast the give-up time.

    A batch that cannot be read at all is a transient failure (never skipped: the loop
    restarts from the last committed offset), logged as an error and counted by
    `on_unreadable` so that it raises an alert instead of looping silently."""
    consumer = AIOKafkaConsumer(
        *settings.topics, bootstrap_servers=settings.bootstrap, group_id=settings.group_id,
        enable_auto_commit=False, auto_offset_reset="earliest",
        # a client's transaction counts once committed: an aborted one's messages never do
        isolation_level="read_committed",
        max_poll_records=settings.max_batch, fetch_max_wait_ms=settings.poll_ms,
        max_partition_fetch_bytes=4 * 1024 * 1024)
    await _with_retries(consumer.start, "start the Kafka consumer", settings.retrying)
    try:
        await _consume(consumer, settings, handle, stop, on_batch, _LagReporter(on_lag),
                       on_unreadable)
    except KafkaError as exc:
        # The broker went away under us: restart the loop from the last committed offset.
        raise TransientFailure(f"Kafka consumer failed: {exc!r}") from exc
    finally:
        await consumer.stop()


async def _consume(consumer: AIOKafkaConsumer, settings: ConsumerSettings, handle: Handler,
                   stop: asyncio.Event, on_batch: Callable[[int], None],
                   lag: _LagReporter, on_unreadable: OnUnreadable) -> None:
    while not stop.is_set():
        await lag.report(consumer)
        fetched = await _fetch(consumer, settings, on_unreadable)
        records = [InboundRecord(tp.topic, tp.partition, m.offset, m.key, m.value or b"")
                   for tp, messages in fetched.items() for m in messages]
        if not records:
            continue
        await _with_retries(partial(_collector_paused, handle, records), "record a batch",
                            settings.retrying)
        await _commit(consumer, fetched)
        on_batch(len(records))


async def _collector_paused(handle: Handler, records: Sequence[InboundRecord]) -> None:
    """`handle(records)` with Python's cyclic garbage collector off, and on again after.

    A batch keeps its objects alive until it is done (the ledger's slice, every decision,
    the rows it writes), so the collections its allocations trigger walk them again and
    again, and promote them for the full collections to walk once more: 11 % of the
    ledger's CPU per card event (docs/bench.md, "The garbage collector paused during a
    batch"). What a batch leaves is freed by reference counting as it ends; the few cycles
    it made are collected once the collector is on again. One batch at a time per process,
    so nothing else turns it off or on."""
    gc.disable()
    try:
        await handle(records)
    finally:
        gc.enable()


async def _fetch(consumer: AIOKafkaConsumer, settings: ConsumerSettings,
                 on_unreadable: OnUnreadable) -> dict[TopicPartition, list[ConsumerRecord]]:
    """The next batch; one that cannot be read (a codec not installed, a corrupt record) is
    a transient failure: counted, logged, and re-read from the last committed offset."""
    try:
        fetched: dict[TopicPartition, list[ConsumerRecord]] = await consumer.getmany(
            timeout_ms=settings.poll_ms, max_records=settings.max_batch)
    except Exception as exc:  # whatever the reason (a codec's own error type too)
        on_unreadable()
        log.error("cannot read a batch from %s (%s: %s); re-reading from the last committed "
                  "offset", ", ".join(settings.topics), type(exc).__name__, exc)
        raise TransientFailure(f"unreadable batch: {type(exc).__name__}: {exc}") from exc
    return fetched


class _LagReporter:
    """At most once a second: highwater (from the last fetch response, no request of its own)
    minus the position handed out so far, for every assigned partition fetched from yet.

    Never in the way of consuming: a partition whose position is not known at once (just
    assigned, being reset, revoked) is left out of this report."""

    def __init__(self, on_lag: OnLag) -> None:
        self.on_lag = on_lag
        self.next_at = 0.0

    async def report(self, consumer: AIOKafkaConsumer) -> None:
        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + LAG_EVERY_SECONDS
        lags = {}
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = await asyncio.wait_for(consumer.position(tp), 0.05)
            except (IllegalStateError, TimeoutError):
                continue
            lags[(tp.topic, tp.partition)] = max(highwater - position, 0)
        self.on_lag(lags)


async def _commit(consumer: AIOKafkaConsumer, fetched: dict[TopicPartition, list[object]]) -> None:
    offsets = {tp: messages[-1].offset + 1  # type: ignore[attr-defined]  # ConsumerRecord
               for tp, messages in fetched.items() if messages}
    try:
        await consumer.commit(offsets)
    except CommitFailedError:
        # The group rebalanced under us: another member will redeliver these records, and the
        # processed-event markers make that harmless.
        log.warning("offset commit refused after a rebalance; records will be redelivered")


async def _with_retries(action: Callable[[], Awaitable[object]], what: str,
                        retrying: Retrying) -> None:
    """Try `action` until it succeeds, waiting as `retrying` says between tries."""
    while True:
        try:
            await action()
        except (TransientFailure, KafkaError, OSError) as exc:
            delay = retrying.delay_after(exc)
            log.warning("could not %s (failure %d in a row): %s; retrying in %.1fs",
                        what, retrying.failures, exc, delay)
            await asyncio.sleep(delay)
        else:
            retrying.recovered()
            return
