"""The ledger's service layer on the real PostgreSQL, batch by batch."""

from __future__ import annotations

import base64

import orjson

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from services.ledger.adapters.repository import PgLedgerStore
from services.ledger.service_layer.recorder import Recorder
from services.runtime import db
from services.runtime.records import Decoded, InboundRecord, decode_batch
from tests.feeds import Feed

USAGE = """
select limit_name, count, fen from limit_usage where member_id = $1 order by limit_name
"""


def _batch(lines: list[tuple[str, dict[str, object]]]) -> list[Decoded]:
    records = [InboundRecord(t, 0, i, None, orjson.dumps(v)) for i, (t, v) in enumerate(lines)]
    decoded, rejected = decode_batch(records)
    assert not rejected
    return decoded


async def test_a_reversal_in_a_later_batch_gives_the_room_back(stack: StackConfig) -> None:
    pool = await db.create_pool(stack.database_url)
    try:
        await db.migrate(pool)
        recorder = Recorder(PgLedgerStore(pool), load_catalogue(), "test")
        feed = Feed()
        feed.register(0)
        feed.issue(0)
        ride = feed.swipe(0, "4111", 400, "2027-01-20T08:00:00+08:00")
        await recorder.record(_batch(feed.lines), [])
        paid = await pool.fetch(USAGE, feed.member(0))
        feed.lines.clear()
        feed.swipe(0, "4111", 400, "2027-01-20T08:30:00+08:00", "reversal", ride)
        feed.lines.append(feed.lines[0])  # its resend, in the same batch
        await recorder.record(_batch(feed.lines), [])
        given_back = await pool.fetch(USAGE, feed.member(0))
        amounts = await pool.fetch("select amount_fen, merchant_id from payouts "
                                   "where member_id = $1 order by amount_fen", feed.member(0))
    finally:
        await pool.close()
    assert [tuple(r) for r in paid] == [("daily_rides", 1, 100), ("monthly_money", 1, 100)]
    assert [tuple(r) for r in given_back] == [("daily_rides", 0, 0), ("monthly_money", 0, 0)]
    assert [tuple(r) for r in amounts] == [(-100, "mch-4111"), (100, "mch-4111")]


async def test_a_redelivered_bad_message_is_dead_lettered_once(stack: StackConfig) -> None:
    raw = f"{{not json {Feed().prefix}".encode()
    record = InboundRecord("card.transactions", 0, abs(hash(raw)) % 10**12, b"k", raw)
    _, rejected = decode_batch([record])
    pool = await db.create_pool(stack.database_url)
    try:
        recorder = Recorder(PgLedgerStore(pool), load_catalogue(), "test")
        await recorder.record([], rejected)
        await recorder.record([], rejected)  # Kafka redelivers the batch after a crash
        stored = await pool.fetchval("select count(*) from dead_letters where raw = $1", raw)
        sent = await pool.fetchval(
            "select count(*) from outbox_messages where topic = 'puhui.dead-letters' "
            "and convert_from(value, 'UTF8')::jsonb ->> 'raw' = $1",
            base64.b64encode(raw).decode())
    finally:
        await pool.close()
    assert (stored, sent) == (1, 1)
