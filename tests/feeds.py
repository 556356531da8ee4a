"""Small hand-made feeds for the integration and e2e tiers, unique per run.

Every id carries a run prefix, so tests that share the stack's database and topics never
see each other's members. The feed is built so that the order in which independent services
process it cannot change the result: no member comes near a limit or a budget.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.simulator import Simulator
from schemas.decode import Invalid, decode

Line = tuple[str, dict[str, Any]]  # (topic, value)


@dataclass
class Feed:
    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    lines: list[Line] = field(default_factory=list)

    def member(self, n: int) -> str:
        return f"{self.prefix}-m{n}"

    def card(self, n: int) -> str:
        return f"{self.prefix}-c{n}"

    def _id(self) -> str:
        return str(uuid.uuid4())

    def register(self, n: int, birth: str = "1985-06-15",
                 at: str = "2027-01-05T09:00:00+08:00") -> None:
        self.lines.append(("member.enrolment", {
            "event_id": self._id(), "type": "member_registered", "member_id": self.member(n),
            "occurred_at": at, "birth_date": birth, "union_branch": "zz-branch",
            "name": f"Member {n}"}))

    def issue(self, n: int, at: str = "2027-01-05T10:00:00+08:00") -> None:
        self.lines.append(("member.enrolment", {
            "event_id": self._id(), "type": "card_issued", "member_id": self.member(n),
            "card_id": self.card(n), "occurred_at": at}))

    def swipe(self, n: int, mcc: str, amount: int, at: str, kind: str = "purchase",
              original: str | None = None) -> str:
        transaction_id = f"{self.prefix}-t{len(self.lines)}"
        value: dict[str, Any] = {
            "event_id": self._id(), "type": kind, "transaction_id": transaction_id,
            "card_id": self.card(n), "amount_fen": amount, "currency": "CNY",
            "merchant_id": f"mch-{mcc}", "merchant_name": f"Merchant {mcc}", "mcc": mcc,
            "occurred_at": at}
        if original:
            value["original_transaction_id"] = original
        self.lines.append(("card.transactions", value))
        return transaction_id

    def certify(self, n: int, level: str, at: str) -> None:
        self.lines.append(("member.enrolment", {
            "event_id": self._id(), "type": "member_certified", "member_id": self.member(n),
            "level": level, "occurred_at": at}))

    def honour(self, n: int, title: str, at: str) -> str:
        event_id = self._id()
        self.lines.append(("member.enrolment", {
            "event_id": event_id, "type": "member_honoured", "member_id": self.member(n),
            "title": title, "occurred_at": at}))
        return event_id

    def block(self, n: int, at: str) -> None:
        self.lines.append(("member.enrolment", {
            "event_id": self._id(), "type": "card_blocked", "member_id": self.member(n),
            "card_id": self.card(n), "occurred_at": at}))

    def tick(self, day: str) -> str:
        event_id = self._id()
        self.lines.append(("clock.days", {"event_id": event_id, "type": "day_started",
                                          "date": day}))
        return event_id

    def resend_all(self) -> None:
        self.lines += list(self.lines)


def standard_feed(members: int = 12) -> Feed:
    """Registrations, cards, a mix of every card programme, refunds, a reversal, a
    certification, a swipe before its card, and every message sent twice."""
    feed = Feed()
    for n in range(members):
        feed.register(n)
        if n != 0:  # member 0's card is issued after their first swipe: that swipe is held
            feed.issue(n)
    for n in range(members):
        day = f"2027-01-{10 + n % 15:02d}"
        feed.swipe(n, "4111", 300, f"{day}T08:1{n % 10}:00+08:00")
        cinema = feed.swipe(n, "7832", 4500, f"{day}T19:30:00+08:00")
        books = feed.swipe(n, "5942", 12_000 + 100 * n, f"{day}T12:00:00+08:00")
        if n % 3 == 0:
            feed.swipe(n, "5942", 3_000, f"{day}T15:00:00+08:00", "refund", books)
        if n % 4 == 1:
            feed.swipe(n, "7832", 4500, f"{day}T21:00:00+08:00", "reversal", cinema)
        if n % 5 == 2:
            feed.certify(n, "technician", f"{day}T10:00:00+08:00")
    feed.issue(0, at="2027-01-05T10:00:00+08:00")
    feed.resend_all()
    return feed


def simulate(feed: Feed) -> set[tuple[str, str, str, int]]:
    """(payout_id, member, programme, amount) of every payout and clawback the engine owes."""
    simulator = Simulator()
    owed = set()
    for topic, value in feed.lines:
        event = decode(topic, orjson.dumps(value))
        assert not isinstance(event, Invalid), event
        for decision in simulator.feed(event):
            to_payout = getattr(decision, "to_payout", None)
            if to_payout is not None:
                p = to_payout()
                owed.add((p.payout_id, p.member_id, p.programme, p.amount_fen))
    return owed
