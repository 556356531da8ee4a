"""Inbound events for engine tests, built with the contract's own models.

Times are RFC 3339 text (`"2027-03-05T10:00:00+08:00"`); ids are fresh but deterministic
(a counter rendered as a UUID), so a scenario built twice yields the same events.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from engine.catalogue import Catalogue, load_catalogue
from engine.decisions import Decision
from engine.simulator import Simulator
from schemas.card_transactions import CardTransaction
from schemas.clock_days import DayStarted
from schemas.member_enrolment import (
    CardBlocked,
    CardCancelled,
    CardIssued,
    MemberCertified,
    MemberHonoured,
    MemberLeft,
    MemberRegistered,
    MemberUpdated,
)

MCC = {"metro": "4111", "rail": "4112", "coach": "4131", "cinema": "7832", "books": "5942"}


class Events:
    """A source of events with fresh ids: `Events().purchase("c1", at, 300)`."""

    def __init__(self) -> None:
        self._count = 0

    def event_id(self) -> str:
        self._count += 1
        return str(uuid.UUID(int=self._count))

    def _enrolment(self, model: Any, kind: str, member: str, at: str, **extra: Any) -> Any:
        fields = {"event_id": self.event_id(), "type": kind, "member_id": member, "occurred_at": at}
        return model.model_validate({**fields, **extra})

    def registered(
        self, member: str, at: str, born: str = "1990-06-15", branch: str = "b1"
    ) -> MemberRegistered:
        extra = {"birth_date": born, "union_branch": branch, "name": "张三"}
        result: MemberRegistered = self._enrolment(
            MemberRegistered, "member_registered", member, at, **extra
        )
        return result

    def updated(self, member: str, at: str, **changes: Any) -> MemberUpdated:
        result: MemberUpdated = self._enrolment(
            MemberUpdated, "member_updated", member, at, **changes
        )
        return result

    def left(self, member: str, at: str) -> MemberLeft:
        result: MemberLeft = self._enrolment(MemberLeft, "member_left", member, at)
        return result

    def issued(self, member: str, card: str, at: str) -> CardIssued:
        result: CardIssued = self._enrolment(CardIssued, "card_issued", member, at, card_id=card)
        return result

    def blocked(self, member: str, card: str, at: str) -> CardBlocked:
        result: CardBlocked = self._enrolment(CardBlocked, "card_blocked", member, at, card_id=card)
        return result

    def cancelled(self, member: str, card: str, at: str) -> CardCancelled:
        result: CardCancelled = self._enrolment(
            CardCancelled, "card_cancelled", member, at, card_id=card
        )
        return result

    def certified(self, member: str, level: str, at: str) -> MemberCertified:
        result: MemberCertified = self._enrolment(
            MemberCertified, "member_certified", member, at, level=level
        )
        return result

    def honoured(self, member: str, title: str, at: str) -> MemberHonoured:
        result: MemberHonoured = self._enrolment(
            MemberHonoured, "member_honoured", member, at, title=title
        )
        return result

    def day(self, day: str | date) -> DayStarted:
        text = day if isinstance(day, str) else day.isoformat()
        return DayStarted.model_validate(
            {"event_id": self.event_id(), "type": "day_started", "date": text}
        )

    def purchase(
        self, card: str, at: str, amount: int, mcc: str = "4111", tx: str | None = None
    ) -> CardTransaction:
        return self._transaction("purchase", card, at, amount, mcc, tx, None)

    def refund(
        self, card: str, original: str, at: str, amount: int, tx: str | None = None
    ) -> CardTransaction:
        return self._transaction("refund", card, at, amount, "4111", tx, original)

    def reversal(
        self, card: str, original: str, at: str, amount: int, tx: str | None = None
    ) -> CardTransaction:
        return self._transaction("reversal", card, at, amount, "4111", tx, original)

    def resend(self, event: Any) -> Any:
        """The same message again (same event_id)."""
        return type(event).model_validate(event.model_dump())

    def _transaction(
        self,
        kind: str,
        card: str,
        at: str,
        amount: int,
        mcc: str,
        tx: str | None,
        original: str | None,
    ) -> CardTransaction:
        event_id = self.event_id()
        return CardTransaction.model_validate(
            {
                "event_id": event_id,
                "type": kind,
                "transaction_id": tx or f"tx-{event_id[-6:]}",
                "original_transaction_id": original,
                "card_id": card,
                "amount_fen": amount,
                "currency": "CNY",
                "merchant_id": "m1",
                "merchant_name": "商户",
                "mcc": MCC.get(mcc, mcc),
                "occurred_at": at,
            }
        )


JOINED = "2027-01-01T09:00:00+08:00"
"""When scenario members register and get their card, unless a test says otherwise."""

CATALOGUE = load_catalogue()
"""The reference catalogue, read once."""


class Scenario:
    """A simulator and an event source: `s.member("m1", card="c1")`, then `s.one(event)`."""

    def __init__(self, catalogue: Catalogue = CATALOGUE) -> None:
        self.events = Events()
        self.sim = Simulator(catalogue)

    def feed(self, event: Any) -> list[Decision]:
        return self.sim.feed(event)

    def one(self, event: Any) -> Decision:
        """Feed `event`, which must make exactly one decision, and return it."""
        decisions = self.feed(event)
        assert len(decisions) == 1, decisions
        return decisions[0]

    def member(
        self, member: str, card: str | None = None, since: str = JOINED, born: str = "1990-06-15"
    ) -> None:
        """Register `member` (and issue `card` to them) at `since`."""
        assert self.feed(self.events.registered(member, since, born=born)) == []
        if card is not None:
            assert self.feed(self.events.issued(member, card, since)) == []

    def buy(
        self, card: str, at: str, amount: int, mcc: str = "metro", tx: str | None = None
    ) -> Decision:
        return self.one(self.events.purchase(card, at, amount, mcc, tx))


def amounts(decisions: list[Decision]) -> list[tuple[str, int, str | None]]:
    """(kind, amount, reason) of each decision, for compact assertions."""
    return [(type(d).__name__, d.amount_fen, d.reason) for d in decisions]
