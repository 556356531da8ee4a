"""A feed full of the feeds' ordinary accidents, in phases, for money-truth runs.

Each member lives one story: an ordinary one, or a card issued late, a card blocked before
its issue arrives, swipes before the registration, a card replaced mid-quarter, a member who
leaves, a registration that arrives after the member's birthday tick, a corrected birth
date. On top: refunds that arrive before their purchase, partial refunds, reversals,
certifications and honours repeated within the year, and every message sent twice.

The feed comes in phases, each of one side: enrolment (`member.enrolment`) or the bank and
the clock (`card.transactions`, `clock.days`). A run sends a phase and waits until it is
recorded before the next, so which service sees what first is fixed by the phases, as a
lagging enrolment feed would make it; inside a phase the events that can interact (one
member's) share one partition, because a replacement card is given an id on the old card's
partition. Budgets are far from their end. So the payouts of a run depend on nothing but
the feed, and equal `puhui simulate` on the phases one after another.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from puhui.synthetic.population import Line
from schemas.topics import CARD_TRANSACTIONS, CLOCK_DAYS, MEMBER_ENROLMENT, PARTITIONS
from services.runtime.partitions import default_partition

Phase = list[Line]
CST = timezone(timedelta(hours=8))
STORIES = (("ordinary", 52), ("late_card", 10), ("block_before_issue", 6),
           ("swipes_before_registration", 8), ("replaced_card", 8), ("left", 5),
           ("late_registration", 7), ("corrected_birth_date", 4))  # fmt: skip
SPLIT = date(2027, 2, 21)
"""Swipes before it go in the first card phase, the others in the second."""
FIRST_DAY, LAST_DAY = date(2027, 1, 1), date(2027, 3, 31)
SHOPS = (("4111", (150, 600)), ("4111", (150, 600)), ("4131", (800, 4_000)),
         ("7832", (2_000, 6_000)), ("5942", (1_000, 30_000)), ("5411", (500, 9_000)),
         ("4112", (2_000, 40_000)))  # fmt: skip


def partition_of(topic: str, key: str) -> int:
    """The partition Kafka's default partitioner gives `key` on `topic`."""
    return default_partition(key, PARTITIONS[topic])


@dataclass
class _Writer:
    rng: random.Random
    prefix: str
    phases: list[Phase] = field(default_factory=lambda: [[] for _ in range(5)])

    def event_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def at(self, day: date, hour: int | None = None) -> str:
        hour = self.rng.randrange(7, 23) if hour is None else hour
        moment = datetime(day.year, day.month, day.day, hour, self.rng.randrange(60), tzinfo=CST)
        return moment.isoformat()

    def enrol(self, phase: int, kind: str, member: str, at: str, **extra: Any) -> None:
        value = {"event_id": self.event_id(), "type": kind, "member_id": member,
                 "occurred_at": at, **extra}
        self.phases[phase].append((MEMBER_ENROLMENT, value))

    def swipe(self, phase: int, kind: str, card: str, amount: int, mcc: str, at: str,
              original: str | None = None) -> str:
        tx = f"{self.prefix}-t{self.rng.getrandbits(48):012x}"
        value: dict[str, Any] = {
            "event_id": self.event_id(), "type": kind, "transaction_id": tx, "card_id": card,
            "amount_fen": amount, "currency": "CNY", "merchant_id": f"{self.prefix}-s{mcc}",
            "merchant_name": f"商户 {mcc}", "mcc": mcc, "occurred_at": at}
        if original is not None:
            value["original_transaction_id"] = original
        self.phases[phase].append((CARD_TRANSACTIONS, value))
        return tx


def accident_feed(members: int = 2_000, seed: int = 2027, prefix: str = "acc",
                  swipes_per_card: int = 14) -> list[Phase]:
    """The phases: enrolment, bank and clock, enrolment, bank and clock, enrolment."""
    w = _Writer(random.Random(seed), prefix)  # noqa: S311  # synthetic: repeats from its seed
    for n in range(members):
        _member(w, n, _story(w.rng), swipes_per_card)
    day = FIRST_DAY
    while day <= LAST_DAY:
        tick = {"event_id": w.event_id(), "type": "day_started", "date": day.isoformat()}
        w.phases[1 if day < SPLIT else 3].append((CLOCK_DAYS, tick))
        day += timedelta(days=1)
    return [[*lines, *lines] for lines in w.phases]  # every message sent twice


def _story(rng: random.Random) -> str:
    return rng.choices([s for s, _ in STORIES], weights=[w for _, w in STORIES])[0]


