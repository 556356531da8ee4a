"""Which rows of the ledger a batch of events can touch: pure, from the events alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from engine.periods import (
    EVER,
    MonthDay,
    birthdays_on,
    day_key,
    local_date,
    month_day,
    month_key,
    window_key,
    year_key,
)
from engine.state import HeldItem, Purchase
from schemas.card_transactions import CardTransaction
from schemas.clock_days import DayStarted
from schemas.decode import InboundEvent
from schemas.member_enrolment import (
    CardBlocked,
    CardCancelled,
    CardIssued,
    MemberRegistered,
    MemberUpdated,
)


@dataclass
class SliceKeys:
    """Keys gathered from the events (and, as the slice loads, from what they lead to)."""

    card_ids: set[str] = field(default_factory=set)
    member_ids: set[str] = field(default_factory=set)
    transaction_ids: set[str] = field(default_factory=set)
    days: set[date] = field(default_factory=set)
    days_started: set[date] = field(default_factory=set)
    """The days a `day_started` in the batch opens (whose birthdays it pays)."""
    birthdays_registered: set[MonthDay] = field(default_factory=set)
    """Birthdays that registrations and birth-date corrections in the batch give members:
    the ticks of those days may owe them a gift."""

    def held_keys(self, kinds: Iterable[str],
                  asked: dict[str, set[str]]) -> set[tuple[str, str]]:
        """(kind, key) of every card, member or purchase of `kinds` that held events may wait
        on and that is not in `asked` yet; `asked` takes them in."""
        wanted = set()
        for kind in kinds:
            ids = self._ids_of(kind)
            before = asked.setdefault(kind, set())
            new = ids - before
            before |= new
            wanted |= {(kind, i) for i in new}
        return wanted

    def _ids_of(self, kind: str) -> set[str]:
        if kind == "card":
            return self.card_ids
        if kind == "member":
            return self.member_ids
        if kind == "purchase":
            return self.transaction_ids
        raise ValueError(f"nothing is held for a {kind!r}")

    def periods(self) -> set[str]:
        keys = {EVER}
        for day in self.days:
            # A window is keyed by its configured year; one that spans New Year belongs to
            # the year before the day's own.
            keys |= {day_key(day), month_key(day), year_key(day), window_key(day.year),
                     window_key(day.year - 1)}
        return keys

    def years(self) -> set[int]:
        return {day.year for day in self.days}

    def birthdays(self) -> list[tuple[int, int]]:
        return sorted({md for day in self.days_started for md in birthdays_on(day)})

    def birthday_locks(self) -> list[MonthDay]:
        """Birthdays that a tick pays or a registration gives, in this batch."""
        return sorted(set(self.birthdays()) | self.birthdays_registered)


def keys_of(events: Iterable[InboundEvent]) -> SliceKeys:
    keys = SliceKeys()
    for event in events:
        add_event(keys, event)
    return keys


def add_event(keys: SliceKeys, event: InboundEvent) -> None:
    if isinstance(event, DayStarted):
        keys.days.add(event.date)
        keys.days_started.add(event.date)
        return
    keys.days.add(local_date(event.occurred_at))
    if isinstance(event, CardTransaction):
        keys.card_ids.add(event.card_id)
        keys.transaction_ids.add(event.transaction_id)
        if event.original_transaction_id:
            keys.transaction_ids.add(event.original_transaction_id)
        return
    keys.member_ids.add(event.member_id)
    if isinstance(event, MemberRegistered | MemberUpdated) and event.birth_date is not None:
        keys.birthdays_registered.add(month_day(event.birth_date))
    if isinstance(event, CardIssued | CardBlocked | CardCancelled):
        # not getattr(event, "card_id", None): on a model without the field that is
        # pydantic's __getattr__ raising, several times the cost of deciding a registration
        keys.card_ids.add(event.card_id)


def add_held(keys: SliceKeys, items: Iterable[HeldItem]) -> None:
    for item in items:
        add_event(keys, item.event)


def add_purchases(keys: SliceKeys, purchases: Iterable[Purchase]) -> None:
    for purchase in purchases:
        if purchase.member_id:
            keys.member_ids.add(purchase.member_id)
