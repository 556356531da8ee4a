"""A `Draft`: the outcome of one event while it is being decided, read through over a ledger.

Rules read the ledger as the draft has changed it so far (so an event released in the same
outcome sees what the ones before it did) and write only to the draft; the ledger itself is
never touched. `outcome()` freezes what was written.
"""

from __future__ import annotations

from collections import deque
from datetime import date

from engine.decisions import Decision, WaitingFor
from engine.outcome import Outcome
from engine.periods import MonthDay, birthdays_on
from engine.state import (
    NO_ARRIVAL,
    NO_USAGE,
    Arrival,
    BudgetKey,
    CardHolding,
    CardStop,
    HeldItem,
    HeldKey,
    Ledger,
    Member,
    Purchase,
    Usage,
    UsageKey,
)


class Draft:
    def __init__(self, ledger: Ledger, arrival: Arrival = NO_ARRIVAL) -> None:
        self._ledger = ledger
        self.arrival = arrival
        """Where the event being judged first arrived (a held event keeps it)."""
        self.decisions: list[Decision] = []
        self._processed: list[str] = []
        self._usage: dict[UsageKey, Usage] = {}
        self._budget: dict[BudgetKey, int] = {}
        self._members: dict[str, Member] = {}
        self._cards: dict[str, tuple[CardHolding, ...]] = {}
        self._card_stops: dict[str, tuple[CardStop, ...]] = {}
        self._days_started: dict[date, str] = {}
        self._purchases: dict[str, Purchase] = {}
        self._holds_added: list[HeldItem] = []
        self._holds_released: list[HeldItem] = []
        self._released_ids: set[str] = set()
        self.arrivals: deque[tuple[HeldKey, str]] = deque()
        """(what became known, the event id that made it known), for held events to follow."""

    # reading, as changed so far

    def member(self, member_id: str) -> Member | None:
        found = self._members.get(member_id)
        return found if found is not None else self._ledger.members.get(member_id)

    def birthday_members(self, month_day: tuple[int, int]) -> set[str]:
        return self._ledger.birthdays.get(month_day, set())

    def holdings(self, card_id: str) -> tuple[CardHolding, ...] | None:
        found = self._cards.get(card_id)
        return found if found is not None else self._ledger.cards.get(card_id)

    def card_stops(self, card_id: str) -> tuple[CardStop, ...]:
        found = self._card_stops.get(card_id)
        return found if found is not None else self._ledger.card_stops.get(card_id, ())

    def ticked(self, day: date) -> str | None:
        """The event id of the first `day_started` of `day`, if it was ticked."""
        return self._days_started.get(day) or self._ledger.days_started.get(day)

    def ticks_for(self, birthday: MonthDay) -> list[tuple[date, str]]:
        """Every day ticked so far that celebrates `birthday`, oldest first."""
        days = {**self._ledger.days_started, **self._days_started}
        return sorted((d, e) for d, e in days.items() if birthday in birthdays_on(d))

    def purchase(self, transaction_id: str) -> Purchase | None:
        found = self._purchases.get(transaction_id)
        return found if found is not None else self._ledger.purchases.get(transaction_id)

    def used(self, key: UsageKey) -> Usage:
        base = self._ledger.usage.get(key, NO_USAGE)
        delta = self._usage.get(key)
        return base if delta is None else Usage(base.count + delta.count, base.fen + delta.fen)

    def spent(self, key: BudgetKey) -> int:
        return self._ledger.budget_spent.get(key, 0) + self._budget.get(key, 0)

    def held(self, key: HeldKey) -> tuple[HeldItem, ...]:
        """Events still held for `key` (not taken up by this draft)."""
        items = self._ledger.held.get(key, ())
        return tuple(i for i in items if i.event_id not in self._released_ids)

    # writing

    def decide(self, decision: Decision) -> None:
        self.decisions.append(decision)

    def mark_processed(self, event_id: str) -> None:
        self._processed.append(event_id)

    def count_usage(self, key: UsageKey, count: int, fen: int) -> None:
        before = self._usage.get(key, NO_USAGE)
        self._usage[key] = Usage(before.count + count, before.fen + fen)

    def spend(self, key: BudgetKey, fen: int) -> None:
        self._budget[key] = self._budget.get(key, 0) + fen

    def put_member(self, member: Member) -> None:
        self._members[member.member_id] = member

    def put_card(self, card_id: str, holdings: tuple[CardHolding, ...]) -> None:
        self._cards[card_id] = holdings

    def put_card_stops(self, card_id: str, stops: tuple[CardStop, ...]) -> None:
        self._card_stops[card_id] = stops

    def tick(self, day: date, event_id: str) -> None:
        """`day` was ticked by `event_id` (the first tick of a day is the one kept)."""
        if self.ticked(day) is None:
            self._days_started[day] = event_id

    def put_purchase(self, purchase: Purchase) -> None:
        self._purchases[purchase.transaction_id] = purchase

    def hold(self, item: HeldItem) -> None:
        self._holds_added.append(item)

    def arrived(self, waiting_for: WaitingFor, key: str, by_event_id: str) -> None:
        """`key` is now known: events held for it can be decided."""
        if self.held((waiting_for, key)):
            self.arrivals.append(((waiting_for, key), by_event_id))

    def take_up(self, item: HeldItem) -> None:
        """Take `item` out of the hold: it is decided now."""
        self._released_ids.add(item.event_id)
        self._holds_released.append(item)

    def outcome(self) -> Outcome:
        return Outcome(
            decisions=tuple(self.decisions),
            processed=tuple(self._processed),
            usage=self._usage,
            budget=self._budget,
            members=self._members,
            cards=self._cards,
            purchases=self._purchases,
            card_stops=self._card_stops,
            days_started=self._days_started,
            holds_added=tuple(self._holds_added),
            holds_released=tuple(self._holds_released),
        )
