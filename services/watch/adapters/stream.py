"""The faust app: three agents over three internal topics, six windowed tables, and the
intake that feeds them.

- the intake (an aiokafka consumer in the worker, group `<app>-intake`) reads
  `card.transactions` (keyed by card) and `payouts` (keyed by member) a poll at a time, and
  sends what it found as one message per partition: each transaction at a subsidised
  category to `<app>-merchant-swipes` (partitioned by merchant), each purchase and each
  payout on a purchase to `<app>-paid-join` (by transaction id); then it commits the poll;
- `joins` reads that topic: pairs a purchase with its payout, and passes the subsidised
  purchases on to `<app>-merchant-swipes` (by merchant) and `<app>-card-swipes` (by card);
- `merchants` reads the merchant topic: subsidy-maximising amounts and refund ratio (every
  transaction), merchant burst (subsidised purchases);
- `velocity` reads the card topic: card velocity (subsidised purchases).

Every message of an internal topic is a batch (a JSON list). faust's path costs about 200 µs
of CPU for each message consumed or produced (measured on the local broker), several times
what the rules cost: a message per card event and a changelog message per table write made
the watch cost 3-5 ms a card event. Now a poll of up to 2,000 source records makes at most
two messages per internal partition, and a batch writes each (key, window) it changed once,
in one produce batch per changelog partition (`tables.BulkChangelog`).

The order makes it exactly once without faust's exactly-once mode: the intake commits a
poll only when the broker has its messages; an agent records its batch's signals, then sends
what it passes on and waits for the broker, then writes its tables and waits again, and only
then returns the message to faust, which acks it (its offset is committed later). A crash
anywhere replays at least the batch it was in; the tallies' source positions make a replay
count nothing twice (docs/watch.md). faust acks a message even when an exception escapes its
agent, so the agents retry a transient failure themselves and stop the worker when it
outlives its retries (the supervisor restarts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import faust
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.card_transactions import CardTransaction
from schemas.decode import decode
from schemas.signals import Signal
from schemas.topics import CARD_TRANSACTIONS, PARTITIONS, PAYOUTS
from services.runtime.errors import TransientFailure
from services.watch.adapters.tables import (
    BatchTable,
    BulkChangelog,
    ExpiringTable,
    hopping_table,
    pairings,
    tallies,
    tumbling_table,
)
from services.watch.config import Watched
from services.watch.domain.paid import PaidSide
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import SHANGHAI_SECONDS, Tally, local_seconds
from services.watch.names import APP_ID, INTERNAL, INTERNAL_PARTITIONS, intake_group
from services.watch.names import internal_topic as _named
from services.watch.service_layer.watch import (
    CardWatch,
    MerchantTables,
    MerchantWatch,
    PaidJoin,
    Record,
)

log = logging.getLogger("puhui.watch")
RETRIES = 8
SLOTS = 10_000
"""A side's position in the join topic: its message's offset × SLOTS + its index in the
message (a message holds at most `max_poll_records` sides)."""
Record_ = tuple[bytes, bytes | None]


@dataclass(frozen=True)
class StreamSettings:
    bootstrap: str
    state_dir: Path
    app_id: str = APP_ID
    """Names the consumer groups, the changelog topics and the internal topics."""
    source_topic: str = CARD_TRANSACTIONS
    payouts_topic: str = PAYOUTS
    max_poll_records: int = 2000
    """The most a batch of the intake holds (< SLOTS)."""
    batch_seconds: float = 0.5
    """How long the intake gathers a batch: a signal comes that much later."""


@dataclass
class Counters:
    """What the intake and the agents report (the metrics adapter counts it)."""

    consumed: Callable[[str, int], None]
    """Records of a source topic, or items of an internal topic's batches."""
    skipped: Callable[[str], None]
    """A message the watch does not look at: not decodable (disbursement dead-letters it),
    or at a merchant category no card programme pays on."""


