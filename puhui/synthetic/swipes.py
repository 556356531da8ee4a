"""One synthetic day of card transactions, in time order.

Refunds and reversals always refer to a purchase already written (a refund to any earlier
purchase, a reversal to a recent one), so the feed never needs a purchase from the future.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from puhui.synthetic import timing
from puhui.synthetic.ids import card_id, event_id
from puhui.synthetic.merchants import SPENDS, Spend

SWIPES_PER_CARD = {False: 0.55, True: 0.45}
"""Card transactions per card per day, on a weekday (False) and at the weekend (True)."""
REFUND_SHARE = 0.02
REVERSAL_SHARE = 0.005
PURCHASE_SHARE = 1 - REFUND_SHARE - REVERSAL_SHARE
REFUND_POOL = 100_000
REVERSAL_POOL = 2_000
HEAVY_USE = 1.5
"""Skew of commute rides towards heavy users: card = cards * u ** HEAVY_USE."""

REFUND = -1
REVERSAL = -2

Purchase = tuple[str, str, str, str, str, int]
"""(transaction_id, card_id, merchant_id, merchant_name, mcc, amount_fen)."""


@dataclass(frozen=True, slots=True)
class Season:
    """The return-trip window (both days inclusive) when travel is heavier."""

    first_day: date
    last_day: date

    def holds(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


RETURN_WINDOW = Season(date(2027, 2, 6), date(2027, 3, 7))


class Swipes:
    """Draws the card transactions of each day; remembers purchases to refund or reverse."""

    def __init__(self, rng: random.Random, cards: int, season: Season = RETURN_WINDOW) -> None:
        self._rng = rng
        self._cards = cards
        self._season = season
        self._refundable: list[Purchase] = []
        self._reversible: deque[Purchase] = deque(maxlen=REVERSAL_POOL)
        self._count = 0

    def plan(self, day: date) -> list[tuple[int, int]]:
        """(second of the day, what) for every swipe of `day`, in time order.

        `what` indexes `SPENDS`, or is `REFUND` / `REVERSAL`.
        """
        if self._cards == 0:
            return []
        rng, weekend = self._rng, day.weekday() >= 5
        total = round(self._cards * SWIPES_PER_CARD[weekend])
        shares = [spend.share(weekend, self._season.holds(day)) for spend in SPENDS]
        slots: list[tuple[int, int]] = []
        for index, spend in enumerate(SPENDS):
            count = round(total * shares[index] / sum(shares) * PURCHASE_SHARE)
            slots += [(spend.second(rng), index) for _ in range(count)]
        slots += [(timing.shop_hours(rng), REFUND) for _ in range(round(total * REFUND_SHARE))]
        slots += [(timing.travel(rng), REVERSAL) for _ in range(round(total * REVERSAL_SHARE))]
        slots.sort()
        return slots

    def swipe(self, prefix: str, second: int, what: int) -> dict[str, Any]:
        """The card transaction for one planned slot of the day in `prefix`."""
        occurred_at = timing.stamp(prefix, second)
        if what == REFUND and self._refundable:
            return self._refund(self._rng.choice(self._refundable), occurred_at)
        if what == REVERSAL and self._reversible:
            return self._reversal(self._rng.choice(self._reversible), occurred_at)
        return self._purchase(SPENDS[max(what, 0)], occurred_at)

    def _purchase(self, spend: Spend, occurred_at: str) -> dict[str, Any]:
        rng = self._rng
        merchant = spend.merchants[int(rng.random() * len(spend.merchants))]
        u = rng.random()
        card = card_id(int(self._cards * (u**HEAVY_USE if spend.skewed else u)))
        bought = (self._next_id(), card, merchant.merchant_id, merchant.merchant_name,
                  merchant.mcc, spend.amount_fen(rng))  # fmt: skip
        self._remember(bought)
        return _transaction(rng, "purchase", bought, bought[0], bought[5], occurred_at)

    def _refund(self, bought: Purchase, occurred_at: str) -> dict[str, Any]:
        amount = bought[5]
        if amount > 1 and self._rng.random() < 0.6:
            amount = self._rng.randrange(1, amount)
        value = _transaction(self._rng, "refund", bought, self._next_id(), amount, occurred_at)
        value["original_transaction_id"] = bought[0]
        return value

    def _reversal(self, bought: Purchase, occurred_at: str) -> dict[str, Any]:
        value = _transaction(self._rng, "reversal", bought, self._next_id(), bought[5], occurred_at)
        value["original_transaction_id"] = bought[0]
        return value

    def _remember(self, bought: Purchase) -> None:
        self._reversible.append(bought)
        if len(self._refundable) < REFUND_POOL:
            self._refundable.append(bought)
        else:
            self._refundable[int(self._rng.random() * REFUND_POOL)] = bought

    def _next_id(self) -> str:
        self._count += 1
        return f"T{self._count:012d}"


def _transaction(
    rng: random.Random, kind: str, bought: Purchase, transaction_id: str, amount: int, at: str
) -> dict[str, Any]:
    return {
        "event_id": event_id(rng),
        "type": kind,
        "transaction_id": transaction_id,
        "card_id": bought[1],
        "amount_fen": amount,
        "currency": "CNY",
        "merchant_id": bought[2],
        "merchant_name": bought[3],
        "mcc": bought[4],
        "occurred_at": at,
    }


def days_from(start: date, count: int) -> Iterator[date]:
    """`count` consecutive days from `start`."""
    for offset in range(count):
        yield date.fromordinal(start.toordinal() + offset)
