"""`decide`: the one entry point of the rules. Pure: it reads the ledger, never changes it.

An event already processed changes nothing. Otherwise it is judged by the rule for its type.
Whatever it made known (a card, a member, a purchase) releases the events held for it and, for
each released purchase, the refunds held for that purchase: everything this one arrival makes
decidable. Those are decided as of their own time, in the order they first arrived, exactly
as if they had arrived now, one after another (rule 1 of docs/PRODUCT.md): a refund that
arrived before its own purchase waits for it, and is decided right after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import awards, birthday, registry
from engine.catalogue import Catalogue
from engine.draft import Draft
from engine.holds import released
from engine.outcome import NOTHING, Outcome
from engine.purchases import judge_purchase
from engine.refunds import judge_refund
from engine.state import NO_ARRIVAL, Arrival, HeldEvent, HeldItem, HeldKey, Ledger
from schemas.card_transactions import CardTransaction
from schemas.decode import InboundEvent

Rule = Callable[[Any, Draft, Catalogue], None]

RULES: dict[str, Rule] = {
    "purchase": judge_purchase,
    "refund": judge_refund,
    "reversal": judge_refund,
    "member_registered": registry.registered,
    "member_updated": registry.updated,
    "member_left": registry.left,
    "card_issued": registry.card_issued,
    "card_blocked": registry.card_stopped,
    "card_cancelled": registry.card_stopped,
    "member_certified": awards.certified,
    "member_honoured": awards.honoured,
    "day_started": birthday.day_started,
}
"""The rule for each event `type`."""


class UnknownEventType(ValueError):
    """An event of a type no rule judges (the decoder lets none through)."""


def decide(
    event: InboundEvent, ledger: Ledger, catalogue: Catalogue, arrival: Arrival = NO_ARRIVAL
) -> Outcome:
    """Everything `event` decides and changes, given `ledger` (which is not modified).

    `arrival` is where the event arrived: if it is held, it keeps that place in the order.
    """
    if event.event_id in ledger.processed:
        return NOTHING
    rule = RULES.get(event.type)
    if rule is None:
        raise UnknownEventType(f"no rule for event type {event.type!r}")
    draft = Draft(ledger, arrival)
    draft.mark_processed(event.event_id)
    rule(event, draft, catalogue)
    while draft.arrivals:
        key, by_event_id = draft.arrivals.popleft()
        _Release(draft, catalogue).together(key, by_event_id)
    return draft.outcome()


class _Release:
    """Deciding, in arrival order, what one arrival made decidable."""

    def __init__(self, draft: Draft, catalogue: Catalogue) -> None:
        self.draft = draft
        self.catalogue = catalogue
        self.planned: set[str] = set()
        """Event ids in a sequence being decided: each is decided at its own turn."""
        self.waiting: dict[HeldKey, list[HeldItem]] = {}
        """Items whose turn came before what they wait for was known."""
        self.known: dict[HeldKey, str] = {}

    def together(self, key: HeldKey, by_event_id: str) -> None:
        self.known[key] = by_event_id
        sequence = [i for i in released_together(self.draft, key) if i.event_id not in self.planned]
        self.planned |= {item.event_id for item in sequence}
        for item in sequence:
            if item.held_key in self.known:
                self._take_up(item, self.known[item.held_key])
            else:  # what it waits for comes later in this sequence: it follows that
                self.waiting.setdefault(item.held_key, []).append(item)

    def _take_up(self, item: HeldItem, by_event_id: str) -> None:
        draft = self.draft
        draft.take_up(item)
        draft.decide(released(item, by_event_id))
        draft.arrival = item.arrival
        _judge_held(item.event, draft, self.catalogue)
        while draft.arrivals:  # a released purchase is now known
            key, by = draft.arrivals.popleft()
            self.known[key] = by
            for follower in self.waiting.pop(key, []):
                self._take_up(follower, by)
            if any(i.event_id not in self.planned for i in draft.held(key)):
                self.together(key, by)


def released_together(draft: Draft, key: HeldKey) -> list[HeldItem]:
    """Everything held for `key`, and for each held purchase among them the refunds held for
    it (and so on), in the order they first arrived."""
    found: list[HeldItem] = []
    frontier, seen = [key], set()
    while frontier:
        at = frontier.pop()
        if at in seen:
            continue
        seen.add(at)
        for item in draft.held(at):
            found.append(item)
            event = item.event
            if isinstance(event, CardTransaction) and event.type == "purchase":
                frontier.append(("purchase", event.transaction_id))
    return sorted(found, key=lambda item: item.arrival)


def _judge_held(event: HeldEvent, draft: Draft, catalogue: Catalogue) -> None:
    RULES[event.type](event, draft, catalogue)
