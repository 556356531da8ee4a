"""Refunds and reversals claw back what the purchase earned, and free room for later events."""

from __future__ import annotations

import pytest

from engine.decisions import ClawedBack, Held, NoChange, Paid, Released
from tests.unit.engine.builders import CATALOGUE, Scenario, amounts

BOUGHT = "2027-03-10T12:00:00+08:00"
LATER = "2027-03-11T12:00:00+08:00"


def _bought(amount: int = 999, mcc: str = "books", s: Scenario | None = None) -> Scenario:
    s = s or Scenario()
    s.member("m1", card="c1")
    s.buy("c1", BOUGHT, amount, mcc, tx="p1")
    return s


def _refunds(s: Scenario, *parts: int | str) -> list[tuple[str, int, str | None]]:
    """Feed refunds of p1 (an int) or a reversal ("reversal"), in order."""
    decided = []
    for part in parts:
        if part == "reversal":
            event = s.events.reversal("c1", "p1", LATER, 999)
        else:
            assert isinstance(part, int)
            event = s.events.refund("c1", "p1", LATER, part)
        decided.extend(s.feed(event))
    return amounts(decided)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        # 999 earned 199; refunds of a third each: floor(199*333/999)=66, then 132, then 199
        ((333, 333, 333), [-66, -66, -67]),
        ((333, "reversal"), [-66, -133]),
        (("reversal",), [-199]),
        ((999,), [-199]),
        ((5_000,), [-199]),  # a refund beyond the purchase counts as the purchase
        ((500, 500), [-99, -100]),
        ((5, 1), [0, -1]),  # floor(199*5/999)=0 claws nothing back yet; floor(199*6/999)=1
    ],
)
def test_the_member_keeps_earned_less_its_refunded_share(
    parts: tuple[int | str, ...], expected: list[int]
) -> None:
    s = _bought()
    got = _refunds(s, *parts)
    assert [amount for _, amount, _ in got] == expected
    assert sum(expected) >= -199


def test_refunds_after_a_full_clawback_change_nothing() -> None:
    s = _bought()
    assert _refunds(s, 999, 10, "reversal") == [
        ("ClawedBack", -199, None),
        ("NoChange", 0, "already_fully_clawed_back"),
        ("NoChange", 0, "already_fully_clawed_back"),
    ]


def test_a_refund_too_small_to_claw_back_says_so() -> None:
    s = _bought()
    assert _refunds(s, 5) == [("NoChange", 0, "nothing_to_claw_back")]


def test_a_clawback_is_a_negative_payout_linked_to_the_purchase() -> None:
    s = _bought()
    refund = s.events.refund("c1", "p1", LATER, 333, tx="r1")
    (clawback,) = s.feed(refund)
    assert isinstance(clawback, ClawedBack)
    payout = clawback.to_payout()
    assert (payout.kind, payout.amount_fen, payout.transaction_id) == ("clawback", -66, "p1")
    assert (payout.member_id, payout.programme, payout.period) == ("m1", "books", "2027")
    assert payout.source_event_id == refund.event_id
    assert clawback.refund_transaction_id == "r1"


def test_a_refund_of_a_purchase_that_earned_nothing_is_audited_only() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.buy("c1", BOUGHT, 5_000, "5411", tx="p1")
    (decision,) = s.feed(s.events.refund("c1", "p1", LATER, 5_000))
    assert (type(decision), decision.reason) == (NoChange, "purchase_earned_nothing")
    assert decision.to_audit().decision == "no_change"


def test_a_refund_before_its_purchase_waits_for_it() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    refund = s.events.refund("c1", "p1", LATER, 333)
    (held,) = s.feed(refund)
    assert isinstance(held, Held)
    assert (held.waiting_for, held.key) == ("purchase", "p1")
    assert [item.key for item in s.sim.held()] == ["p1"]
    decided = s.feed(s.events.purchase("c1", BOUGHT, 999, "books", tx="p1"))
    assert [(type(d), d.amount_fen) for d in decided] == [
        (Paid, 199),
        (Released, 0),
        (ClawedBack, -66),
    ]
    assert s.sim.held() == []