def _member(w: _Writer, n: int, story: str, swipes: int) -> None:
    rng = w.rng
    member, card = f"{w.prefix}-m{n}", f"{w.prefix}-c{n}"
    birthday = _birthday(rng)
    joined = w.at(date(2026, 11, 1) + timedelta(days=rng.randrange(50)))
    registered = dict(birth_date=birthday.isoformat(), union_branch="zz", name=f"会员{n}")
    late = story in ("swipes_before_registration", "late_registration")
    w.enrol(4 if story == "late_registration" else 2 if late else 0, "member_registered",
            member, joined, **registered)
    if story == "corrected_birth_date":
        fixed = _birthday(rng)
        w.enrol(2 if rng.random() < 0.5 else 4, "member_updated", member,
                w.at(date(2027, 1, 2)), birth_date=fixed.isoformat())
    issue_phase = {"late_card": 2, "block_before_issue": 2, "swipes_before_registration": 2,
                   "late_registration": 4}.get(story, 0)
    w.enrol(issue_phase, "card_issued", member, joined, card_id=card)
    if story == "block_before_issue":
        w.enrol(0, "card_blocked", member, w.at(date(2027, 2, 1)), card_id=card)
    cards = [card]
    if story == "replaced_card":
        new = _same_partition(card, f"{card}-r")
        w.enrol(2, "card_cancelled", member, w.at(SPLIT, 6), card_id=card)
        w.enrol(2, "card_issued", member, w.at(SPLIT, 6), card_id=new)
        cards.append(new)
    if story == "left":
        w.enrol(2, "member_left", member, w.at(date(2027, 2, 15)))
    _awards(w, member)
    _swipes(w, cards, swipes)


def _birthday(rng: random.Random) -> date:
    """Often in the feed's quarter, so that its ticks pay gifts (29 February among them)."""
    if rng.random() < 0.02:
        return date(1992, 2, 29)
    if rng.random() < 0.5:
        return date(rng.randrange(1965, 2005), rng.randrange(1, 4), rng.randrange(1, 29))
    return date(rng.randrange(1965, 2005), rng.randrange(4, 13), rng.randrange(1, 29))


def _same_partition(card: str, stem: str) -> str:
    want = partition_of(CARD_TRANSACTIONS, card)
    k = 0
    while partition_of(CARD_TRANSACTIONS, f"{stem}{k}") != want:
        k += 1
    return f"{stem}{k}"


def _awards(w: _Writer, member: str) -> None:
    """Certifications and honours, some repeated within the year (the repeat is denied)."""
    rng = w.rng
    if rng.random() < 0.06:
        title = rng.choice(("technical_champion", "technical_pacesetter"))
        for month in (1, 2) if rng.random() < 0.5 else (1,):
            w.enrol(0, "member_honoured", member, w.at(date(2027, month, 10)), title=title)
    if rng.random() < 0.08:
        for month in (1, 3) if rng.random() < 0.4 else (2,):
            w.enrol(0 if month < 3 else 2, "member_certified", member,
                    w.at(date(2027, month, 12)), level="technician")


def _swipes(w: _Writer, cards: list[str], count: int) -> None:
    """Swipes over the quarter on the card in hand; refunds and reversals of some, a few of
    them sent before their purchase."""
    rng = w.rng
    days = sorted(FIRST_DAY + timedelta(days=rng.randrange(90)) for _ in range(count))
    for day in days:
        card = cards[-1] if day >= SPLIT else cards[0]
        phase = 1 if day < SPLIT else 3
        mcc, (low, high) = rng.choice(SHOPS)
        amount = rng.randrange(low, high)
        hour = rng.randrange(7, 21)
        refund = rng.random()
        if refund < 0.04:  # the refund is sent before its purchase
            tx = f"{w.prefix}-t{rng.getrandbits(48):012x}"
            w.swipe(phase, "refund", card, amount // 2, mcc, w.at(day, hour + 2), original=tx)
            _purchase(w, phase, card, amount, mcc, w.at(day, hour), tx)
            continue
        tx = w.swipe(phase, "purchase", card, amount, mcc, w.at(day, hour))
        if refund < 0.10:
            w.swipe(phase, "refund", card, rng.randrange(1, amount + 1), mcc,
                    w.at(day, hour + 1), original=tx)
            if refund < 0.06:  # and a second one, together more than the purchase
                w.swipe(phase, "refund", card, amount, mcc, w.at(day, hour + 2), original=tx)
        elif refund < 0.14:
            w.swipe(phase, "reversal", card, amount, mcc, w.at(day, hour + 1), original=tx)


def _purchase(w: _Writer, phase: int, card: str, amount: int, mcc: str, at: str,
              tx: str) -> None:
    value = {"event_id": w.event_id(), "type": "purchase", "transaction_id": tx,
             "card_id": card, "amount_fen": amount, "currency": "CNY",
             "merchant_id": f"{w.prefix}-s{mcc}", "merchant_name": f"商户 {mcc}", "mcc": mcc,
             "occurred_at": at}
    w.phases[phase].append((CARD_TRANSACTIONS, value))
