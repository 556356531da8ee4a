"""Produce feed lines straight into Kafka, each keyed as the bank or the membership system
keys it: card transactions by card, enrolment by member, the clock by date."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from schemas.topics import key_of
from services.runtime.progress import Advance

Line = tuple[str, dict[str, Any]]
IN_FLIGHT = 20_000
"""Messages handed to the producer before waiting for their acknowledgements."""
ADVANCE_EVERY = 8_192


COMPRESSION: str | None = "zstd"
"""The codec of what Puhui produces; why zstd: docs/services.md, "Compression"."""


def fast_producer(bootstrap: str, compression: str | None = COMPRESSION) -> AIOKafkaProducer:
    """Idempotent (so a retry never doubles a message), large batches, a short linger."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                            linger_ms=20, max_batch_size=512 * 1024,
                            compression_type=compression)


async def produce_lines(lines: Iterable[Line], bootstrap: str,
                        advance: Advance | None = None) -> int:
    """Send every line, in order per key; returns how many were sent (all acknowledged)."""
    producer = fast_producer(bootstrap)
    try:
        await producer.start()
        return await send_all(producer, lines, advance)
    finally:
        await producer.stop()


async def send_all(producer: AIOKafkaProducer, lines: Iterable[Line],
                   advance: Advance | None = None) -> int:
    """Send on a started producer; waits for every acknowledgement."""
    dumps, sent = orjson.dumps, 0
    pending: list[asyncio.Future[Any]] = []
    for topic, value in lines:
        pending.append(await producer.send(topic, dumps(value), key=key_of(topic, value)))
        sent += 1
        if len(pending) >= IN_FLIGHT:
            await asyncio.gather(*pending)
            pending.clear()
        if advance is not None and sent % ADVANCE_EVERY == 0:
            advance(sent)
    await asyncio.gather(*pending)
    if advance is not None:
        advance(sent)
    return sent
