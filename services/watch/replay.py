"""The watch's rules over a feed in memory, no Kafka, no database: what it would raise.

`python -m services.watch.replay [--members N] [--days D] [--start YYYY-MM-DD]` runs them over
a generated federation feed (puhui/synthetic) and prints the signals per rule of each day:
with nothing planted, every one of them is a false positive. The unit tier runs the planted
week (puhui/synthetic/planted.py) through `replay` too. Partitions are those Kafka's own
partitioner gives the cards; offsets count the feed's lines.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date

from puhui.engine.catalogue import load_catalogue
from puhui.engine.periods import SHANGHAI
from puhui.synthetic.planted import partition_of
from schemas.card_transactions import CardTransaction
from schemas.decode import decode_value
from schemas.signals import Signal
from services.watch.config import Watched, load_rules
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import Tally, Window, local_seconds
from services.watch.service_layer.watch import CardWatch, MerchantTables, MerchantWatch

Line = tuple[str, dict[str, object]]


class MemoryTallies:
    """A windowed table in a dict: the unit tier's stand-in for a faust table."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, tuple[float, float]], Tally] = {}

    def get(self, key: str, window: Window) -> Tally:
        return self.data.get((key, window.key), Tally())

    def put(self, key: str, window: Window, tally: Tally) -> None:
        self.data[(key, window.key)] = tally


class Replay:
    def __init__(self, watched: Watched) -> None:
        self.watched = watched
        self.signals: list[Signal] = []
        self.velocity = MemoryTallies()
        self.merchant = MerchantTables(MemoryTallies(), MemoryTallies(), MemoryTallies())
        self.cards = CardWatch(watched, self.velocity, self._record)
        self.merchants = MerchantWatch(watched, self.merchant, self._record)

    async def _record(self, signals: Sequence[Signal]) -> None:
        known = {s.signal_id for s in self.signals}
        self.signals.extend(s for s in signals if s.signal_id not in known)

    async def run(self, lines: Iterable[Line]) -> list[Signal]:
        for offset, (topic, value) in enumerate(lines):
            swipe = self.swipe(topic, value, offset)
            if swipe is not None:
                await self.observe(swipe)
        return self.signals

    async def observe(self, swipe: Swipe) -> None:
        await self.cards.observe(swipe)
        await self.merchants.observe(swipe)

    def swipe(self, topic: str, value: dict[str, object], offset: int) -> Swipe | None:
        event = decode_value(topic, value) if topic == "card.transactions" else None
        if not isinstance(event, CardTransaction) or \
                event.mcc not in self.watched.subsidised_mcc:
            return None
        return Swipe(event.transaction_id, event.card_id, event.merchant_id, event.mcc,
                     event.type, event.amount_fen, local_seconds(event.occurred_at),
                     partition_of(event.card_id), offset)


def replay(lines: Iterable[Line], watched: Watched | None = None) -> list[Signal]:
    return asyncio.run(Replay(watched or load_rules(load_catalogue())).run(lines))


def main(argv: Sequence[str] | None = None) -> None:
    from puhui.synthetic.feed import FeedPlan, daily_feed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--members", type=int, default=1_750_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2027, 3, 3))
    args = parser.parse_args(argv)
    plan = FeedPlan(members=args.members, cards=args.members * 4 // 5, days=args.days,
                    start_date=args.start)
    signals = replay(daily_feed(plan))
    per_day = Counter((s.window_start.astimezone(SHANGHAI).date().isoformat(), s.rule)
                      for s in signals)
    print(f"{len(signals)} signals over {args.days} days of {plan.cards:,} cards")
    for (day, rule), n in sorted(per_day.items()):
        print(f"  {day} {rule}: {n}")


if __name__ == "__main__":
    main()
