"""Kafka side of the relay: one producer, record batches built per partition, each record
stamped with its outbox id.

Every record carries the header `puhui-outbox-id`: its row's id and its index in the row,
decimal ASCII as `id.index` (records published before rows held several messages carry the
id alone, which names index 0). It is how the relay, after a crash, recognises what it
already published (`tails.py`), and what a consumer can de-duplicate on if it wants to.

The relay builds each partition's record batches itself (`create_batch`/`send_batch`)
instead of handing over one message at a time: the same bytes on the wire, a fraction of the
Python per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from services.relay.partitions import partition_for
from services.runtime.outbox import MessageRef, PendingMessage

OUTBOX_ID = "puhui-outbox-id"
COMPRESSION: str | None = "zstd"
"""Measured on payouts and audit records (docs/services.md, "Compression")."""

Partition = tuple[str, int]


def stamped_ref(headers: Sequence[tuple[str, bytes | None]] | None) -> MessageRef | None:
    """The outbox message a record's headers name, if they name one."""
    for key, value in headers or ():
        if key != OUTBOX_ID or value is None:
            continue
        row, _, index = value.partition(b".")
        if row.isdigit() and (index.isdigit() or not index):
            return int(row), int(index or 0)
    return None


def relay_producer(bootstrap: str, compression: str | None = COMPRESSION) -> AIOKafkaProducer:
    """Idempotent (a retry inside one session never doubles a record), `acks=all`."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                            linger_ms=5, max_batch_size=256 * 1024,
                            compression_type=compression)


class Publisher:
    """Publishes outbox rows to the partitions `partition_for` names; waits for every ack."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._partitions: dict[str, int] = {}

    async def partitions(self, topic: str) -> list[Partition]:
        """Every partition of `topic` (counted once per relay session)."""
        if topic not in self._partitions:
            self._partitions[topic] = len(await self._producer.partitions_for(topic))
        return [(topic, p) for p in range(self._partitions[topic])]

    async def publish(self, batch: Sequence[PendingMessage]) -> None:
        """Publish `batch`, in id order within each partition, and wait for the broker."""
        counts = {topic: len(await self.partitions(topic)) for topic in {m.topic for m in batch}}
        by_partition: dict[Partition, list[PendingMessage]] = {}
        for m in batch:
            where = (m.topic, partition_for(m.key, m.id + m.position, counts[m.topic]))
            by_partition.setdefault(where, []).append(m)
        sending = [self._send(where, rows) for where, rows in by_partition.items()]
        acks = await asyncio.gather(*sending)
        await asyncio.gather(*(ack for partition_acks in acks for ack in partition_acks))

    async def _send(self, where: Partition, rows: Sequence[PendingMessage]) -> list[Any]:
        """Hand `rows` over as record batches; one partition's go one after the other."""
        acks, builder = [], self._producer.create_batch()
        for m in rows:
            headers = [(OUTBOX_ID, b"%d.%d" % (m.id, m.position))]
            if builder.append(timestamp=None, key=m.key, value=m.value, headers=headers) is None:
                acks.append(await self._producer.send_batch(builder, where[0],
                                                            partition=where[1]))
                builder = self._producer.create_batch()
                builder.append(timestamp=None, key=m.key, value=m.value, headers=headers)
        builder.close()  # a closed batch goes at once, it does not linger for more
        acks.append(await self._producer.send_batch(builder, where[0], partition=where[1]))
        return acks
