"""Two batches in flight on the real PostgreSQL (`services.runtime.consumer._overlapped`): the
next batch is opened, its slice locked and loaded, while this one finishes; where they meet
it waits for this one's commit, so every batch is decided as if it were alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import orjson
import pytest
from aiokafka import TopicPartition

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from services import disbursement
from services.ledger.adapters.repository import PgLedgerStore, PgLedgerTransaction
from services.ledger.consumer import LedgerConsumer, OpenedRecords
from services.ledger.service_layer.recorder import Recorder
from services.runtime import db
from services.runtime.consumer import ConsumerSettings, _LagReporter, _overlapped
from services.runtime.metrics import ServiceMetrics
from services.runtime.outbox import OutboxMessage
from services.runtime.records import Decoded, InboundRecord, decode_batch
from tests.feeds import Feed, simulate, standard_feed

PAID = "select payout_id, member_id, programme, amount_fen from payouts where member_id like $1"


class _Message:
    def __init__(self, offset: int, value: bytes) -> None:
        self.offset, self.key, self.value = offset, None, value


class _Batches:
    """A Kafka consumer that hands out the given batches in turn, then asks the loop to stop."""

    def __init__(self, batches: list[list[InboundRecord]], stop: asyncio.Event) -> None:
        self.batches = iter(batches)
        self.stop = stop
        self.commits: list[dict[TopicPartition, int]] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        batch = next(self.batches, None)
        if batch is None:
            self.stop.set()
            return {}
        fetched: dict[TopicPartition, list[_Message]] = {}
        for r in batch:
            fetched.setdefault(TopicPartition(r.topic, r.partition), []).append(
                _Message(r.offset, r.value))
        return fetched

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)

    def assignment(self) -> set[TopicPartition]:
        return set()


def _records(feed: Feed) -> list[InboundRecord]:
    """The feed as one partition per topic, in order, offsets counted per topic."""
    offsets: dict[str, int] = {}
    records = []
    for topic, value in feed.lines:
        offset = offsets[topic] = offsets.get(topic, -1) + 1
        records.append(InboundRecord(topic, 0, offset, None, orjson.dumps(value)))
    return records


def _batches(records: list[InboundRecord]) -> Iterator[list[InboundRecord]]:
    """Runs of one topic (so the order recorded is the feed's), cut to 1, 2, ... 7 records."""
    size, batch = 1, []
    for record in records:
        if batch and (record.topic != batch[-1].topic or len(batch) == size):
            yield batch
            size, batch = size % 7 + 1, []
        batch.append(record)
    if batch:
        yield batch


def _decoded(records: list[InboundRecord]) -> list[Decoded]:
    decoded, rejected = decode_batch(records)
    assert not rejected
    return decoded


@pytest.fixture
async def pool(stack: StackConfig) -> Any:
    pool = await db.create_pool(stack.database_url, max_size=3)
    await db.migrate(pool)
    yield pool
    await pool.close()


async def test_every_batch_is_decided_as_if_alone(pool: asyncpg.Pool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed of every card programme, refunds, a reversal, a swipe before its card and every
    message twice, in batches of 1 to 7 with the next always opened while this one finishes,
    and one batch that fails as it finishes (the batch opened after it is rolled back first,
    then that one is redone alone): every payout is what `puhui simulate` owes, once, and the
    offsets are committed batch by batch in order."""
    feed = standard_feed(members=20)
    batches = list(_batches(_records(feed)))
    fail_at = len(batches) // 2
    finishing: list[int] = []
    original = PgLedgerTransaction.write_outbox

    async def write_outbox(tx: PgLedgerTransaction, messages: list[OutboxMessage]) -> None:
        finishing.append(len(messages))
        await original(tx, messages)
        if len(finishing) == fail_at:
            raise RuntimeError("the batch fails as it finishes")

    monkeypatch.setattr(PgLedgerTransaction, "write_outbox", write_outbox)
    recorder = Recorder(PgLedgerStore(pool), load_catalogue(), "overlap-test")
    consumer = LedgerConsumer(disbursement.SPEC, recorder, ServiceMetrics.create("disbursement"))
    stop = asyncio.Event()
    kafka = _Batches(batches, stop)
    settings = ConsumerSettings("127.0.0.1:1", "g", ("card.transactions",))
    steps: list[str] = []

    async def open_batch(records: list[InboundRecord]) -> OpenedRecords:
        steps.append("open")
        opened = await consumer.open(records)
        finish = opened.finish

        async def finished() -> None:
            try:
                await finish()
            finally:
                steps.append("finished")

        opened.finish = finished  # type: ignore[method-assign]
        return opened

    await asyncio.wait_for(_overlapped(
        kafka, settings, open_batch, stop, lambda _n: None,  # type: ignore[arg-type]
        _LagReporter(lambda _lags: None), lambda: None), 120)
    # every batch but the last had the next one opened before it finished (the one after
    # the batch that failed is opened twice: rolled back, then opened again after the redo)
    assert steps.count("open") == len(batches) + 1
    opened_before = [steps[:at].count("open") for at, s in enumerate(steps) if s == "finished"]
    assert all(n >= k + 2 for k, n in enumerate(opened_before[:-1])), opened_before
    paid = {tuple(r) for r in await pool.fetch(PAID, f"{feed.prefix}-%")}
    dead = await pool.fetchval("select count(*) from dead_letters where consumer = 'overlap-test'")
    assert paid == simulate(feed)
    assert dead == 0
    expected = []
    for batch in batches:
        last: dict[TopicPartition, int] = {}
        for r in batch:
            last[TopicPartition(r.topic, r.partition)] = r.offset + 1
        expected.append(last)
    assert kafka.commits == expected


async def test_the_next_batch_waits_for_this_ones_commit_where_they_meet(
        pool: asyncpg.Pool) -> None:
    """A swipe and its resend, one in each batch, on one card: the second batch's opening
    waits until the first commits, then finds the resend processed; the daily ride is paid
    once."""
    feed = Feed()
    feed.register(0)
    feed.issue(0)
    recorder = Recorder(PgLedgerStore(pool), load_catalogue(), "overlap-test")
    await recorder.record(_decoded(_records(feed)), [])
    feed.lines.clear()
    feed.swipe(0, "4111", 400, "2027-01-20T08:00:00+08:00")
    feed.lines.append(feed.lines[0])
    first, resent = _records(feed)
    this = await recorder.open(_decoded([first]), [])
    opening = asyncio.create_task(recorder.open(
        _decoded([InboundRecord(resent.topic, 0, 1, None, resent.value)]), []))
    await asyncio.sleep(0.5)
    assert not opening.done()  # on the card's lock, held by the first batch
    first_report = await this.finish()
    second_report = await (await asyncio.wait_for(opening, 10)).finish()
    paid = await pool.fetch(PAID, f"{feed.prefix}-%")
    assert (len(first_report.decisions), second_report.duplicates) == (1, 1)
    assert [r["amount_fen"] for r in paid] == [100]


async def test_an_abandoned_batch_lets_its_locks_go(pool: asyncpg.Pool) -> None:
    """Rolled back unfinished, a batch leaves nothing behind, and the same events recorded
    afterwards are decided in full."""
    feed = Feed()
    feed.register(0)
    feed.issue(0)
    feed.swipe(0, "4111", 400, "2027-01-20T08:00:00+08:00")
    recorder = Recorder(PgLedgerStore(pool), load_catalogue(), "overlap-test")
    opened = await recorder.open(_decoded(_records(feed)), [])
    await opened.abandon()
    members = await pool.fetchval("select count(*) from members where member_id = $1",
                                  feed.member(0))
    report = await asyncio.wait_for(recorder.record(_decoded(_records(feed)), []), 10)
    paid = await pool.fetch(PAID, f"{feed.prefix}-%")
    assert members == 0
    assert (report.duplicates, [d.decision for d in report.decisions]) == (0, ["paid"])
    assert [r["amount_fen"] for r in paid] == [100]


async def test_a_refund_on_another_card_waits_for_its_purchase_in_the_batch_before(
        pool: asyncpg.Pool) -> None:
    """A purchase on the member's first card in one batch, its refund on their second card in
    the next, opened while the first finishes: the refund finds the purchase (the purchase's
    own lock), and is not held for a purchase already there."""
    feed = Feed()
    feed.register(0)
    feed.issue(0)
    feed.lines.append(("member.enrolment", {**feed.lines[-1][1], "event_id": str(uuid.uuid4()),
                                            "card_id": f"{feed.card(0)}-2"}))
    recorder = Recorder(PgLedgerStore(pool), load_catalogue(), "overlap-test")
    await recorder.record(_decoded(_records(feed)), [])
    books = feed.swipe(0, "5942", 12_000, "2027-01-20T12:00:00+08:00")
    feed.swipe(0, "5942", 3_000, "2027-01-20T15:00:00+08:00", "refund", books)
    feed.lines[-1][1]["card_id"] = f"{feed.card(0)}-2"
    purchase, refund = _records(feed)[-2:]
    this = await recorder.open(_decoded([purchase]), [])
    opening = asyncio.create_task(recorder.open(_decoded([refund]), []))
    await asyncio.sleep(0.3)
    await this.finish()
    await (await asyncio.wait_for(opening, 10)).finish()
    paid = {tuple(r) for r in await pool.fetch(PAID, f"{feed.prefix}-%")}
    held = await pool.fetchval("select count(*) from held_events where event_id = $1 "
                               "and released_at is null", feed.lines[-1][1]["event_id"])
    assert held == 0
    assert paid == simulate(feed)
    assert sorted(amount for *_, amount in paid)[0] < 0  # the refund clawed back
