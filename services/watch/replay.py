"""The watch's rules over a feed in memory, no Kafka, no database: what it would raise.

`python -m puhui.watch_replay [--members N] [--days D] [--start YYYY-MM-DD]` runs them over
a generated federation feed (puhui/synthetic), its payouts decided by the rules engine as the
ledger would (each right after its event), and prints the signals per rule of each day: with
nothing planted, every one of them is a false positive. The unit tier runs the planted week
(puhui/synthetic/planted.py, its payouts beside it) through `replay` too. Partitions are
those Kafka's own partitioner gives the keys; offsets count the feed's lines, and the join
topic's messages per partition.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Generic, TypeVar

import orjson

from engine.catalogue import load_catalogue
from schemas.card_transactions import CardTransaction
from schemas.decode import Invalid, decode_value
from schemas.payouts import Payout
from schemas.signals import Signal
from services.runtime.partitions import default_partition
from services.watch.config import Watched, load_rules
from services.watch.domain.paid import PaidSide, Pairing
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import Tally, Window, local_seconds
from services.watch.service_layer.watch import (
    CardWatch,
    MerchantTables,
    MerchantWatch,
    PaidJoin,
)

Line = tuple[str, dict[str, object]]
V = TypeVar("V")
PARTITIONS = 8
"""Of `card.transactions` and of the join topic, both 8."""


def partition_of(key: str) -> int:
    """The partition Kafka's own (murmur2) partitioner gives `key`."""
    return default_partition(key, PARTITIONS)


class MemoryTable(Generic[V]):
    """A windowed table in a dict: the unit tier's stand-in for a faust table of tallies or
    of the join's pairings (`empty` makes the value of a key not seen yet)."""

    def __init__(self, empty: Callable[[], V]) -> None:
        self.empty = empty
        self.data: dict[tuple[str, tuple[float, float]], V] = {}

    def get(self, key: str, window: Window) -> V:
        found = self.data.get((key, window.key))
        return self.empty() if found is None else found

    def put(self, key: str, window: Window, value: V) -> None:
        self.data[(key, window.key)] = value


class Replay:
    def __init__(self, watched: Watched) -> None:
        self.watched = watched
        self.signals: list[Signal] = []
        self.velocity = MemoryTable(Tally)
        self.merchant = MerchantTables(MemoryTable(Tally), MemoryTable(Tally),
                                       MemoryTable(Tally), MemoryTable(Tally))
        self.cards = CardWatch(watched, self.velocity, self._record)
        self.merchants = MerchantWatch(watched, self.merchant, self._record)
        self.join = PaidJoin(MemoryTable(Pairing))
        self.join_offsets: Counter[int] = Counter()
        self.seen: Counter[str] = Counter()
        """Swipes at subsidised categories, payouts on purchases, and their pairs."""

    async def _record(self, signals: Sequence[Signal]) -> None:
        known = {s.signal_id for s in self.signals}
        self.signals.extend(s for s in signals if s.signal_id not in known)

    async def run(self, lines: Iterable[Line], start: int = 0) -> list[Signal]:
        """Observe `lines`, the first at offset `start` of the feed."""
        for offset, (topic, value) in enumerate(lines, start):
            if topic == "payouts":
                paid = self.paid(value)
                if paid is not None:
                    self.seen["payouts"] += 1
                    await self.pair(paid)
                continue
            swipe = self.swipe(topic, value, offset)
            if swipe is not None:
                self.seen["swipes"] += 1
                await self.observe(swipe)
        return self.signals

    async def observe(self, swipe: Swipe) -> None:
        """A swipe as the `cards` agent forwards it: to the merchant rules, and a purchase to
        the join."""
        await self.merchants.observe(swipe)
        if swipe.kind == "purchase":
            await self.pair(swipe)

    async def pair(self, side: Swipe | PaidSide) -> None:
        partition = partition_of(side.transaction_id)
        offset = self.join_offsets[partition]
        self.join_offsets[partition] += 1
        joined = self.join.observe(side, partition, offset)
        if joined is not None:
            self.seen["subsidised"] += 1
            await self.merchants.observe(joined)
            await self.cards.observe(joined)

    def swipe(self, topic: str, value: dict[str, object], offset: int) -> Swipe | None:
        event = decode_value(topic, value) if topic == "card.transactions" else None
        if not isinstance(event, CardTransaction) or \
                event.mcc not in self.watched.subsidised_mcc:
            return None
        return Swipe(event.transaction_id, event.card_id, event.merchant_id, event.mcc,
                     event.type, event.amount_fen, local_seconds(event.occurred_at),
                     partition_of(event.card_id), offset)

    @staticmethod
    def paid(value: dict[str, object]) -> PaidSide | None:
        payout = Payout.model_validate_json(orjson.dumps(value))  # as the topic's bytes
        if payout.kind != "payout" or payout.transaction_id is None:
            return None
        return PaidSide(payout.transaction_id, payout.amount_fen,
                        local_seconds(payout.occurred_at))


def replay(lines: Iterable[Line], watched: Watched | None = None) -> Replay:
    ran = Replay(watched or load_rules(load_catalogue()))
    asyncio.run(ran.run(lines))
    return ran


def with_payouts(lines: Iterable[Line]) -> Iterator[Line]:
    """Each line, then the payouts the rules engine decides on it (as the ledger would)."""
    from engine.decisions import Paid
    from engine.simulator import Simulator

    simulator = Simulator()
    for topic, value in lines:
        yield topic, value
        event = decode_value(topic, value)
        if isinstance(event, Invalid):
            continue
        for decision in simulator.feed(event):
            if isinstance(decision, Paid):
                yield "payouts", decision.to_payout().model_dump(mode="json")
