"""Enrolment, disbursement and the relay on the real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio

import orjson
from aiokafka import AIOKafkaConsumer

from puhui.stack.config import StackConfig
from tests.feeds import simulate, standard_feed
from tests.integration.ledger_harness import produce, running_services, wait_for

PAYOUTS = "select count(*) from payouts where member_id like $1"
MINE = "select payout_id, member_id, programme, amount_fen from payouts where member_id like $1"


async def test_services_pay_what_simulate_owes_exactly_once(stack: StackConfig) -> None:
    feed = standard_feed()
    owed = simulate(feed)
    assert len(owed) > 30
    assert any(amount < 0 for *_, amount in owed)
    await produce(stack.bootstrap_servers, feed.lines)
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        got = await wait_for(pool, PAYOUTS, [f"{feed.prefix}-%"], len(owed))
        await asyncio.sleep(1.0)  # anything extra (a double payment) would land by now
        rows = await pool.fetch(MINE, f"{feed.prefix}-%")
    assert got == len(owed)
    recorded = {(r["payout_id"], r["member_id"], r["programme"], r["amount_fen"]) for r in rows}
    assert recorded == owed


async def test_undecodable_messages_are_dead_lettered_good_ones_paid(stack: StackConfig) -> None:
    feed = standard_feed(members=3)
    owed = simulate(feed)
    bad = [("card.transactions", b"k", b"{not json"),
           ("card.transactions", b"k", b'{"event_id": "x", "type": "purchase"}'),
           ("member.enrolment", b"k", b'{"event_id": "y", "type": "member_promoted"}')]
    await produce(stack.bootstrap_servers, [*bad, *feed.lines])
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        got = await wait_for(pool, PAYOUTS, [f"{feed.prefix}-%"], len(owed))
        reasons = [r["reason"] for r in await pool.fetch(
            "select reason from dead_letters where raw = any($1::bytea[]) order by id",
            [raw for *_, raw in bad])]
    assert got == len(owed)
    assert any("not valid JSON" in r for r in reasons)
    assert any("missing field" in r and "card_id" in r for r in reasons)
    assert any("unknown type 'member_promoted'" in r for r in reasons)


async def test_payouts_leave_through_the_outbox_to_kafka(stack: StackConfig) -> None:
    feed = standard_feed(members=2)
    owed = simulate(feed)
    await produce(stack.bootstrap_servers, feed.lines)
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        await wait_for(pool, PAYOUTS, [f"{feed.prefix}-%"], len(owed))
        await wait_for(pool, "select count(*) from outbox where sent_at is null", [], 0)
    consumer = AIOKafkaConsumer("payouts", bootstrap_servers=stack.bootstrap_servers,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    seen: set[str] = set()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < len(owed) and asyncio.get_running_loop().time() < deadline:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for m in messages:
                    if m.key and m.key.decode().startswith(feed.prefix):
                        seen.add(orjson.loads(m.value)["payout_id"])
    finally:
        await consumer.stop()
    assert seen == {payout_id for payout_id, *_ in owed}
