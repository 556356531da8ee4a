"""The whole synthetic feed in processing order, as (topic, value) lines.

Registrations and card issues first; then, day by day, a `day_started` and that day's card
transactions, certificates and honours in time order. A share of card transactions is resent
(the same message again, a little later), as a bank does after a timeout.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import count

from puhui.synthetic import timing
from puhui.synthetic.ids import event_id, member_id
from puhui.synthetic.population import ENROLMENT, Line, enrolment
from puhui.synthetic.swipes import SWIPES_PER_CARD, Swipes, days_from

CARD_TRANSACTIONS = "card.transactions"
CLOCK_DAYS = "clock.days"

CERTIFIED_PER_MEMBER_DAY = 2e-5
HONOURED_PER_MEMBER_DAY = 2e-6
RESEND_DELAY = (1, 200)
"""A resend comes this many card transactions after the original."""

CERTIFIED = -10
HONOURED = -11


@dataclass(frozen=True)
class FeedPlan:
    """What to generate. Same plan, same feed, byte for byte."""

    members: int = 1_750_000
    cards: int = 1_400_000
    days: int = 35
    start_date: date = date(2027, 2, 1)
    seed: int = 2027
    duplicates_rate: float = 0.01
    max_swipes: int | None = None
    """Stop after this many card transactions (resends included)."""

    def expected_lines(self) -> int:
        """About how many lines the feed has (for a progress bar)."""
        per_day = self.cards * max(SWIPES_PER_CARD.values()) * (1 + self.duplicates_rate)
        swipes = int(per_day * self.days)
        if self.max_swipes is not None:
            swipes = min(swipes, self.max_swipes)
        return self.members + min(self.cards, self.members) + self.days + swipes


def feed(plan: FeedPlan) -> Iterator[Line]:
    """Every line of the feed, in processing order."""
    rng = random.Random(plan.seed)  # noqa: S311  # synthetic data must repeat from its seed
    yield from enrolment(rng, plan.members, min(plan.cards, plan.members), plan.start_date)
    yield from _days(rng, plan)


def population_feed(plan: FeedPlan) -> Iterator[Line]:
    """Only the registrations and card issues of `plan` (all before its first day)."""
    rng = random.Random(plan.seed)  # noqa: S311  # synthetic data must repeat from its seed
    yield from enrolment(rng, plan.members, min(plan.cards, plan.members), plan.start_date)


def daily_feed(plan: FeedPlan) -> Iterator[Line]:
    """Only the days of `plan`: clock, card transactions, certificates and honours, for a
    population already registered (same member and card numbering as `population_feed`)."""
    rng = random.Random(plan.seed + 1)  # noqa: S311  # synthetic data must repeat from its seed
    yield from _days(rng, plan)


def _days(rng: random.Random, plan: FeedPlan) -> Iterator[Line]:
    if plan.max_swipes == 0:
        return
    swipes = _Resending(rng, plan.duplicates_rate, plan.max_swipes)
    shop = Swipes(rng, min(plan.cards, plan.members))
    for day in days_from(plan.start_date, plan.days):
        yield CLOCK_DAYS, {"event_id": event_id(rng), "type": "day_started", "date": str(day)}
        for line in _day(rng, shop, day, plan.members):
            if line[0] == ENROLMENT:
                yield line
                continue
            yield from swipes.send(line)
            if swipes.done:
                return
    yield from swipes.flush()


class _Resending:
    """Passes card transactions on, resends a share of them later, and stops at the cap."""

    def __init__(self, rng: random.Random, rate: float, cap: int | None) -> None:
        self._rng, self._rate, self._cap = rng, rate, cap
        self._pending: list[tuple[int, int, Line]] = []
        self._order = count()
        self.sent = 0

    @property
    def done(self) -> bool:
        return self._cap is not None and self.sent >= self._cap

    def send(self, line: Line) -> Iterator[Line]:
        yield from self._one(line)
        if self._rng.random() < self._rate:
            due = self.sent + self._rng.randint(*RESEND_DELAY)
            heapq.heappush(self._pending, (due, next(self._order), line))
        while self._pending and self._pending[0][0] <= self.sent and not self.done:
            yield from self._one(heapq.heappop(self._pending)[2])

    def flush(self) -> Iterator[Line]:
        while self._pending and not self.done:
            yield from self._one(heapq.heappop(self._pending)[2])

    def _one(self, line: Line) -> Iterator[Line]:
        if not self.done:
            self.sent += 1
            yield line


def _day(rng: random.Random, shop: Swipes, day: date, members: int) -> Iterator[Line]:
    prefix = timing.day_prefix(day)
    office = _office_plan(rng, members)
    for second, what in heapq.merge(shop.plan(day), office):
        if what in (CERTIFIED, HONOURED):
            yield ENROLMENT, _office_event(rng, what, members, timing.stamp(prefix, second))
        else:
            yield CARD_TRANSACTIONS, shop.swipe(prefix, second, what)


def _office_plan(rng: random.Random, members: int) -> list[tuple[int, int]]:
    """When today's certificates and honours are recorded."""
    certified = _about(rng, members * CERTIFIED_PER_MEMBER_DAY)
    honoured = _about(rng, members * HONOURED_PER_MEMBER_DAY)
    plan = [(timing.office_hours(rng), CERTIFIED) for _ in range(certified)]
    plan += [(timing.office_hours(rng), HONOURED) for _ in range(honoured)]
    plan.sort()
    return plan


def _office_event(rng: random.Random, what: int, members: int, at: str) -> dict[str, object]:
    value: dict[str, object] = {
        "event_id": event_id(rng),
        "member_id": member_id(rng.randrange(members)),
        "occurred_at": at,
    }
    if what == CERTIFIED:
        value["type"] = "member_certified"
        value["level"] = "technician" if rng.random() < 0.7 else "senior_technician"
    else:
        value["type"] = "member_honoured"
        value["title"] = "technical_pacesetter" if rng.random() < 0.75 else "technical_champion"
    return value


def _about(rng: random.Random, mean: float) -> int:
    """`mean` rounded up or down at random, so small rates still happen now and then."""
    whole = int(mean)
    return whole + (rng.random() < mean - whole)
