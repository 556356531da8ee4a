"""A `Draft`: the outcome of one event while it is being decided, read through over a ledger.

Rules read the ledger as the draft has changed it so far (so an event released in the same
outcome sees what the ones before it did) and write only to the draft; the ledger itself is
never touched. `outcome()` freezes what was written.
"""

from __future__ import annotations

from collections import deque

from puhui.engine.decisions import Decision, WaitingFor
from puhui.engine.outcome import Outcome
from puhui.engine.state import (
    NO_USAGE,
    BudgetKey,
    CardHolding,
    HeldItem,
    HeldKey,
    Ledger,
    Member,
    Purchase,
    Usage,
    UsageKey,
)


class Draft:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.decisions: list[Decision] = []
        self._processed: list[str] = []
        self._usage: dict[UsageKey, Usage] = {}
        self._budget: dict[BudgetKey, int] = {}
        self._members: dict[str, Member] = {}
        self._cards: dict[str, tuple[CardHolding, ...]] = {}
        self._purchases: dict[str, Purchase] = {}
        self._holds_added: list[HeldItem] = []
        self._holds_released: list[HeldItem] = []
        self._released_keys: set[HeldKey] = set()
        self.arrivals: deque[tuple[HeldKey, str]] = deque()
        """(what became known, the event id that made it known), for held events to follow."""

    # reading, as changed so far

    def is_processed(self, event_id: str) -> bool:
        return event_id in self._ledger.processed or event_id in self._processed

    def member(self, member_id: str) -> Member | None:
        found = self._members.get(member_id)
        return found if found is not None else self._ledger.members.get(member_id)

    def birthday_members(self, month_day: tuple[int, int]) -> set[str]:
        return self._ledger.birthdays.get(month_day, set())

    def holdings(self, card_id: str) -> tuple[CardHolding, ...] | None:
        found = self._cards.get(card_id)
        return found if found is not None else self._ledger.cards.get(card_id)

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
        if key in self._released_keys:
            return ()
        return self._ledger.held.get(key, ())

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

    def put_purchase(self, purchase: Purchase) -> None:
        self._purchases[purchase.transaction_id] = purchase

    def hold(self, item: HeldItem) -> None:
        self._holds_added.append(item)

    def arrived(self, waiting_for: WaitingFor, key: str, by_event_id: str) -> None:
        """`key` is now known: events held for it can be decided."""
        if (waiting_for, key) in self._ledger.held:
            self.arrivals.append(((waiting_for, key), by_event_id))

    def release(self, key: HeldKey) -> tuple[HeldItem, ...]:
        """Take the events held for `key` out of the hold, in the order they were held."""
        items = self.held(key)
        self._released_keys.add(key)
        self._holds_released.extend(items)
        return items

    def outcome(self) -> Outcome:
        return Outcome(
            decisions=tuple(self.decisions),
            processed=tuple(self._processed),
            usage=self._usage,
            budget=self._budget,
            members=self._members,
            cards=self._cards,
            purchases=self._purchases,
            holds_added=tuple(self._holds_added),
            holds_released=tuple(self._holds_released),
        )
