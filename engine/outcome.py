"""An `Outcome`: what deciding one event produced, as data a service can persist as is.

- `decisions`: the decisions, in order (the event's own, then those of events it released).
- `processed`: event ids now taken (the event itself; released events were taken when held).
- `usage`: `UsageKey` -> `Usage` *delta* (count, fen) to add; negative for a clawback.
- `budget`: (programme, year) -> fen *delta* to add to what was spent.
- `members`, `cards`, `purchases`: the new value of each changed row (upsert).
- `card_stops`: card id -> its stops waiting for the issue (an empty tuple: none left).
- `days_started`: days first ticked -> the tick's event id (insert).
- `holds_added` / `holds_released`: held items to insert / delete.

The mappings are fresh per outcome; treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.decisions import Decision
from engine.state import (
    BudgetKey,
    CardHolding,
    CardStop,
    HeldItem,
    Member,
    Purchase,
    Usage,
    UsageKey,
)

_NONE: Mapping[Any, Any] = MappingProxyType({})


class Outcome(NamedTuple):
    decisions: tuple[Decision, ...] = ()
    processed: tuple[str, ...] = ()
    usage: Mapping[UsageKey, Usage] = _NONE
    budget: Mapping[BudgetKey, int] = _NONE
    members: Mapping[str, Member] = _NONE
    cards: Mapping[str, tuple[CardHolding, ...]] = _NONE
    purchases: Mapping[str, Purchase] = _NONE
    card_stops: Mapping[str, tuple[CardStop, ...]] = _NONE
    days_started: Mapping[date, str] = _NONE
    holds_added: tuple[HeldItem, ...] = ()
    holds_released: tuple[HeldItem, ...] = ()

    @property
    def changes_nothing(self) -> bool:
        """True for a resent event: nothing to record."""
        return not (self.decisions or self.processed)


NOTHING = Outcome()
