"""A single message never stops the pipeline (issue #15), on the real Kafka and PostgreSQL.

Each message below once decoded, then crashed enrolment or disbursement on every restart at
the same offset. Now the contract refuses it with a readable reason; and a message that
still fails in PostgreSQL is bisected out of its batch and dead-lettered as `unprocessable`.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from schemas.member_enrolment import MemberRegistered
from services import enrolment
from services.ledger.adapters.repository import PgLedgerStore
from services.ledger.consumer import LedgerConsumer
from services.ledger.service_layer.recorder import Recorder
from services.runtime import db
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import Decoded, InboundRecord, decode_batch
from tests.feeds import Feed, simulate
from tests.integration.ledger_harness import RawLine, produce, running_services, wait_for

PAYOUTS = "select count(*) from payouts where member_id like $1"
DEAD = "select raw, reason, kind from dead_letters where raw = any($1::bytea[])"


def _raw(topic: str, key: str, value: dict[str, Any]) -> RawLine:
    return (topic, key.encode(), orjson.dumps(value))


def _poison(feed: Feed) -> list[RawLine]:
    """Each poison message of the issue, keyed as the good events after it (same partition)."""
    registered = {"event_id": str(uuid.uuid4()), "type": "member_registered",
                  "member_id": feed.member(1), "occurred_at": "2027-01-05T09:00:00+08:00",
                  "birth_date": "1985-06-15", "union_branch": "zz-branch", "name": "Member 1"}
    purchase = {"event_id": str(uuid.uuid4()), "type": "purchase",
                "transaction_id": f"{feed.prefix}-poison", "card_id": feed.card(0),
                "amount_fen": 400, "currency": "CNY", "merchant_id": "mch-4111",
                "merchant_name": "Metro", "mcc": "4111",
                "occurred_at": "2027-01-20T08:00:00+08:00"}
    enrolment, card = "member.enrolment", "card.transactions"
    return [
        _raw(enrolment, feed.member(1), {**registered, "name": "Mem\x00ber"}),
        _raw(enrolment, feed.member(1), {**registered, "event_id": str(uuid.uuid4()),
                                         "occurred_at": "0001-01-01T00:00:00+08:00"}),
        _raw(card, feed.card(0), {**purchase, "merchant_name": "Met\x00ro"}),
        _raw(card, feed.card(0), {**purchase, "event_id": str(uuid.uuid4()), "amount_fen": 2**63}),
        _raw(card, feed.card(0), {**purchase, "event_id": str(uuid.uuid4()),
                                  "occurred_at": "9999-12-31T23:59:59-08:00"}),
    ]


async def test_poison_is_dead_lettered_and_the_next_good_event_on_its_partition_paid(
        stack: StackConfig) -> None:
    feed = Feed()
    feed.register(0)
    feed.issue(0)
    poison = _poison(feed)
    good = Feed(prefix=feed.prefix)
    good.swipe(0, "4111", 400, "2027-01-20T08:30:00+08:00")  # same card: same partition
    good.register(1)  # same member as the poisoned registrations
    good.certify(1, "technician", "2027-01-06T10:00:00+08:00")
    owed = simulate(Feed(prefix=feed.prefix, lines=feed.lines + good.lines))
    assert {programme for _, _, programme, _ in owed} == {"green_commute", "skill_upgrade"}
    await produce(stack.bootstrap_servers, feed.lines)
    await produce(stack.bootstrap_servers, [*poison, *good.lines])
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        paid = await wait_for(pool, PAYOUTS, [f"{feed.prefix}-%"], len(owed), seconds=60)
        dead = await pool.fetch(DEAD, [raw for *_, raw in poison])
    assert paid == len(owed)
    raws = [raw for *_, raw in poison]  # two services: dead letters in the order sent
    assert [(r["reason"], r["kind"]) for r in sorted(dead, key=lambda r: raws.index(r["raw"]))] == [
        ("name: must not contain a NUL character (\\u0000)", "invalid_value"),
        ("occurred_at: must be in the years 2000 to 2099, got '0001-01-01T00:00:00+08:00'",
         "invalid_value"),
        ("merchant_name: must not contain a NUL character (\\u0000), got 'Met\\x00ro'",
         "invalid_value"),
        ("amount_fen: must be <= 1000000000000, got 9223372036854775808", "invalid_value"),
        ("occurred_at: must be in the years 2000 to 2099, got '9999-12-31T23:59:59-08:00'",
         "invalid_value"),
    ]


async def test_what_postgresql_still_refuses_is_bisected_out_and_the_rest_recorded(
        stack: StackConfig) -> None:
    """Defence in depth: an event past the contract (built without validation, as a gap in
    the bounds would let through) that PostgreSQL refuses is dead-lettered alone."""
    feed = Feed()
    for n in range(6):
        feed.register(n)
    first = random.randrange(10**12, 2 * 10**12)  # a position no earlier run took
    records = [InboundRecord("member.enrolment", 0, first + n, None, orjson.dumps(value))
               for n, (_, value) in enumerate(feed.lines)]
    decoded, _ = decode_batch(records)
    event = decoded[3].event
    assert isinstance(event, MemberRegistered)
    poisoned = MemberRegistered.model_construct(**{**event.model_dump(), "name": "a\x00b"})
    decoded[3] = Decoded(decoded[3].record, poisoned)
    pool = await db.create_pool(stack.database_url)
    try:
        await db.migrate(pool)
        recorder = Recorder(PgLedgerStore(pool), load_catalogue(), "poison-test")
        consumer = LedgerConsumer(enrolment.SPEC, recorder, ServiceMetrics.create("enrolment"))
        report = await consumer._record(decoded, [])
        members = await pool.fetchval("select count(*) from members where member_id like $1",
                                      f"{feed.prefix}-%")
        dead = await pool.fetchrow(
            "select reason, kind from dead_letters where consumer = 'poison-test' "
            "and raw = $1", records[3].value)
    finally:
        await pool.close()
    assert members == 5
    assert dead is not None
    assert dead["kind"] == "unprocessable"
    assert dead["reason"].startswith("recording failed for good: ")
    assert "\\u0000 cannot be converted to text" in dead["reason"]  # PostgreSQL names the NUL
    assert [d.record.offset for d in report.dead_letters] == [first + 3]
