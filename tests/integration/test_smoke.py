"""Each part of the real stack answers: a message through the broker, a row through PostgreSQL."""

from __future__ import annotations

import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from puhui.stack.config import StackConfig
from schemas.topics import PARTITIONS


async def test_topics_exist_with_their_partition_counts(stack: StackConfig) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(PARTITIONS))
    finally:
        await admin.close()
    counts = {topic["topic"]: len(topic["partitions"]) for topic in described}
    assert counts == PARTITIONS


async def test_a_message_round_trips_through_the_broker(stack: StackConfig) -> None:
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"hello": "\xe6\x99\xae\xe6\x83\xa0"}', key=b"k1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=stack.bootstrap_servers,
                                auto_offset_reset="earliest", group_id=f"g-{topic}")
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"k1", '{"hello": "普惠"}'.encode())


async def test_a_row_round_trips_through_postgres(stack: StackConfig) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        async with conn.transaction():
            await conn.execute("create temporary table smoke (id int primary key, fen bigint)")
            await conn.execute("insert into smoke values ($1, $2)", 1, 2_500_000_000)
            assert await conn.fetchval("select fen from smoke where id = 1") == 2_500_000_000
        assert await conn.fetchval("show timezone") is not None
    finally:
        await conn.close()
