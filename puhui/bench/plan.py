"""What a bench run feeds: a population, a latency stream at a fixed rate, then card days.

The population is registered before today, so that swipes stamped with the current time
(the latency stream) find their members and cards. The card days are in the 2027 return
window, like `puhui generate`'s feed, with their own transaction numbering.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from puhui.synthetic.feed import CARD_TRANSACTIONS, FeedPlan, daily_feed, population_feed
from puhui.synthetic.swipes import SWIPES_PER_CARD
from puhui.synthetic.timing import SHANGHAI_OFFSET

Line = tuple[str, dict[str, Any]]
DAY_ONE = date(2027, 2, 8)
"""A Monday inside the return window: commutes, trips home, cinema, books."""
FULL_DAY_MEMBERS = 1_750_000
FULL_DAY_CARDS = 1_400_000


@dataclass(frozen=True)
class BenchPlan:
    members: int = 200_000
    cards: int = 160_000
    events: int | None = 300_000
    """Card transactions of the day phase (resends included); None: whole days."""
    days: int | None = None
    """Days of card transactions; None: as many as `events` needs."""
    rate: int = 2_000
    """Offered card transactions per second in the latency phase."""
    latency_seconds: float = 30.0
    seed: int = 2027

    @classmethod
    def full_day(cls, rate: int = 2_000, latency_seconds: float = 30.0) -> BenchPlan:
        """The federation's population and one whole generated weekday."""
        return cls(FULL_DAY_MEMBERS, FULL_DAY_CARDS, None, 1, rate, latency_seconds)

    def day_count(self) -> int:
        if self.days is not None:
            return self.days
        per_day = max(1, int(min(self.cards, self.members) * min(SWIPES_PER_CARD.values())))
        return math.ceil((self.events or per_day) / per_day) + 1

    def population(self, today: date) -> Iterator[Line]:
        """Every registration and card issue, all before `today` (Shanghai)."""
        return population_feed(FeedPlan(self.members, self.cards, 0, today, self.seed))

    def day_lines(self) -> Iterator[Line]:
        """The card days: clock, swipes (with resends), certificates and honours."""
        return daily_feed(FeedPlan(self.members, self.cards, self.day_count(), DAY_ONE,
                                   self.seed, max_swipes=self.events))

    def latency_swipes(self) -> Iterator[dict[str, Any]]:
        """Card transactions for the latency phase, endless; stamp each with `stamp_now`.

        Their transaction ids start with `L`, apart from the card days' ids."""
        day = 0
        while True:
            plan = FeedPlan(self.members, self.cards, 1, DAY_ONE, self.seed + 100 + day,
                            duplicates_rate=0.0)
            for topic, value in daily_feed(plan):
                if topic == CARD_TRANSACTIONS:
                    yield _apart(value, f"L{day}")
            day += 1

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "days": self.day_count()}


def stamp_now(value: dict[str, Any]) -> dict[str, Any]:
    """The swipe as if it happened this instant (the clock of this process)."""
    return {**value, "occurred_at": datetime.now(SHANGHAI_OFFSET).isoformat()}


def _apart(value: dict[str, Any], prefix: str) -> dict[str, Any]:
    value["transaction_id"] = prefix + value["transaction_id"]
    if "original_transaction_id" in value:
        value["original_transaction_id"] = prefix + value["original_transaction_id"]
    return value
