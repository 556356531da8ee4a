"""Outbox rows for the relay's tests, and what their topics hold."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from puhui.stack.config import StackConfig
from services.relay.publisher import stamped_ref
from services.runtime import db, outbox
from services.runtime.outbox import MessageRef, OutboxMessage

DATABASE = "puhui_relay_test"


@pytest.fixture
async def pool(stack: StackConfig) -> AsyncIterator[asyncpg.Pool]:
    admin = await asyncpg.connect(stack.database_url)
    await admin.execute(f"drop database if exists {DATABASE} with (force)")
    await admin.execute(f"create database {DATABASE}")
    await admin.close()
    made = await db.create_pool(stack.database_url.rsplit("/", 1)[0] + f"/{DATABASE}",
                                max_size=4)
    await db.migrate(made)
    yield made
    await made.close()


@pytest.fixture
async def topics(stack: StackConfig) -> AsyncIterator[dict[str, int]]:
    """A payouts-like and an audit-like topic of 4 partitions, a dead-letter-like one of 1."""
    run = uuid.uuid4().hex[:8]
    made = {f"relay-{run}-payouts": 4, f"relay-{run}-audit": 4, f"relay-{run}-dead": 1}
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(t, n, 1) for t, n in made.items()])
    yield made
    await admin.delete_topics(list(made))
    await admin.close()


def messages(topics: Sequence[str], count: int, first: int) -> list[OutboxMessage]:
    payouts, audit, dead = topics
    made = []
    for i in range(first, first + count):
        member = f"M{i % 37:08d}".encode()
        made.append(OutboxMessage(payouts, member, orjson.dumps(
            {"payout_id": str(uuid.uuid4()), "member_id": member.decode(), "amount_fen": i})))
        made.append(OutboxMessage(audit, member, orjson.dumps({"audit_id": str(uuid.uuid4())})))
        if i % 10 == 0:
            made.append(OutboxMessage(dead, None, orjson.dumps({"reason": f"bad {uuid.uuid4()}"})))
    return made


async def write_in_transactions(conn: asyncpg.Connection, made: Sequence[OutboxMessage],
                                each: int) -> None:
    """`made`, `each` messages per transaction (a ledger batch of 500 swipes: about 1,200)."""
    for start in range(0, len(made), each):
        await outbox.write(conn, made[start:start + each])


async def on_topics(bootstrap: str, topics: dict[str, int]) -> list[tuple[MessageRef, bytes]]:
    """(outbox message its header names, value) of every record of `topics`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        found: list[tuple[MessageRef, bytes]] = []
        while any([await consumer.position(tp) < end[tp] for tp in partitions]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    ref = stamped_ref(r.headers)
                    assert ref is not None, f"a record without an outbox stamp: {r.headers}"
                    found.append((ref, r.value))
        return found
    finally:
        await consumer.stop()