class Broker:
    """The watch's own aiokafka producer: batches to chosen partitions, waited for."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def send(self, *batches: tuple[str, dict[int, list[Any]]],
                   headers: Sequence[tuple[str, bytes]] = ()) -> None:
        """One message per (topic, partition), each a JSON list, with `headers`; returns
        when the broker has them all."""
        sent = [await self.producer.send(topic, orjson.dumps(items), partition=partition,
                                         headers=list(headers) or None)
                for topic, by_partition in batches
                for partition, items in by_partition.items() if items]
        await asyncio.gather(*sent)

    async def records(self, topic: str, partition: int, records: list[Record_]) -> None:
        """(key, value) records to one partition, in produce batches; waited for."""
        sent, batch = [], self.producer.create_batch()
        for key, value in records:
            if batch.append(key=key, value=value, timestamp=None) is None:
                sent.append(await self.producer.send_batch(batch, topic, partition=partition))
                batch = self.producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
        if batch.record_count():
            sent.append(await self.producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)


async def started_producer(bootstrap: str) -> AIOKafkaProducer:
    """Made and started on the worker's loop (aiokafka binds it to the running loop)."""
    # a batch of 2,000 swipes is about 400 kB: under the broker's 1 MB a message
    made = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                            max_batch_size=262_144, max_request_size=1_040_000)
    await made.start()
    return made


def build_app(settings: StreamSettings, watched: Watched, record: Record, counters: Counters,
              broker: Broker) -> faust.App:
    app = faust.App(
        settings.app_id, broker=f"kafka://{settings.bootstrap}", store="memory://",
        datadir=str(settings.state_dir), topic_partitions=PARTITIONS[CARD_TRANSACTIONS],
        topic_replication_factor=1, web_enabled=False, consumer_auto_offset_reset="earliest",
        broker_max_poll_records=16, stream_buffer_maxsize=16, producer_acks=-1,
        table_standby_replicas=0, Table=ExpiringTable,
        # expiry goes by event time, which a backlog runs through fast (the bench's card
        # day: some 40 minutes of it a second); faust's default look every 30 s would keep
        # most of a day between two
        table_cleanup_interval=2.0,
        # a watch killed and started again rejoins its group in seconds, not a minute
        broker_session_timeout=10.0, broker_heartbeat_interval=2.0)
    to_merchants, to_cards, to_join = (
        app.topic(internal_topic(settings, name), key_serializer="raw", value_serializer="raw",
                  partitions=INTERNAL_PARTITIONS, internal=True) for name in INTERNAL)
    names = {topic: topic.get_topic_name() for topic in (to_merchants, to_cards, to_join)}
    burst, hour, day, paid_day, velocity_table, pairing_table = _tables(app, watched)
    changelog = BulkChangelog(broker.records)
    merchant_signals: list[Signal] = []
    card_signals: list[Signal] = []
    # a batch of each table per partition: a take may hold two messages of one partition,
    # the second reading what the first wrote, and each is written to its own partition
    parts = range(INTERNAL_PARTITIONS)
    merchant_tables = {p: MerchantBatch(tallies(burst), tallies(hour), tallies(day),
                                        tallies(paid_day)) for p in parts}
    card_tables = {p: tallies(velocity_table) for p in parts}
    pairing_tables = {p: pairings(pairing_table) for p in parts}
    merchant_watch = {p: MerchantWatch(watched, merchant_tables[p],
                                       _collector(merchant_signals)) for p in parts}
    card_watch = {p: CardWatch(watched, card_tables[p], _collector(card_signals))
                  for p in parts}
    join = {p: PaidJoin(pairing_tables[p]) for p in parts}

    async def done(raised: list[Signal], tables: dict[int, list[BatchTable[Any]]]) -> None:
        """Record the batch's signals, then write its tables."""
        if raised:
            await _retrying(app, partial(record, list(raised)))
            raised.clear()
        await asyncio.gather(*(changelog.flush(batch, p) for p, batch in tables.items()))

    def items_of(events: Sequence[Any], topic: Any) -> Iterator[tuple[int, Any]]:
        for event in events:
            items = orjson.loads(event.value)
            counters.consumed(names[topic], len(items))
            for item in items:
                yield event.message.partition, item

    # each agent takes what the intake (or the join) sent at once, a message per
    # partition, together: one round of writes and one record of signals for them all
    @app.agent(to_join)
    async def joins(stream: Any) -> None:
        async for events in stream.take_events(INTERNAL_PARTITIONS, within=0.05):
            merchants: dict[int, list[Any]] = defaultdict(list)
            cards: dict[int, list[Any]] = defaultdict(list)
            for event in events:
                items, partition = orjson.loads(event.value), event.message.partition
                counters.consumed(names[to_join], len(items))
                first = event.message.offset * SLOTS
                mark = _watermark(event.message.headers)
                if mark is not None:
                    pairing_table.advance(partition, mark - SHANGHAI_SECONDS)
                for n, item in enumerate(items):
                    joined = join[partition].observe(_side(item), partition, first + n)
                    if joined is not None:
                        as_json = joined.as_json()
                        merchants[partition_for(joined.merchant_id)].append(as_json)
                        cards[partition_for(joined.card_id)].append(as_json)
            # what is passed on is on the broker before the pairings say it was
            await broker.send((names[to_merchants], merchants), (names[to_cards], cards))
            await done([], {p: [pairing_tables[p]] for p in parts})

    @app.agent(to_merchants)
    async def merchants(stream: Any) -> None:
        async for events in stream.take_events(2 * INTERNAL_PARTITIONS, within=0.05):
            for partition, item in items_of(events, to_merchants):
                await merchant_watch[partition].observe(Swipe.from_json(item))
            await done(merchant_signals, {p: merchant_tables[p].all() for p in parts})

    @app.agent(to_cards)
    async def velocity(stream: Any) -> None:
        async for events in stream.take_events(INTERNAL_PARTITIONS, within=0.05):
            for partition, item in items_of(events, to_cards):
                await card_watch[partition].observe(Swipe.from_json(item))
            await done(card_signals, {p: [card_tables[p]] for p in parts})

    intake = Intake(settings, watched, counters, broker)

    async def take_in() -> None:
        try:
            await intake.run(names[to_merchants], names[to_join])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the worker stops; the supervisor restarts it
            log.error("watch: the intake failed: %r; stopping", exc)
            await app.crash(exc)
            raise

    app.task(take_in)
    return app


