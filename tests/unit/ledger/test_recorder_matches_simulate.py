"""The property the services stand on: any feed, cut into batches of any sizes, split the way
the services split it (enrolment takes `member.enrolment`, disbursement the rest), replayed
with redeliveries and with batches that fail midway, gives through the recorder on the
in-memory store exactly what `puhui simulate` gives for the events in the order they were
recorded, every payout and every audit record."""

from __future__ import annotations

import zlib
from collections import defaultdict
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.catalogue import Catalogue
from engine.decisions import ClawedBack, Paid
from engine.simulator import Simulator
from engine.state import Arrival
from schemas.decode import InboundEvent
from services import disbursement, enrolment
from services.ledger.adapters.memory import MemoryLedgerStore, MemoryLedgerTransaction
from services.ledger.service_layer.recorder import Recorder
from services.runtime.outbox import OutboxMessage
from services.runtime.records import Decoded, InboundRecord
from tests.unit.engine.test_properties import catalogues, feeds

PARTITIONS = {"card.transactions": 8, "member.enrolment": 4, "clock.days": 1}
KEY = {"card.transactions": "card_id", "member.enrolment": "member_id", "clock.days": "date"}
SPECS = (enrolment.SPEC, disbursement.SPEC)


def records_of(feed: list[Any]) -> list[Decoded]:
    """Each event as the broker would hand it over: topic, partition by key, offset."""
    offsets: dict[tuple[str, int], int] = defaultdict(int)
    decoded = []
    for event in feed:
        topic = _topic(event)
        key = str(getattr(event, KEY[topic])).encode()
        partition = zlib.crc32(key) % PARTITIONS[topic]
        offset = offsets[(topic, partition)]
        offsets[(topic, partition)] += 1
        value = orjson.dumps(event.model_dump(mode="json"))
        decoded.append(Decoded(InboundRecord(topic, partition, offset, key, value), event))
    return decoded


def _topic(event: InboundEvent) -> str:
    if event.type in ("purchase", "refund", "reversal"):
        return "card.transactions"
    return "clock.days" if event.type == "day_started" else "member.enrolment"


class Crash(Exception):
    """A batch that fails midway (the database or the process went away)."""


class CrashingStore(MemoryLedgerStore):
    """Fails the next transaction when told to, after the batch's effects were written
    (in `write_outbox`, the last write of a batch)."""

    def __init__(self) -> None:
        super().__init__()
        self.crash_next = False


@st.composite
def schedules(draw: st.DrawFn, n_records: int) -> list[tuple[int, int, str]]:
    """(stream, batch size, what happens to the batch) until both streams are drained."""
    steps = []
    for _ in range(n_records * 2 + 2):
        stream = draw(st.integers(0, 1))
        size = draw(st.integers(1, 12))
        fate = draw(st.sampled_from(("commit", "commit", "commit", "redeliver", "crash")))
        steps.append((stream, size, fate))
    return steps


async def _replay(feed: list[Any], catalogue: Catalogue,
                  schedule: list[tuple[int, int, str]]) -> tuple[MemoryLedgerStore, list[Decoded]]:
    store = CrashingStore()
    recorders = [Recorder(store, catalogue, spec.name) for spec in SPECS]
    streams = [[d for d in records_of(feed) if (d.record.topic == "member.enrolment") == (i == 0)]
               for i in range(2)]
    positions = [0, 0]
    recorded: list[Decoded] = []
    original = MemoryLedgerTransaction.write_outbox

    async def write_outbox(tx: MemoryLedgerTransaction, messages: list[OutboxMessage]) -> None:
        await original(tx, messages)
        if store.crash_next:
            store.crash_next = False
            raise Crash

    MemoryLedgerTransaction.write_outbox = write_outbox  # type: ignore[method-assign]
    try:
        for stream, size, fate in [*schedule, (0, 10**6, "commit"), (1, 10**6, "commit")]:
            batch = streams[stream][positions[stream]:positions[stream] + size]
            if not batch:
                continue
            if fate == "crash":
                store.crash_next = True
                try:
                    await recorders[stream].record(batch, [])
                except Crash:
                    pass
                else:  # nothing to write: the batch held only resends
                    store.crash_next = False
                continue  # not committed: Kafka redelivers from the same offset
            await recorders[stream].record(batch, [])
            if fate == "redeliver":  # committed, but the offset was not: the same batch again
                await recorders[stream].record(batch, [])
            recorded.extend(batch)
            positions[stream] += len(batch)
    finally:
        MemoryLedgerTransaction.write_outbox = original  # type: ignore[method-assign]
    return store, recorded


def _simulated(recorded: list[Decoded], catalogue: Catalogue) -> tuple[list[Any], list[Any]]:
    simulator = Simulator(catalogue)
    payouts, audit = [], []
    for d in recorded:
        r = d.record
        for decision in simulator.feed(d.event, Arrival(r.topic, r.partition, r.offset)):
            audit.append(decision.to_audit().model_dump(mode="json"))
            if isinstance(decision, Paid | ClawedBack):
                payouts.append(decision.to_payout().model_dump(mode="json"))
    return payouts, audit


PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(st.data(), feeds(), catalogues())
async def test_the_services_pay_what_simulate_pays(data: st.DataObject, feed: list[Any],
                                                   catalogue: Catalogue) -> None:
    schedule = data.draw(schedules(len(feed)))
    store, recorded = await _replay(feed, catalogue, schedule)
    assert sorted(d.event.event_id for d in recorded) == sorted(e.event_id for e in feed)
    payouts, audit = _simulated(recorded, catalogue)
    stored = [s.as_payout().model_dump(mode="json") for s in store.tables.payouts.values()]
    published = [orjson.loads(m.value) for m in store.tables.outbox if m.topic == "audit"]
    assert stored == payouts
    assert published == audit
    held = sorted(i.event_id for items in store.tables.ledger.held.values() for i in items)
    expected = Simulator(catalogue)
    for d in recorded:
        expected.feed(d.event, Arrival(d.record.topic, d.record.partition, d.record.offset))
    assert held == sorted(i.event_id for i in expected.held())
