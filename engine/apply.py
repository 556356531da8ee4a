"""`apply`: write an `Outcome`'s effects into a `Ledger` (the in-memory twin of persisting it)."""

from __future__ import annotations

from engine.outcome import Outcome
from engine.periods import month_day
from engine.state import NO_USAGE, HeldItem, HeldKey, Ledger, Member, Usage


def apply(ledger: Ledger, outcome: Outcome) -> None:
    """Make `ledger` what it is after `outcome`."""
    ledger.processed.update(outcome.processed)
    # most outcomes change a few of these: an empty mapping is skipped without a loop
    if outcome.usage:
        usage = ledger.usage
        for key, delta in outcome.usage.items():
            before = usage.get(key, NO_USAGE)
            usage[key] = Usage(before.count + delta.count, before.fen + delta.fen)
    if outcome.budget:
        spent = ledger.budget_spent
        for budget_key, fen in outcome.budget.items():
            spent[budget_key] = spent.get(budget_key, 0) + fen
    if outcome.members:
        for member in outcome.members.values():
            _put_member(ledger, member)
    if outcome.cards:
        ledger.cards.update(outcome.cards)
    if outcome.card_stops:
        for card_id, stops in outcome.card_stops.items():
            if stops:
                ledger.card_stops[card_id] = stops
            else:
                ledger.card_stops.pop(card_id, None)
    if outcome.days_started:
        for day, event_id in outcome.days_started.items():
            ledger.days_started.setdefault(day, event_id)
    if outcome.purchases:
        ledger.purchases.update(outcome.purchases)
    if outcome.holds_released:
        _release(ledger, outcome.holds_released)
    for item in outcome.holds_added:
        held_key: HeldKey = (item.waiting_for, item.key)
        ledger.held[held_key] = (*ledger.held.get(held_key, ()), item)


def _put_member(ledger: Ledger, member: Member) -> None:
    before = ledger.members.get(member.member_id)
    if before is not None and before.birth_date is not None:
        born = ledger.birthdays.get(month_day(before.birth_date))
        if born is not None:
            born.discard(member.member_id)
    if member.birth_date is not None:
        ledger.birthdays.setdefault(month_day(member.birth_date), set()).add(member.member_id)
    ledger.members[member.member_id] = member


def _release(ledger: Ledger, items: tuple[HeldItem, ...]) -> None:
    gone = {item.event_id for item in items}
    for key in {(item.waiting_for, item.key) for item in items}:
        left = tuple(item for item in ledger.held.get(key, ()) if item.event_id not in gone)
        if left:
            ledger.held[key] = left
        else:
            ledger.held.pop(key, None)