class Intake:
    """The source topics, a poll at a time, into the internal topics' batches."""

    def __init__(self, settings: StreamSettings, watched: Watched, counters: Counters,
                 broker: Broker) -> None:
        self.settings, self.watched, self.counters, self.broker = \
            settings, watched, counters, broker
        self.watermark = Watermark()

    async def run(self, merchant_topic: str, join_topic: str) -> None:
        settings = self.settings
        consumer = AIOKafkaConsumer(
            settings.source_topic, settings.payouts_topic, bootstrap_servers=settings.bootstrap,
            group_id=intake_group(settings.app_id), enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=settings.max_poll_records,
            session_timeout_ms=10_000, heartbeat_interval_ms=2_000)
        await consumer.start()
        try:
            while True:
                polled = await self.poll(consumer)
                merchants, joins = self.route(polled)
                mark = self.watermark.after({tp: await _behind(consumer, tp)
                                             for tp in consumer.assignment()})
                headers = [] if mark is None else [(WATERMARK, str(mark).encode())]
                await self.broker.send((merchant_topic, merchants), (join_topic, joins),
                                       headers=headers)
                await consumer.commit()
        finally:
            await consumer.stop()

    async def poll(self, consumer: AIOKafkaConsumer) -> dict[Any, list[Any]]:
        """Records until a batch is full or `batch_seconds` have passed since the first:
        a few large messages on the internal topics, not many small ones."""
        loop = asyncio.get_running_loop()
        polled: dict[Any, list[Any]] = defaultdict(list)
        taken, deadline = 0, None
        limit = self.settings.max_poll_records
        while taken < limit:
            wait = 1.0 if deadline is None else deadline - loop.time()
            if wait <= 0:
                break
            for tp, records in (await consumer.getmany(timeout_ms=int(wait * 1000),
                                                       max_records=limit - taken)).items():
                polled[tp].extend(records)
                taken += len(records)
            if taken and deadline is None:
                deadline = loop.time() + self.settings.batch_seconds
        return polled

    def route(self, polled: dict[Any, list[Any]]) -> tuple[dict[int, list[Any]],
                                                          dict[int, list[Any]]]:
        merchants: dict[int, list[Any]] = defaultdict(list)
        joins: dict[int, list[Any]] = defaultdict(list)
        source, payouts = self.settings.source_topic, self.settings.payouts_topic
        for tp, messages in polled.items():
            latest = None
            if tp.topic == source:
                self.counters.consumed(source, len(messages))
                for message in messages:
                    swipe = _swipe(message.value, message.partition, message.offset,
                                   self.watched)
                    if swipe is None:
                        self.counters.skipped(source)
                        continue
                    latest = swipe.at if latest is None else max(latest, swipe.at)
                    as_json = swipe.as_json()
                    merchants[partition_for(swipe.merchant_id)].append(as_json)
                    if swipe.kind == "purchase":
                        joins[partition_for(swipe.transaction_id)].append(as_json)
            elif tp.topic == payouts:
                self.counters.consumed(payouts, len(messages))
                for message in messages:
                    paid = _paid(message.value)
                    if paid is None:
                        self.counters.skipped(payouts)
                        continue
                    latest = paid.at if latest is None else max(latest, paid.at)
                    joins[partition_for(paid.transaction_id)].append(paid.as_json())
            if latest is not None:
                self.watermark.reached(tp, latest)
        return merchants, joins


