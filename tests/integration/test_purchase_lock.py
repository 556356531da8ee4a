"""A refund on another card than its purchase, decided by one instance while another
instance's batch with the purchase is still open, on the real PostgreSQL: the purchase's own
lock makes the refund wait for it and find it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import orjson
import pytest

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from services.ledger.adapters.repository import PgLedgerStore, PgLedgerTransaction
from services.ledger.service_layer.recorder import Recorder
from services.runtime import db
from services.runtime.outbox import OutboxMessage
from services.runtime.records import Decoded, InboundRecord, decode_batch
from tests.feeds import Feed, simulate

PAID = "select payout_id, member_id, programme, amount_fen from payouts where member_id like $1"


def _decoded(feed: Feed, lines: slice, partition: int = 0) -> list[Decoded]:
    records = [InboundRecord(topic, partition, offset, None, orjson.dumps(value))
               for offset, (topic, value) in enumerate(feed.lines[lines])]
    decoded, rejected = decode_batch(records)
    assert not rejected
    return decoded


@pytest.fixture
async def pool(stack: StackConfig) -> Any:
    pool = await db.create_pool(stack.database_url, max_size=3)
    await db.migrate(pool)
    yield pool
    await pool.close()


async def test_a_refund_on_another_card_waits_for_its_purchase_in_another_instance(
        pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A purchase on a member's first card, its refund on their second card (another
    partition, so maybe another instance). The purchase's batch has written everything and
    not yet committed when the refund's batch starts: the refund waits on the purchase's
    lock, then finds it and claws back. Without that lock it read no purchase, waited on the
    member's lock, and was held for good for a purchase already there (checked: this test
    fails so)."""
    feed = Feed()
    feed.register(0)
    feed.issue(0)
    feed.lines.append(("member.enrolment", {**feed.lines[-1][1], "event_id": str(uuid.uuid4()),
                                            "card_id": f"{feed.card(0)}-2"}))
    recorder = Recorder(PgLedgerStore(pool), load_catalogue(), "purchase-lock-test")
    await recorder.record(_decoded(feed, slice(0, 3)), [])
    books = feed.swipe(0, "5942", 12_000, "2027-01-20T12:00:00+08:00")
    feed.swipe(0, "5942", 3_000, "2027-01-20T15:00:00+08:00", "refund", books)
    feed.lines[-1][1]["card_id"] = f"{feed.card(0)}-2"
    written, commit = asyncio.Event(), asyncio.Event()
    original = PgLedgerTransaction.write_outbox

    async def write_outbox(tx: PgLedgerTransaction, messages: list[OutboxMessage]) -> None:
        await original(tx, messages)
        if not written.is_set():  # the purchase's batch: wait before committing
            written.set()
            await commit.wait()

    monkeypatch.setattr(PgLedgerTransaction, "write_outbox", write_outbox)
    purchase = asyncio.create_task(recorder.record(_decoded(feed, slice(3, 4)), []))
    await asyncio.wait_for(written.wait(), 10)
    refund = asyncio.create_task(recorder.record(_decoded(feed, slice(4, 5), partition=1), []))
    await asyncio.sleep(0.5)
    waited = not refund.done()
    commit.set()
    await asyncio.wait_for(asyncio.gather(purchase, refund), 10)
    paid = {tuple(r) for r in await pool.fetch(PAID, f"{feed.prefix}-%")}
    held = await pool.fetchval("select count(*) from held_events where event_id = $1 "
                               "and released_at is null", feed.lines[-1][1]["event_id"])
    assert waited
    assert held == 0
    assert paid == simulate(feed)
    assert min(amount for *_, amount in paid) < 0  # the refund clawed back