def test_a_refund_waits_for_a_purchase_that_waits_for_its_card() -> None:
    s = Scenario()
    s.member("m1")
    s.feed(s.events.purchase("c1", BOUGHT, 999, "books", tx="p1"))
    s.feed(s.events.reversal("c1", "p1", LATER, 999))
    decided = s.feed(s.events.issued("m1", "c1", "2027-01-01T00:00:00+08:00"))
    assert [(type(d).__name__, d.amount_fen, d.reason) for d in decided] == [
        ("Released", 0, "card_arrived"),
        ("Paid", 199, None),
        ("Released", 0, "purchase_arrived"),
        ("ClawedBack", -199, None),
    ]


def test_a_refund_resent_under_a_new_event_id_is_a_duplicate() -> None:
    s = _bought()
    s.feed(s.events.refund("c1", "p1", LATER, 333, tx="r1"))
    (again,) = s.feed(s.events.refund("c1", "p1", LATER, 333, tx="r1"))
    assert again.reason == "duplicate_transaction"


def test_a_clawback_frees_money_room_for_later_purchases_only() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    first = s.buy("c1", "2027-03-01T12:00:00+08:00", 30_000, "books", tx="p1")
    second = s.buy("c1", "2027-03-02T12:00:00+08:00", 30_000, "books", tx="p2")
    assert (first.amount_fen, second.amount_fen) == (6_000, 4_000)
    assert amounts(s.feed(s.events.reversal("c1", "p1", LATER, 30_000))) == [
        ("ClawedBack", -6_000, None)
    ]  # nothing is decided again: the cut purchase stays cut
    third = s.buy("c1", "2027-03-12T12:00:00+08:00", 40_000, "books")
    assert (third.amount_fen, third.reason) == (6_000, "limit_reached:yearly_money")


def test_a_clawback_gives_back_the_room_of_the_period_the_purchase_counted_in() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    for day in range(1, 11):
        for hour in range(4):
            s.buy("c1", f"2027-03-{day:02d}T{8 + hour:02d}:00:00+08:00", 200, tx=f"p{day}-{hour}")
    refund = s.events.reversal("c1", "p1-0", "2027-04-02T12:00:00+08:00", 200)
    assert amounts(s.feed(refund)) == [("ClawedBack", -100, None)]
    ledger = s.sim.ledger.usage
    march = [u for k, u in ledger.items() if k.limit == "monthly_money" and k.period == "2027-03"]
    assert [u.fen for u in march] == [3_900]
    late_march = s.buy("c1", "2027-03-31T09:00:00+08:00", 200)
    assert late_march.amount_fen == 100


def test_a_reversal_gives_back_the_count_and_a_refund_does_not() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    for day, tx in ((1, "t1"), (2, "t2")):
        s.buy("c1", f"2027-03-0{day}T20:00:00+08:00", 5_000, "cinema", tx=tx)
    s.feed(s.events.refund("c1", "t1", "2027-03-03T10:00:00+08:00", 5_000))
    still_two = s.buy("c1", "2027-03-04T20:00:00+08:00", 5_000, "cinema")
    assert still_two.reason == "limit_reached:monthly_tickets"
    s.feed(s.events.reversal("c1", "t2", "2027-03-05T10:00:00+08:00", 5_000))
    freed = s.buy("c1", "2027-03-06T20:00:00+08:00", 5_000, "cinema")
    assert (freed.amount_fen, freed.reason) == (3_000, None)


def test_a_reversal_after_a_full_refund_still_gives_back_the_count() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    for day, tx in ((1, "t1"), (2, "t2")):
        s.buy("c1", f"2027-03-0{day}T20:00:00+08:00", 5_000, "cinema", tx=tx)
    s.feed(s.events.refund("c1", "t1", "2027-03-03T10:00:00+08:00", 5_000))
    (no_change,) = s.feed(s.events.reversal("c1", "t1", "2027-03-03T11:00:00+08:00", 5_000))
    assert no_change.reason == "already_fully_clawed_back"
    assert s.buy("c1", "2027-03-06T20:00:00+08:00", 5_000, "cinema").amount_fen == 3_000


def test_a_clawback_gives_back_budget_in_the_year_the_purchase_counted_in() -> None:
    s = Scenario(CATALOGUE.with_budgets({"books": 1_000}))
    s.member("m1", card="c1")
    s.buy("c1", "2027-12-31T12:00:00+08:00", 5_000, "books", tx="p1")
    assert s.sim.budget_left("books", 2027) == 0
    s.feed(s.events.refund("c1", "p1", "2028-01-02T12:00:00+08:00", 2_500))
    assert (s.sim.budget_left("books", 2027), s.sim.budget_left("books", 2028)) == (500, 1_000)