WATERMARK = "puhui-watermark"
"""The header of the intake's messages carrying its watermark (Shanghai seconds, as text)."""


class Watermark:
    """How far the intake has read its source partitions, by the events' own time: the
    latest event time handed on from the slowest partition still behind its end, or, when
    none is behind, from the furthest. It only moves on; a partition behind that has handed
    on nothing yet holds it back. The join's windows expire by it
    (`ExpiringTable.expire_by_watermark`).

    One intake's: with more than one watch process, each intake reads some of the source
    partitions, and a join partition would have to keep each one's watermark and take the
    lowest (not built: the watch runs as one process, `deploy/k8s/base/watch.yaml`)."""

    def __init__(self) -> None:
        self.latest: dict[Any, float] = {}
        """Per source partition: the latest event time handed on from it."""
        self.mark: float | None = None

    def reached(self, partition: Any, at: float) -> None:
        self.latest[partition] = max(at, self.latest.get(partition, at))

    def after(self, behind: dict[Any, bool]) -> float | None:
        """The watermark once a poll is handed on; `behind`: each assigned partition, and
        whether records remain in it."""
        read = [self.latest[tp] for tp in behind if tp in self.latest]
        if not read or any(late and tp not in self.latest for tp, late in behind.items()):
            return self.mark
        lagging = [self.latest[tp] for tp, late in behind.items() if late]
        low = min(lagging) if lagging else max(read)
        self.mark = low if self.mark is None else max(self.mark, low)
        return self.mark


async def _behind(consumer: AIOKafkaConsumer, tp: Any) -> bool:
    """Whether records remain in `tp` past what the consumer has handed over (its end not
    yet known counts as behind)."""
    end = consumer.highwater(tp)
    return end is None or await consumer.position(tp) < end


def _watermark(headers: Any) -> float | None:
    for key, value in headers or ():
        if key == WATERMARK:
            return float(value)
    return None


def partition_for(key: str) -> int:
    """The internal partition of a merchant, a card or a transaction id."""
    return zlib.crc32(key.encode()) % INTERNAL_PARTITIONS


