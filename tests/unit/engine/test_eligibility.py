"""Who may be paid: judged at the swipe's own time; unknown cards wait; resends change nothing."""

from __future__ import annotations

from engine.decisions import Denied, Held, Paid, Released
from tests.unit.engine.builders import Scenario, amounts

RIDE_AT = "2027-03-10T09:00:00+08:00"


def test_a_blocked_card_pays_nothing_from_the_moment_it_is_blocked() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.feed(s.events.blocked("m1", "c1", "2027-03-10T08:00:00+08:00"))
    after = s.buy("c1", RIDE_AT, 200)
    at_the_moment = s.buy("c1", "2027-03-10T08:00:00+08:00", 200)
    before = s.buy("c1", "2027-03-10T07:59:59+08:00", 200)  # arrives late: still paid
    assert (type(after), after.reason, after.member_id) == (Denied, "card_blocked", "m1")
    assert at_the_moment.reason == "card_blocked"
    assert (type(before), before.amount_fen) == (Paid, 100)


def test_a_cancelled_card() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.feed(s.events.cancelled("m1", "c1", "2027-03-01T00:00:00+08:00"))
    assert s.buy("c1", RIDE_AT, 200).reason == "card_cancelled"


def test_a_member_who_left() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.feed(s.events.left("m1", "2027-03-10T08:00:00+08:00"))
    after = s.buy("c1", RIDE_AT, 200)
    before = s.buy("c1", "2027-03-09T09:00:00+08:00", 200)
    assert (type(after), after.reason) == (Denied, "member_left")
    assert (type(before), before.amount_fen) == (Paid, 100)


def test_a_member_who_rejoined() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.feed(s.events.left("m1", "2027-03-01T00:00:00+08:00"))
    s.feed(s.events.registered("m1", "2027-03-05T00:00:00+08:00"))
    gap = s.buy("c1", "2027-03-03T09:00:00+08:00", 200)
    back = s.buy("c1", RIDE_AT, 200)
    assert gap.reason == "member_left"
    assert back.amount_fen == 100


def test_a_swipe_before_the_card_was_issued() -> None:
    s = Scenario()
    s.member("m1", card="c1", since="2027-03-10T12:00:00+08:00")
    early = s.buy("c1", RIDE_AT, 200)
    assert (type(early), early.reason) == (Denied, "card_not_issued")


def test_a_swipe_on_a_card_issued_to_someone_not_registered() -> None:
    s = Scenario()
    s.member("m1", card="c1", since="2027-03-10T12:00:00+08:00")
    s.feed(s.events.issued("m1", "c2", "2027-03-01T00:00:00+08:00"))
    assert s.buy("c2", RIDE_AT, 200).reason == "not_registered"


def test_a_swipe_whose_card_is_not_known_yet_waits_and_is_decided_as_of_its_time() -> None:
    s = Scenario()
    early = s.events.purchase("c1", RIDE_AT, 200, tx="p1")
    late = s.events.purchase("c1", "2027-03-12T09:00:00+08:00", 200, tx="p2")
    held = [s.one(early), s.one(late)]
    assert all(isinstance(h, Held) and h.key == "c1" for h in held)
    assert [h.reason for h in held] == ["waiting_for_card"] * 2
    assert [i.event_id for i in s.sim.held()] == [early.event_id, late.event_id]
    assert s.feed(s.events.registered("m1", "2027-01-01T00:00:00+08:00")) == []
    # the card reaches the member between the two swipes
    decided = s.feed(s.events.issued("m1", "c1", "2027-03-11T00:00:00+08:00"))
    assert [(type(d), d.source_event_id, d.reason) for d in decided] == [
        (Released, early.event_id, "card_arrived"),
        (Denied, early.event_id, "card_not_issued"),
        (Released, late.event_id, "card_arrived"),
        (Paid, late.event_id, None),
    ]
    assert s.sim.held() == []


def test_any_swipe_on_an_unknown_card_waits_even_one_no_programme_pays() -> None:
    s = Scenario()
    shop = s.events.purchase("c1", RIDE_AT, 5_000, "5411")
    assert s.one(shop).reason == "waiting_for_card"
    s.member("m1")
    decided = s.feed(s.events.issued("m1", "c1", "2027-01-01T00:00:00+08:00"))
    assert [(type(d), d.reason, d.member_id) for d in decided] == [
        (Released, "card_arrived", None),
        (Denied, "no_programme_matched", "m1"),
    ]


def test_a_resent_message_changes_nothing() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    ride = s.events.purchase("c1", RIDE_AT, 200)
    assert amounts(s.feed(ride)) == [("Paid", 100, None)]
    assert s.feed(s.events.resend(ride)) == []
    assert s.sim.ledger.budget_spent[("green_commute", 2027)] == 100


def test_a_resent_held_message_is_held_once() -> None:
    s = Scenario()
    ride = s.events.purchase("c1", RIDE_AT, 200)
    s.one(ride)
    assert s.feed(s.events.resend(ride)) == []
    assert len(s.sim.held()) == 1


def test_the_same_transaction_under_a_new_event_id_is_a_duplicate() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    first = s.buy("c1", RIDE_AT, 200, tx="bank-1")
    again = s.buy("c1", RIDE_AT, 200, tx="bank-1")
    assert first.amount_fen == 100
    assert (type(again), again.reason, again.transaction_id) == (
        Denied,
        "duplicate_transaction",
        "bank-1",
    )
    assert (again.member_id, again.programme) == ("m1", "green_commute")
    assert s.sim.ledger.budget_spent[("green_commute", 2027)] == 100


def test_a_duplicate_of_a_purchase_that_earned_nothing_is_still_a_duplicate() -> None:
    s = Scenario()
    s.member("m9", card="c9")
    assert s.buy("c9", RIDE_AT, 5_000, "5411", tx="bank-1").reason == "no_programme_matched"
    assert s.buy("c9", RIDE_AT, 5_000, "5411", tx="bank-1").reason == "duplicate_transaction"


def test_a_card_reissued_to_another_member() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.member("m2")
    s.feed(s.events.issued("m2", "c1", "2027-03-01T00:00:00+08:00"))
    before = s.buy("c1", "2027-02-20T09:00:00+08:00", 200)
    after = s.buy("c1", RIDE_AT, 200)
    assert (before.member_id, after.member_id) == ("m1", "m2")


def test_a_block_of_a_card_not_issued_yet_releases_nothing() -> None:
    """Rule 3: the swipe waits for the issue; the block still ends the card from its time."""
    s = Scenario()
    s.member("m1")
    ride = s.events.purchase("c1", RIDE_AT, 200)
    after_block = s.events.purchase("c1", "2027-03-12T09:00:00+08:00", 200)
    assert isinstance(s.one(ride), Held)
    assert s.feed(s.events.blocked("m1", "c1", "2027-03-11T00:00:00+08:00")) == []
    assert isinstance(s.one(after_block), Held)
    decided = s.feed(s.events.issued("m1", "c1", "2027-03-01T00:00:00+08:00"))
    assert [(type(d), d.reason, d.amount_fen) for d in decided] == [
        (Released, "card_arrived", 0),
        (Paid, None, 100),
        (Released, "card_arrived", 0),
        (Denied, "card_blocked", 0),
    ]
    assert s.sim.held() == []


def test_member_details_can_change() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.feed(s.events.updated("m1", "2027-02-01T00:00:00+08:00", union_branch="rail"))
    member = s.sim.ledger.members["m1"]
    assert (member.union_branch, str(member.birth_date)) == ("rail", "1990-06-15")
    assert s.buy("c1", RIDE_AT, 200).amount_fen == 100
