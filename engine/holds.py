"""Holding an event until what it needs is known, and taking it up again."""

from __future__ import annotations

from engine.decisions import Held, Released, WaitingFor
from engine.draft import Draft
from engine.origin import Origin, of_enrolment, of_transaction
from engine.state import HeldEvent, HeldItem
from engine.trace import Checked
from schemas.card_transactions import CardTransaction

_UNKNOWN = {
    "card": "card not known yet",
    "member": "member not known yet",
    "purchase": "purchase not known yet",
}


def hold(draft: Draft, event: HeldEvent, waiting_for: WaitingFor, key: str) -> None:
    """Put `event` aside until `waiting_for` `key` arrives, and say so."""
    draft.hold(HeldItem(event, waiting_for, key, draft.arrival))
    draft.decide(
        Held(
            **_origin(event),
            member_id=_member(event),
            programme=None,
            period=None,
            reason=f"waiting_for_{waiting_for}",
            trace=(Checked(waiting_for, _UNKNOWN[waiting_for]),),
            waiting_for=waiting_for,
            key=key,
        )
    )


def released(item: HeldItem, by_event_id: str) -> Released:
    """The decision that `item` is taken up again because of event `by_event_id`."""
    return Released(
        **_origin(item.event),
        member_id=_member(item.event),
        programme=None,
        period=None,
        reason=f"{item.waiting_for}_arrived",
        trace=(Checked(item.waiting_for, f"known since event {by_event_id}"),),
        waiting_for=item.waiting_for,
        key=item.key,
        released_by=by_event_id,
    )


def _origin(event: HeldEvent) -> Origin:
    if isinstance(event, CardTransaction):
        return of_transaction(event)
    return of_enrolment(event.event_id, event.occurred_at)


def _member(event: HeldEvent) -> str | None:
    return None if isinstance(event, CardTransaction) else event.member_id