async def create_internal_topics(settings: StreamSettings) -> None:
    """The internal topics, before the worker starts: faust's assignor ignores a topic that
    does not exist yet when the group first forms, and would never give its agent a
    partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        for name in INTERNAL:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(internal_topic(settings, name),
                                                    INTERNAL_PARTITIONS, 1)])
    finally:
        await admin.close()


def internal_topic(settings: StreamSettings, name: str) -> str:
    return _named(settings.app_id, name)


def _collector(into: list[Signal]) -> Record:
    async def collect(raised: Sequence[Signal]) -> None:
        into.extend(raised)
    return collect


def _tables(app: faust.App, watched: Watched) -> tuple[Any, ...]:
    """The faust tables: merchant burst, amounts, day, paid day; card velocity; the join's
    pairings."""
    rules = watched.rules
    n = INTERNAL_PARTITIONS
    velocity = hopping_table(app, "card-velocity",
                             timedelta(minutes=rules.card_velocity.window_minutes),
                             timedelta(minutes=rules.card_velocity.hop_minutes),
                             timedelta(hours=1), n)
    burst = tumbling_table(app, "merchant-burst",
                           timedelta(minutes=rules.merchant_burst.window_minutes),
                           timedelta(hours=1), n)
    hour = tumbling_table(app, "merchant-amounts",
                          timedelta(minutes=rules.subsidy_maximising.window_minutes),
                          timedelta(hours=1), n)
    day = tumbling_table(app, "merchant-day", timedelta(days=1),
                         timedelta(days=rules.refund_ratio.baseline_days + 1), n)
    paid_day = tumbling_table(app, "merchant-paid-day", timedelta(days=1),
                              timedelta(days=rules.merchant_burst.baseline_days + 1), n)
    # a payout follows its purchase within seconds, or within days when the ledger held the
    # swipe for its card: a pair waits 3 days for its other half
    pairing = tumbling_table(app, "paid-join", timedelta(days=1), timedelta(days=3), n)
    pairing.expire_by_watermark()
    return burst, hour, day, paid_day, velocity, pairing


@dataclass(frozen=True)
class MerchantBatch(MerchantTables):
    burst: BatchTable[Tally]
    hour: BatchTable[Tally]
    day: BatchTable[Tally]
    paid_day: BatchTable[Tally]

    def all(self) -> list[BatchTable[Tally]]:
        return [self.burst, self.hour, self.day, self.paid_day]


def _swipe(raw: bytes | None, partition: int, offset: int, watched: Watched) -> Swipe | None:
    decoded = decode(CARD_TRANSACTIONS, raw or b"")
    if not isinstance(decoded, CardTransaction) or decoded.mcc not in watched.subsidised_mcc:
        return None
    return Swipe(decoded.transaction_id, decoded.card_id, decoded.merchant_id, decoded.mcc,
                 decoded.type, decoded.amount_fen, local_seconds(decoded.occurred_at),
                 partition, offset)


def _paid(raw: bytes | None) -> PaidSide | None:
    """A payout on a purchase; None for a clawback, a non-card programme or bad bytes. Only
    the fields the join needs are read (the ledger's own output, validated where it is
    made: reading the whole model and its trace cost more than the rest of the watch)."""
    try:
        value = orjson.loads(raw or b"")
        if not isinstance(value, dict) or value.get("kind") != "payout":
            return None
        transaction, fen, at = (value.get("transaction_id"), value.get("amount_fen"),
                                datetime.fromisoformat(value["occurred_at"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    if not isinstance(transaction, str) or type(fen) is not int or fen <= 0 or \
            at.tzinfo is None:
        return None
    return PaidSide(transaction, fen, local_seconds(at))


def _side(value: list[Any]) -> Swipe | PaidSide:
    """A join item: a payout's three fields, or a swipe's eleven."""
    if len(value) == 3:
        return PaidSide.from_json(value)
    return Swipe.from_json(value)


async def _retrying(app: faust.App, action: Callable[[], Awaitable[object]]) -> None:
    delay = 0.2
    for attempt in range(1, RETRIES + 1):
        try:
            await action()
            return
        except TransientFailure as exc:
            if attempt == RETRIES:
                log.error("watch: %s; stopping (the supervisor restarts it)", exc)
                await app.crash(exc)
                raise
            log.warning("watch: %s (attempt %d/%d); retrying in %.1fs", exc, attempt,
                        RETRIES, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
