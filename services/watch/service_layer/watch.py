"""Observe one swipe: read the windows it falls in, apply the rules, record what they raise,
then write the windows back. And pair each purchase with its payout (`PaidJoin`): the rules
that count *subsidised* purchases (merchant burst, card velocity) see only the pairs.

Signals are recorded *before* the windows are written: a crash between the two replays the
swipe, the rules raise the same signal again, and the signal book's unique key makes that a
no-op. Written the other way round, a replay would find the swipe seen and raise nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from schemas.signals import Signal
from services.watch.config import Watched
from services.watch.domain import detect
from services.watch.domain.detect import Step
from services.watch.domain.paid import JOINED, PaidSide, Pairing, pair
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import DAY, Tally, Window, hopping, tumbling

MINUTE = 60.0


class Tallies(Protocol):
    """One windowed table: a tally per (key, window)."""

    def get(self, key: str, window: Window) -> Tally: ...

    def put(self, key: str, window: Window, tally: Tally) -> None: ...


class Pairings(Protocol):
    """The join's windowed table: a pairing per (transaction id, the purchase's day)."""

    def get(self, key: str, window: Window) -> Pairing: ...

    def put(self, key: str, window: Window, pairing: Pairing) -> None: ...


Record = Callable[[Sequence[Signal]], Awaitable[None]]
"""Records signals (once each, whatever is passed in twice) before the windows are written."""


@dataclass(frozen=True)
class MerchantTables:
    burst: Tallies
    """Tumbling, merchant_burst.window_minutes: subsidised purchases."""
    hour: Tallies
    """Tumbling, subsidy_maximising.window_minutes."""
    day: Tallies
    """Tumbling, a Shanghai day: purchases and refunds (the refund ratio)."""
    paid_day: Tallies
    """Tumbling, a Shanghai day: subsidised purchases (the burst's baseline)."""


class MerchantWatch:
    """The three merchant rules, for swipes keyed (and partitioned) by merchant: every swipe
    at a subsidised category for the refund ratio and the amounts, the subsidised purchases
    (joined with their payouts) for the burst."""

    def __init__(self, watched: Watched, tables: MerchantTables, record: Record) -> None:
        self.watched, self.tables, self.record = watched, tables, record

    async def observe(self, swipe: Swipe) -> list[Signal]:
        steps = self._steps(swipe)
        return await _record_then_write(steps, swipe.merchant_id, self.record)

    def _steps(self, swipe: Swipe) -> list[tuple[Tallies, Step]]:
        if swipe.source == JOINED:
            return self._subsidised(swipe)
        rules, examples, key = self.watched.rules, self.watched.rules.examples, swipe.merchant_id
        day = tumbling(swipe.at, DAY)
        refund_days = [self.tables.day.get(key, day.shifted(-n))
                       for n in range(1, rules.refund_ratio.baseline_days + 1)] \
            if swipe.kind != "purchase" else []
        steps = [(self.tables.day, detect.refund_ratio(
            day, self.tables.day.get(key, day), refund_days, swipe, rules.refund_ratio,
            examples))]
        amount = self.watched.maximising_amount.get(swipe.mcc)
        if swipe.kind == "purchase" and amount is not None:
            hour = tumbling(swipe.at, rules.subsidy_maximising.window_minutes * MINUTE)
            steps.append((self.tables.hour, detect.subsidy_maximising(
                hour, self.tables.hour.get(key, hour), swipe, amount,
                rules.subsidy_maximising, examples)))
        return steps

    def _subsidised(self, swipe: Swipe) -> list[tuple[Tallies, Step]]:
        rule, key = self.watched.rules.merchant_burst, swipe.merchant_id
        day = tumbling(swipe.at, DAY)
        burst = tumbling(swipe.at, rule.window_minutes * MINUTE)
        window = self.tables.burst.get(key, burst)
        # the baseline decides only for a window this purchase may take to min_purchases
        # (it changes no tally): most windows of most merchants never get there
        can_raise = not window.raised and window.purchases + 1 >= rule.min_purchases
        baseline = [self.tables.paid_day.get(key, day.shifted(-n))
                    for n in range(1, rule.baseline_days + 1)] if can_raise else []
        return [(self.tables.paid_day, detect.tallied(day, self.tables.paid_day.get(key, day),
                                                      swipe)),
                (self.tables.burst, detect.merchant_burst(
                    burst, window, baseline, swipe, rule, self.watched.rules.examples))]


class PaidJoin:
    """Pairs each purchase with its payout, keyed (and partitioned) by transaction id, in
    windows of the purchase's Shanghai day."""

    def __init__(self, pairings: Pairings) -> None:
        self.pairings = pairings

    def observe(self, side: Swipe | PaidSide, partition: int, offset: int) -> Swipe | None:
        """The subsidised swipe when this message completes its pair, else None."""
        window = tumbling(side.at, DAY)
        now, joined = pair(self.pairings.get(side.transaction_id, window), side, partition,
                           offset)
        self.pairings.put(side.transaction_id, window, now)
        return joined


class CardWatch:
    """Card velocity, for subsidised purchases (joined with their payouts) keyed by card."""

    def __init__(self, watched: Watched, velocity: Tallies, record: Record) -> None:
        self.rule = watched.rules.card_velocity
        self.velocity, self.record = velocity, record

    async def observe(self, swipe: Swipe) -> list[Signal]:
        if swipe.kind != "purchase" or not swipe.subsidised:
            return []
        size, step = self.rule.window_minutes * MINUTE, self.rule.hop_minutes * MINUTE
        windows = hopping(swipe.at, size, step)
        tallies = [(w, self.velocity.get(swipe.card_id, w)) for w in windows]
        # the windows before matter only to a window this swipe may take over the threshold
        earlier_raised = any(len(t.merchants) + 1 >= self.rule.min_merchants
                             for _, t in tallies) and any(
            self.velocity.get(swipe.card_id, Window(windows[0].start - n * step, size)).raised
            for n in range(1, int(size // step)))
        steps = detect.card_velocity(tallies, earlier_raised, swipe, self.rule)
        return await _record_then_write([(self.velocity, s) for s in steps], swipe.card_id,
                                        self.record)


async def _record_then_write(steps: Sequence[tuple[Tallies, Step]], key: str,
                             record: Record) -> list[Signal]:
    signals = [step.signal for _, step in steps if step.signal is not None]
    if signals:
        await record(signals)
    for table, step in steps:
        if step.changed:
            table.put(key, step.window, step.tally)
    return signals
