"""The audit service's CPU per record, measured in process: `python -m puhui.bench.audit_cpu`.

The messages are the ledger's own: a generated population and card days (`BenchPlan`, the
feed `puhui bench` sends) go through the engine (`Simulator`), and each decision's audit
message is built by `outbox_messages`, byte for byte what the relay publishes on `audit`.
Only the card days' messages are measured (the population's are not part of the card day).

They are handed, in batches of the consumer's size, to the audit service's own
`AuditConsumer.handle`: intake (decode, validate, canonical bytes), the dead-letter guard,
`record_batch` (chain links, SHA-256) and the counting of metrics, over a trail that builds
every COPY row with `copy_rows` as `PostgresTrail.append` does, then drops them. CPU time
(`time.process_time`) is taken around each batch, so a busy machine slows the run but
hardly changes the figure.

Left out, so the figure is lower than the service's share in `puhui bench`: the Kafka fetch
and aiokafka's parse, asyncpg's binary encoding of the rows and its socket writes, the
transaction's round trips, PostgreSQL itself.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import pstats
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

import click
from prometheus_client import CollectorRegistry

from engine.decisions import Decision
from engine.simulator import Simulator
from puhui.bench.plan import BenchPlan
from puhui.synthetic.feed import CARD_TRANSACTIONS
from schemas import audit
from schemas.decode import Invalid, decode_value
from services.audit.adapters.trail import copy_rows
from services.audit.consumer import AuditConsumer
from services.audit.domain.anchor import Anchor
from services.audit.domain.chain import EMPTY, ChainHead, ChainLink
from services.audit.service_layer.append import AuditTrail
from services.ledger.service_layer.published import outbox_messages, payouts_of
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import InboundRecord, Rejected

RECORDED_AT = datetime(2027, 2, 9, tzinfo=UTC)
POPULATION_DAY = date(2027, 2, 1)


@dataclass(frozen=True, slots=True)
class CardDay:
    messages: list[InboundRecord]
    """The card days' audit messages, as the audit service consumes them."""
    card_events: int


@dataclass(frozen=True, slots=True)
class Figures:
    records: int
    card_events: int
    rounds_us: list[float]
    """CPU µs per record, one figure per round."""

    @property
    def us_per_record(self) -> float:
        return statistics.median(self.rounds_us)

    @property
    def least_us_per_record(self) -> float:
        """The least disturbed round (on a busy machine the others share caches and cores)."""
        return min(self.rounds_us)

    @property
    def us_per_card_event(self) -> float:
        return self.us_per_record * self.records / max(self.card_events, 1)


class RowsOnlyTrail:
    """The trail without a database: a batch's COPY rows are built, then dropped."""

    def __init__(self) -> None:
        self.head = EMPTY
        self.rows = 0

    @asynccontextmanager
    async def open(self) -> AsyncIterator[AuditTrail]:
        yield self

    async def lock_head(self) -> ChainHead:
        return self.head

    async def recorded(self, audit_ids: Sequence[str]) -> set[str]:
        return set()  # the card days' audit ids are all new

    async def append(self, links: Sequence[ChainLink]) -> None:
        self.rows += len(copy_rows(links))

    async def move_head(self, head: ChainHead) -> None:
        self.head = head

    async def dead_letter(self, rejected: Sequence[Rejected], now: datetime) -> None:
        pass

    async def anchor(self, anchor: Anchor) -> None:
        pass


def card_day(plan: BenchPlan) -> CardDay:
    """The audit messages the ledger publishes for `plan`'s card days."""
    simulator = Simulator()
    for topic, value in plan.population(POPULATION_DAY):
        _decide(simulator, topic, value)
    decisions: list[Decision] = []
    card_events = 0
    for topic, value in plan.day_lines():
        card_events += topic == CARD_TRANSACTIONS
        decisions += _decide(simulator, topic, value)
    messages = [InboundRecord(m.topic, 0, offset, m.key, m.value) for offset, m in
                enumerate(m for m in outbox_messages(decisions, payouts_of(decisions))
                          if m.topic == audit.TOPIC)]
    return CardDay(messages, card_events)


def _decide(simulator: Simulator, topic: str, value: object) -> list[Decision]:
    event = decode_value(topic, value)
    return [] if isinstance(event, Invalid) else simulator.feed(event)


async def one_round(messages: Sequence[InboundRecord], batch: int) -> float:
    """CPU seconds the audit service spends on `messages`, consumed `batch` at a time."""
    trail = RowsOnlyTrail()
    consumer = AuditConsumer(trail.open, ServiceMetrics.create("audit", CollectorRegistry()),
                             lambda: RECORDED_AT)
    spent = 0.0
    for start in range(0, len(messages), batch):
        chunk = messages[start:start + batch]
        began = time.process_time()
        await consumer.handle(chunk)
        spent += time.process_time() - began
    if trail.rows != len(messages):
        raise RuntimeError(f"{trail.rows} rows for {len(messages)} messages: not all recorded")
    return spent


def measure(day: CardDay, batch: int, rounds: int,
            profile: cProfile.Profile | None = None) -> Figures:
    figures = []
    for _ in range(rounds):
        if profile is not None:
            profile.enable()
        spent = asyncio.run(one_round(day.messages, batch))
        if profile is not None:
            profile.disable()
        figures.append(1e6 * spent / len(day.messages))
    return Figures(len(day.messages), day.card_events, figures)


@click.command()
@click.option("--members", type=click.IntRange(min=1), default=20_000, show_default=True)
@click.option("--cards", type=click.IntRange(min=1), default=16_000, show_default=True)
@click.option("--events", type=click.IntRange(min=1), default=30_000, show_default=True,
              help="Card transactions of the card days (resends included).")
@click.option("--batch", type=click.IntRange(min=1), default=2_000, show_default=True,
              help="Messages per consumed batch (the consumer's max_batch).")
@click.option("--rounds", type=click.IntRange(min=1), default=5, show_default=True,
              help="Times the whole card day is consumed; the median round is reported.")
@click.option("--profile", "top", type=click.IntRange(min=1), default=None,
              help="Also run under cProfile and print this many functions by own time.")
def main(members: int, cards: int, events: int, batch: int, rounds: int,
         top: int | None) -> None:
    """The audit service's CPU per record over the ledger's audit messages for a card day."""
    day = card_day(BenchPlan(members, cards, events))
    # what made the day (the engine's ledger, the messages) is no part of the service: kept
    # out of the collector's way, as a service holds only the batch it consumes
    gc.collect()
    gc.freeze()
    figures = measure(day, batch, rounds)
    click.echo(f"{figures.records} audit records from {figures.card_events} card events, "
               f"batches of {batch}, {rounds} rounds")
    click.echo("CPU µs per record by round: " + ", ".join(f"{f:.2f}" for f in figures.rounds_us))
    click.echo(f"median: {figures.us_per_record:.2f} µs per record, "
               f"{figures.us_per_card_event:.2f} µs per card event; "
               f"least: {figures.least_us_per_record:.2f} µs per record")
    if top is not None:
        profile = cProfile.Profile()
        measure(day, batch, 1, profile)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(top)
        click.echo(out.getvalue())


if __name__ == "__main__":
    main()
