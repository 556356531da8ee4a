"""`decide`: the one entry point of the rules. Pure: it reads the ledger, never changes it.

An event already processed changes nothing. Otherwise it is judged by the rule for its type;
whatever it made known (a card, a member, a purchase) releases the events held for it, which
are judged in turn, as of their own time, in the order they were held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from puhui.engine import awards, birthday, registry
from puhui.engine.catalogue import Catalogue
from puhui.engine.draft import Draft
from puhui.engine.holds import released
from puhui.engine.outcome import NOTHING, Outcome
from puhui.engine.purchases import judge_purchase
from puhui.engine.refunds import judge_refund
from puhui.engine.state import HeldEvent, Ledger
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


def decide(event: InboundEvent, ledger: Ledger, catalogue: Catalogue) -> Outcome:
    """Everything `event` decides and changes, given `ledger` (which is not modified)."""
    if event.event_id in ledger.processed:
        return NOTHING
    rule = RULES.get(event.type)
    if rule is None:
        raise UnknownEventType(f"no rule for event type {event.type!r}")
    draft = Draft(ledger)
    draft.mark_processed(event.event_id)
    rule(event, draft, catalogue)
    _take_up_released(draft, catalogue)
    return draft.outcome()


def _take_up_released(draft: Draft, catalogue: Catalogue) -> None:
    while draft.arrivals:
        key, by_event_id = draft.arrivals.popleft()
        for item in draft.release(key):
            draft.decide(released(item, by_event_id))
            _judge_held(item.event, draft, catalogue)


def _judge_held(event: HeldEvent, draft: Draft, catalogue: Catalogue) -> None:
    RULES[event.type](event, draft, catalogue)
