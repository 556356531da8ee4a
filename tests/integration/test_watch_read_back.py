"""A windowed table's changelog read back in bulk (`ExpiringTable.on_rebalance`, `read_back`)
makes the same table as faust's own recovery makes of it, on the real broker, at start-up
and again at a later rebalance, reading on from where it stopped.

The reference is faust's recovery path as the table sees it: every record decoded by the
changelog topic's schema and handed to `apply_changelog_batch`, then faust's clean-up run.
The e2e watch test (`test_killed_mid_window_the_watch_recovers_and_raises_the_window_once`)
has the whole worker recover this way after a SIGKILL."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import faust
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.types import TP

from puhui.stack.config import StackConfig
from services.watch.adapters.tables import ExpiringTable, tumbling_table

SIZE, EXPIRES, PARTITIONS = 600.0, 3600.0, 4
LATEST = 1_805_212_800.0  # 2027-03-15 00:00 UTC, in the table's UTC window keys


def _key(card: str, start: float) -> bytes:
    return orjson.dumps([card, [start, start + SIZE - 0.1]])


def _changelog() -> list[tuple[int, bytes, bytes | None]]:
    """(partition, key, value): a key written twice, a tombstone, windows long expired by
    the partition's own clock, and a partition left empty (3)."""
    return [
        (0, _key("C-A", LATEST), b"[1,0,[],[],{},false]"),
        (0, _key("C-A", LATEST), b"[2,0,[],[],{},false]"),
        (0, _key("C-OLD", LATEST - 3 * EXPIRES), b"[1,0,[],[],{},false]"),
        (0, _key("C-GONE", LATEST), b"[1,0,[],[],{},false]"),
        (0, _key("C-GONE", LATEST), None),
        (1, _key("C-B", LATEST - SIZE), b"[5,1,[],[],{},true]"),
        (1, _key("C-B", LATEST + 2 * SIZE), b"[1,0,[],[],{},false]"),
        (2, _key("C-C", LATEST - 2 * EXPIRES), b"[3,0,[],[],{},false]"),
        *((2, _key(f"C-N{n}", LATEST + n * SIZE), b"[1,0,[],[],{},false]") for n in range(50)),
    ]


def _written_since() -> list[tuple[int, bytes, bytes | None]]:
    """What the watch writes after it started: a key updated, one deleted, a new one."""
    return [
        (0, _key("C-A", LATEST), b"[3,0,[],[],{},false]"),
        (1, _key("C-B", LATEST + 2 * SIZE), None),
        (3, _key("C-D", LATEST), b"[1,0,[],[],{},false]"),
    ]


async def _written(bootstrap: str, topic: str,
                   records: list[tuple[int, bytes, bytes | None]], create: bool) -> None:
    if create:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        finally:
            await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition, key, value in records:
            await producer.send_and_wait(topic, value, key=key, partition=partition)
    finally:
        await producer.stop()


def _table(app_id: str, bootstrap: str) -> Any:
    app = faust.App(app_id, broker=f"kafka://{bootstrap}", store="memory://",
                    Table=ExpiringTable)
    return tumbling_table(app, "velocity", timedelta(seconds=SIZE),
                          timedelta(seconds=EXPIRES), PARTITIONS)


def _as_faust_recovers(table: Any, records: list[tuple[int, bytes, bytes | None]]) -> None:
    """Each record decoded by the changelog's schema and applied, then the clean-up."""
    schema = table.changelog_topic.schema
    for partition in range(PARTITIONS):
        events = []
        for p, key, value in records:
            if p != partition:
                continue
            message = SimpleNamespace(key=key, value=value, headers=None, partition=p)
            events.append(SimpleNamespace(
                key=schema.loads_key(table.app, message),
                value=None if value is None else schema.loads_value(table.app, message),
                message=message))
        table.apply_changelog_batch(events)
    asyncio.run(table._del_old_keys())


def _state(table: Any) -> tuple[dict[Any, Any], dict[Any, Any], dict[int, float]]:
    keys = {k: set(v) for k, v in table._partition_timestamp_keys.items() if v}
    return dict(table.data.data), keys, dict(table.event_clock)


def test_a_changelog_read_back_in_bulk_is_the_table_faust_recovers(
        stack: StackConfig, caplog: Any) -> None:
    app_id = f"test-read-back-{uuid.uuid4().hex[:8]}"
    reference = _table(app_id, stack.bootstrap_servers)
    topic = reference.changelog_topic.get_topic_name()
    asyncio.run(_written(stack.bootstrap_servers, topic, _changelog(), create=True))
    _as_faust_recovers(reference, _changelog())

    table = _table(app_id, stack.bootstrap_servers)
    assigned = {TP(topic, p) for p in range(PARTITIONS)} | {TP("card.transactions", 0)}
    asyncio.run(table.on_rebalance(assigned, set(), assigned))

    assert _state(table) == _state(reference)
    kept = {key[0] for key in table.data.data}
    assert {"C-A", "C-B", "C-N49"} <= kept
    assert not kept & {"C-OLD", "C-C", "C-GONE"}
    # faust's recovery starts after what was read back; an empty partition has nothing
    assert {p: table.persisted_offset(TP(topic, p)) for p in range(PARTITIONS)} == \
        {0: 4, 1: 1, 2: 50, 3: -1}
    assert table.persisted_offset(TP("card.transactions", 0)) is None

    # the watch writes on; a rebalance that keeps every partition reads on from there
    asyncio.run(_written(stack.bootstrap_servers, topic, _written_since(), create=False))
    again = _table(f"{app_id}-again", stack.bootstrap_servers)
    _as_faust_recovers(again, _changelog() + _written_since())
    for _partition, key, value in _written_since():  # as `BulkChangelog.flush` writes them
        at = table._to_key(orjson.loads(key))
        if value is None:
            table.data.pop(at, None)
        else:
            table.data[at] = value
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="puhui.watch"):
        asyncio.run(table.on_rebalance(assigned, set(), set()))
    assert f"read back 3 records of {topic}" in caplog.text  # only what came after
    assert _state(table) == _state(again)
    assert {p: table.persisted_offset(TP(topic, p)) for p in range(PARTITIONS)} == \
        {0: 5, 1: 2, 2: 50, 3: 0}

    # a partition taken away is forgotten, so it is read back in full when it comes back
    asyncio.run(table.on_rebalance(assigned - {TP(topic, 1)}, {TP(topic, 1)}, set()))
    assert table.persisted_offset(TP(topic, 1)) is None
    assert table.persisted_offset(TP(topic, 0)) == 5


def test_a_read_back_the_broker_refuses_leaves_the_partition_to_faust(caplog: Any) -> None:
    """No broker where the app's says (a port nothing listens on): the table says it holds
    nothing of the partition, so faust's own recovery reads it from its start, as it did
    before the read-back."""
    table = _table(f"test-read-back-refused-{uuid.uuid4().hex[:8]}", "127.0.0.1:1")
    tp = TP(table.changelog_topic.get_topic_name(), 0)
    asyncio.run(table.on_rebalance({tp}, set(), {tp}))
    assert table.persisted_offset(tp) is None
    assert "faust's recovery reads it" in caplog.text
