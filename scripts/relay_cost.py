"""What the relay costs per message, and what each compression codec costs and saves.

    .venv/bin/python scripts/relay_cost.py relay [ROWS]     # CPU per message relaying ROWS rows
    .venv/bin/python scripts/relay_cost.py codecs [ROWS]    # none/gzip/snappy/lz4/zstd
    .venv/bin/python scripts/relay_cost.py feed [LINES]     # the same for `generate --kafka`

Both run on the stack `puhui stack up` started (PUHUI_* names it). The messages are real
ones: a seeded synthetic feed run through the engine, the payouts and audit records its
decisions publish, made once and kept in bench-results/relay-sample.jsonl. `relay` uses a
database of its own (puhui_relaycost, dropped and made again), fills its outbox and times
`run_relay` in this process (time.process_time) until every row is published. `codecs`
produces the same messages to one fresh topic per codec with the relay's producer settings,
then reads them back: producer and consumer CPU per message, and the log's bytes on disk.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import asyncpg
import orjson

from puhui.stack.config import StackConfig
from schemas.topics import PARTITIONS
from services.runtime import db, outbox
from services.runtime.outbox import OutboxMessage

SAMPLE = Path("bench-results/relay-sample.jsonl")
DATABASE = "puhui_relaycost"
PREFIX = "relaycost."
"""The measurements publish to topics of their own, made afresh each run."""


def sample(rows: int) -> list[OutboxMessage]:
    """`rows` outbox messages as the ledger writes them (made once, then read back)."""
    if not SAMPLE.exists() or sum(1 for _ in SAMPLE.open("rb")) < rows:
        _make_sample(rows)
    found = []
    with SAMPLE.open("rb") as lines:
        for line in lines:
            row = orjson.loads(line)
            key = row["key"].encode() if row["key"] is not None else None
            found.append(OutboxMessage(row["topic"], key, row["value"].encode()))
            if len(found) == rows:
                break
    return found


def _make_sample(rows: int) -> None:
    from engine.simulator import Simulator
    from puhui.synthetic.feed import FeedPlan, feed
    from schemas.decode import Invalid, decode_value
    from services.ledger.service_layer.published import outbox_messages, payouts_of

    simulator, made = Simulator(), 0
    SAMPLE.parent.mkdir(exist_ok=True)
    with SAMPLE.open("wb") as out:
        for topic, value in feed(FeedPlan(members=80_000, cards=64_000, days=4, seed=7)):
            event = decode_value(topic, value)
            if isinstance(event, Invalid):
                continue
            decisions = simulator.feed(event)
            for m in outbox_messages(decisions, payouts_of(decisions)):
                out.write(orjson.dumps({"topic": m.topic, "value": m.value.decode(),
                                        "key": m.key.decode() if m.key else None},
                                       option=orjson.OPT_APPEND_NEWLINE))
                made += 1
            if made >= rows:
                return


async def fresh_database(stack: StackConfig) -> str:
    admin = await asyncpg.connect(stack.database_url)
    try:
        await admin.execute(f"drop database if exists {DATABASE} with (force)")
        await admin.execute(f"create database {DATABASE}")
    finally:
        await admin.close()
    return stack.database_url.rsplit("/", 1)[0] + f"/{DATABASE}"


async def fresh_topics(bootstrap: str, partitions: dict[str, int]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import UnknownTopicOrPartitionError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for topic in partitions:
            try:
                await admin.delete_topics([topic])
                await asyncio.sleep(1.0)  # the broker deletes asynchronously
            except UnknownTopicOrPartitionError:
                pass
        await admin.create_topics([NewTopic(t, n, 1) for t, n in partitions.items()])
    finally:
        await admin.close()


async def relay_cost(rows: int, codec: str | None = None,
                     prefix: str = PREFIX) -> tuple[int, float, float, float]:
    """Relay `rows` sample messages to `prefix`-named topics; (messages, CPU s, wall s,
    PostgreSQL's CPU s)."""
    from puhui.bench import machine
    from services.relay.relay import run_relay

    stack = StackConfig.from_env()
    messages = [OutboxMessage(prefix + m.topic, m.key, m.value) for m in sample(rows)]
    await fresh_topics(stack.bootstrap_servers,
                       {prefix + t: PARTITIONS[t] for t in ("payouts", "audit")})
    pool = await db.create_pool(await fresh_database(stack), max_size=3)
    try:
        await db.migrate(pool)
        async with pool.acquire() as conn, conn.transaction():
            # as a ledger batch of 500 card events writes them: about 1,200 messages
            for start in range(0, len(messages), 1_200):
                await outbox.write(conn, messages[start:start + 1_200])
        stop, published = asyncio.Event(), [0]

        def on_sent(count: int) -> None:
            published[0] += count
            if published[0] >= rows:
                stop.set()

        before, cpu, wall = machine.snapshot(), time.process_time(), time.perf_counter()
        if codec == "default":
            await run_relay(pool, stack.bootstrap_servers, stop, on_sent)
        else:
            await run_relay(pool, stack.bootstrap_servers, stop, on_sent, compression=codec)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        postgres = machine.spent(before, machine.snapshot()).get("postgres", 0.0)
        return published[0], cpu, wall, postgres
    finally:
        await pool.close()


async def read_back(bootstrap: str, topics: list[str]) -> tuple[int, float]:
    """Consume every record of `topics` from the start: (records, CPU s)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics
                      for p in range(PARTITIONS[t.rsplit(".", 1)[1]])]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        cpu, count = time.process_time(), 0
        while any([await consumer.position(tp) < end[tp] for tp in partitions]):
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                count += len(records)
        return count, time.process_time() - cpu
    finally:
        await consumer.stop()


def broker_cpu(stack: StackConfig) -> float:
    """CPU seconds the local broker has used (user + system), from /proc."""
    pid = (stack.home / "kafka" / "kafka.pid").read_text().strip()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bytes_on_disk(stack: StackConfig, topics: list[str],
                  partitions: dict[str, int] | None = None) -> int:
    data, counts = stack.home / "kafka" / "data", partitions or {}
    return sum(f.stat().st_size for t in topics
               for p in range(counts.get(t) or PARTITIONS[t.rsplit(".", 1)[1]])
               for f in (data / f"{t}-{p}").glob("*.log"))  # not the `-delete` of a last run


async def feed_costs(lines: int) -> None:
    """`generate --kafka`'s producer, each codec: CPU per message and bytes on disk."""
    from itertools import islice

    from puhui.feed_producer import fast_producer
    from puhui.synthetic.feed import FeedPlan, feed
    from schemas.topics import key_of

    stack = StackConfig.from_env()
    plan = FeedPlan(members=40_000, cards=32_000, days=3, seed=7)
    made = [(orjson.dumps(v), key_of(t, v)) for t, v in islice(feed(plan), lines)]
    print(f"{len(made):,} feed lines, {sum(len(v) for v, _ in made) / len(made):.0f} bytes each")
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        topic = f"{PREFIX}{codec}-feed"
        await fresh_topics(stack.bootstrap_servers, {topic: 8})
        producer = fast_producer(stack.bootstrap_servers, None if codec == "none" else codec)
        await producer.start()
        try:
            cpu, broker = time.process_time(), broker_cpu(stack)
            acks = [await producer.send(topic, value, key=key) for value, key in made]
            await asyncio.gather(*acks)
            cpu, broker = time.process_time() - cpu, broker_cpu(stack) - broker
        finally:
            await producer.stop()
        await asyncio.sleep(1.0)
        on_disk = bytes_on_disk(stack, [topic], {topic: 8})
        print(f"{codec:>6}: producer {cpu / len(made) * 1e6:5.1f} us CPU/message, on disk "
              f"{on_disk / len(made):6.1f} bytes/message, broker "
              f"{broker / len(made) * 1e6:4.1f} us CPU/message")


async def codec_costs(rows: int) -> None:
    stack = StackConfig.from_env()
    raw = sum(len(m.value) + len(m.key or b"") for m in sample(rows))
    print(f"{rows:,} messages, {raw / rows:.0f} bytes of key and value each on average")
    for codec in ("none", "gzip", "snappy", "lz4", "zstd"):
        prefix = f"{PREFIX}{codec}."
        broker = broker_cpu(stack)
        sent, cpu, wall, _postgres = await relay_cost(rows, None if codec == "none" else codec,
                                                      prefix)
        broker = broker_cpu(stack) - broker
        await asyncio.sleep(1.0)  # the broker appends asynchronously to its page cache
        topics = [prefix + "payouts", prefix + "audit"]
        on_disk = bytes_on_disk(stack, topics)
        read, read_cpu = await read_back(stack.bootstrap_servers, topics)
        print(f"{codec:>6}: relay {cpu / sent * 1e6:5.1f} us CPU/message ({wall:5.1f} s), "
              f"on disk {on_disk / sent:6.1f} bytes/message ({on_disk / 2**20:6.1f} MiB), "
              f"consumer {read_cpu / read * 1e6:4.1f} us CPU/message, "
              f"broker {broker / sent * 1e6:4.1f} us CPU/message")


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "relay"
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    if what == "relay":
        sent, cpu, wall, postgres = asyncio.run(relay_cost(rows, "default"))
        print(f"relayed {sent:,} messages in {wall:.2f} s: {cpu / sent * 1e6:.1f} us CPU per "
              f"message, PostgreSQL {postgres / sent * 1e6:.1f} us per message, "
              f"{sent / wall:,.0f}/s")
    elif what == "codecs":
        asyncio.run(codec_costs(rows))
    elif what == "feed":
        asyncio.run(feed_costs(rows))
    else:
        raise SystemExit(f"unknown measurement {what!r}: relay, codecs or feed")


if __name__ == "__main__":
    main()
