"""Arbitrary JSON at every field of every inbound type, through decode, the engine and the
PostgreSQL store on the real stack: every message is recorded or dead-lettered, and no
exception escapes (issue #15). Bounded: 2,000 examples, about 12 s here."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from schemas.decode import Invalid, decode
from services import disbursement, enrolment
from services.ledger.adapters.repository import PgLedgerStore
from services.ledger.consumer import LedgerConsumer
from services.ledger.service_layer.recorder import Recorder
from services.runtime import db
from services.runtime.dlq_guard import DeadLetterGuard
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import InboundRecord

EXAMPLES = Path(__file__).parents[2] / "schemas" / "examples"
BASES = [(path.parent.name, json.loads(path.read_text()))
         for topic in ("card.transactions", "member.enrolment", "clock.days")
         for path in sorted((EXAMPLES / topic).glob("*.json"))]
EXAMPLES_RUN = 2000

# What broke the ledger before, beside anything at all.
INTERESTING = st.sampled_from([
    "\x00", "a\x00b", 2**63, 2**63 - 1, -(2**63), 2**64 - 1, 10**12 + 1, 0, -1, 1.5, 1e308,
    "9999-12-31T23:59:59-08:00", "0001-01-01T00:00:00+08:00", "2027-02-29", "0001-01-01",
    "9999-12-31", "2027-01-01T00:00:00", "2027-01-01T00:00:00+23:59", "", "x" * 3000,
    "1988-02-29", "4111", "٤١١١", "card\x00", {"\x00": 1}, [["\x00"]], True, None,
])
SCALARS = (st.none() | st.booleans() | st.integers(-(2**64), 2**64)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
           | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
           | st.dates().map(lambda d: d.isoformat()))
JSON = st.recursive(SCALARS | INTERESTING,
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


@dataclass
class Pipeline:
    loop: asyncio.AbstractEventLoop
    pool: asyncpg.Pool
    consumers: list[LedgerConsumer]
    prefix: str
    offsets: Iterator[int]


@pytest.fixture(scope="module")
def pipeline(stack: StackConfig) -> Iterator[Pipeline]:
    loop = asyncio.new_event_loop()
    pool = loop.run_until_complete(db.create_pool(stack.database_url, max_size=2))
    loop.run_until_complete(db.migrate(pool))
    never_stop = DeadLetterGuard(min_invalid=10**9)  # nearly every message here is invalid
    consumers = [LedgerConsumer(spec, Recorder(PgLedgerStore(pool), load_catalogue(),
                                               f"property-{spec.name}"),
                                ServiceMetrics.create(spec.name), never_stop)
                 for spec in (enrolment.SPEC, disbursement.SPEC)]
    first = random.randrange(10**12, 2 * 10**12)  # past any real offset, new each run
    yield Pipeline(loop, pool, consumers, uuid.uuid4().hex[:8], iter(range(first, 3 * 10**12)))
    loop.run_until_complete(pool.close())
    loop.close()


def _message(base: dict[str, Any], prefix: str, field: str, value: object,
             drop: bool) -> dict[str, Any]:
    """The example with fresh ids (so it is decided, not a duplicate), then one field set to
    `value` or dropped."""
    fresh = {**base, "event_id": str(uuid.uuid4())}
    for key in ("member_id", "card_id", "transaction_id", "original_transaction_id"):
        if key in fresh:
            fresh[key] = f"{prefix}-{fresh[key]}"
    if drop:
        fresh.pop(field, None)
    else:
        fresh[field] = value
    return fresh


async def _outcome(pipeline: Pipeline, record: InboundRecord) -> tuple[str, ...]:
    for consumer in pipeline.consumers:
        if record.topic in consumer.spec.topics:
            await consumer.handle([record])
    rows = await pipeline.pool.fetch(
        "select kind from dead_letters where source_topic = $1 and partition = 0 "
        "and \"offset\" = $2 and consumer like 'property-%'", record.topic, record.offset)
    return tuple(row["kind"] for row in rows)


@settings(max_examples=EXAMPLES_RUN, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.sampled_from(BASES), st.data(), JSON, st.booleans())
def test_every_message_is_recorded_or_dead_lettered(
        pipeline: Pipeline, base: tuple[str, dict[str, Any]], data: st.DataObject,
        value: object, drop: bool) -> None:
    topic, example = base
    field = data.draw(st.sampled_from([*example, "an_extra_field", "\x00"]), label="field")
    message = _message(example, pipeline.prefix, field, value, drop and field in example)
    raw = json.dumps(message).encode()  # stdlib: integers past 64 bits too
    record = InboundRecord(topic, 0, next(pipeline.offsets), b"k", raw)
    dead = pipeline.loop.run_until_complete(_outcome(pipeline, record))
    event = decode(topic, raw)
    if isinstance(event, Invalid):
        assert dead == (event.kind,), (message, event)
        return
    processed = pipeline.loop.run_until_complete(pipeline.pool.fetchval(
        "select count(*) from processed_events where event_id = $1", event.event_id))
    # decoded, so the contract took it: it must be recorded, not set aside as unprocessable
    assert (processed, dead) == (1, ()), message
