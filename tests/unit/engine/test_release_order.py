"""Rules 1-4 of docs/PRODUCT.md ("Events released together", blocks before issues, late
registrations), worked by hand with the reference catalogue's amounts."""

from __future__ import annotations

from engine.decisions import ClawedBack, Decision, Denied, Held, Paid, Released
from engine.simulator import Simulator
from tests.unit.engine.builders import Scenario

DAY = "2027-03-10"
ISSUED = "2027-01-01T00:00:00+08:00"


def _money(decisions: list[Decision]) -> list[tuple[str, str, int, str | None]]:
    """(kind, source transaction, amount, reason) of every decision but the releases."""
    return [(type(d).__name__, d.transaction_id or d.source_event_id, d.amount_fen, d.reason)
            for d in decisions if not isinstance(d, Released)]


def test_a_reversal_between_held_rides_frees_a_ride_for_the_next_one() -> None:
    """Rule 1, the first example: four rides held, then a fifth, a reversal of ride 1 and a
    sixth. When the card arrives the fifth is denied (4 a day), the reversal gives its ride
    back, and the sixth is paid."""
    s = Scenario()
    s.member("m1")
    rides = [s.events.purchase("c1", f"{DAY}T{7 + i:02d}:00:00+08:00", 200, tx=f"r{i + 1}")
             for i in range(6)]
    reversal = s.events.reversal("c1", "r1", f"{DAY}T20:00:00+08:00", 200, tx="rev1")
    for event in (*rides[:5], reversal, rides[5]):
        assert isinstance(s.one(event), Held)
    decided = s.feed(s.events.issued("m1", "c1", ISSUED))
    assert _money(decided) == [
        ("Paid", "r1", 100, None), ("Paid", "r2", 100, None), ("Paid", "r3", 100, None),
        ("Paid", "r4", 100, None), ("Denied", "r5", 0, "limit_reached:daily_rides"),
        ("ClawedBack", "r1", -100, None), ("Paid", "r6", 100, None),
    ]  # fmt: skip
    assert sum(d.amount_fen for d in decided) == 400
    assert s.sim.held() == []


def test_a_refund_held_months_earlier_frees_room_for_a_later_purchase() -> None:
    """Rule 1, the second example: books 20 %, at most 10,000 a year. A purchase earning
    8,000, its full refund, then a purchase of 50,000: the refund's room serves it in full."""
    s = Scenario()
    s.member("m1")
    first = s.events.purchase("c1", "2027-01-20T10:00:00+08:00", 40_000, "books", tx="b1")
    refund = s.events.refund("c1", "b1", "2027-02-01T10:00:00+08:00", 40_000, tx="rb1")
    later = s.events.purchase("c1", "2027-05-20T10:00:00+08:00", 50_000, "books", tx="b2")
    for event in (first, refund, later):
        assert isinstance(s.one(event), Held)
    decided = s.feed(s.events.issued("m1", "c1", ISSUED))
    assert _money(decided) == [
        ("Paid", "b1", 8_000, None), ("ClawedBack", "b1", -8_000, None),
        ("Paid", "b2", 10_000, None),
    ]  # fmt: skip


def test_a_refund_that_arrived_before_its_purchase_follows_it() -> None:
    """Both held for the card, the refund first: it waits for its purchase within the same
    release and is decided right after it, before what arrived after the purchase."""
    s = Scenario()
    s.member("m1")
    refund = s.events.reversal("c1", "r1", f"{DAY}T21:00:00+08:00", 200, tx="rev1")
    rides = [s.events.purchase("c1", f"{DAY}T{7 + i:02d}:00:00+08:00", 200, tx=f"r{i + 1}")
             for i in range(5)]
    for event in (refund, *rides):
        assert isinstance(s.one(event), Held)
    decided = s.feed(s.events.issued("m1", "c1", ISSUED))
    assert _money(decided) == [
        ("Paid", "r1", 100, None), ("ClawedBack", "r1", -100, None), ("Paid", "r2", 100, None),
        ("Paid", "r3", 100, None), ("Paid", "r4", 100, None), ("Paid", "r5", 100, None),
    ]  # fmt: skip


def test_held_honours_are_decided_in_the_order_they_arrived() -> None:
    """Rule 2: honoured twice in a year with the same title, both held for the member: the
    first to arrive (January) is paid, the second (February) denied."""
    s = Scenario()
    january = s.events.honoured("m1", "technical_pacesetter", "2027-01-15T10:00:00+08:00")
    february = s.events.honoured("m1", "technical_pacesetter", "2027-02-15T10:00:00+08:00")
    assert isinstance(s.one(january), Held)
    assert isinstance(s.one(february), Held)
    decided = s.feed(s.events.registered("m1", "2026-06-01T00:00:00+08:00"))
    assert _money(decided) == [
        ("Paid", january.event_id, 200_000, None),
        ("Denied", february.event_id, 0, "already_granted"),
    ]


def test_the_same_events_in_reverse_arrival_order_pay_the_other_honour() -> None:
    s = Scenario()
    january = s.events.honoured("m1", "technical_pacesetter", "2027-01-15T10:00:00+08:00")
    february = s.events.honoured("m1", "technical_pacesetter", "2027-02-15T10:00:00+08:00")
    s.one(february)
    s.one(january)
    decided = s.feed(s.events.registered("m1", "2026-06-01T00:00:00+08:00"))
    assert [d.source_event_id for d in decided if isinstance(d, Paid)] == [february.event_id]


def test_a_registration_after_its_birthday_tick_pays_that_days_gift() -> None:
    """Rule 4: the tick of 15 June finds nobody; the registration (member since May) arrives
    later and pays the gift, with that tick as its source."""
    s = Scenario()
    tick = s.events.day("2027-06-15")
    assert s.feed(tick) == []
    registration = s.events.registered("m1", "2027-05-01T00:00:00+08:00", born="1990-06-15")
    decided = s.feed(registration)
    assert [(type(d), d.amount_fen, d.source_event_id, d.programme) for d in decided] == [
        (Paid, 10_000, tick.event_id, "birthday")]
    on_time = Scenario()
    on_time.events = s.events
    on_time.feed(registration)
    gift = on_time.feed(tick)
    assert [d.to_payout() for d in gift] == [d.to_payout() for d in decided]
    assert s.feed(s.events.resend(registration)) == []
    assert s.feed(s.events.resend(tick)) == []


def test_a_registration_after_the_tick_but_after_midnight_pays_nothing() -> None:
    s = Scenario()
    s.feed(s.events.day("2027-06-15"))
    late = s.events.registered("m1", "2027-06-15T08:00:00+08:00", born="1990-06-15")
    assert s.feed(late) == []


def test_a_corrected_birth_date_pays_the_gift_of_a_day_already_ticked() -> None:
    s = Scenario()
    s.member("m1", born="1990-07-01")
    tick = s.events.day("2027-06-15")
    assert s.feed(tick) == []
    fixed = s.feed(s.events.updated("m1", "2027-06-20T00:00:00+08:00", birth_date="1990-06-15"))
    assert [(type(d), d.amount_fen, d.source_event_id) for d in fixed] == [
        (Paid, 10_000, tick.event_id)]
    again = s.feed(s.events.updated("m1", "2027-06-21T00:00:00+08:00", union_branch="b2"))
    assert again == []


def test_a_member_judged_by_the_tick_is_not_judged_again_by_a_later_registration() -> None:
    s = Scenario()
    s.member("m1", born="1990-06-15")
    paid = s.feed(s.events.day("2027-06-15"))
    assert [type(d) for d in paid] == [Paid]
    rejoined = s.feed(s.events.registered("m1", "2027-07-01T00:00:00+08:00", born="1990-06-15"))
    assert rejoined == []


def test_a_leap_day_birthday_registered_after_the_28_february_tick() -> None:
    s = Scenario()
    tick = s.events.day("2027-02-28")
    s.feed(tick)
    decided = s.feed(s.events.registered("m1", "2026-01-01T00:00:00+08:00", born="2000-02-29"))
    assert [(d.amount_fen, d.source_event_id) for d in decided] == [(10_000, tick.event_id)]


def test_arrival_order_is_what_a_service_gives() -> None:
    """Given explicit (topic, partition, offset), releases follow it, not the feeding order."""
    from engine.state import Arrival

    s = Scenario()
    s.member("m1")
    sim: Simulator = s.sim
    late = s.events.honoured("m1x", "technical_champion", "2027-02-15T10:00:00+08:00")
    early = s.events.honoured("m1x", "technical_champion", "2027-01-15T10:00:00+08:00")
    sim.feed(late, Arrival("member.enrolment", 3, 20))
    sim.feed(early, Arrival("member.enrolment", 3, 10))
    decided = sim.feed(s.events.registered("m1x", "2026-01-01T00:00:00+08:00"),
                       Arrival("member.enrolment", 3, 30))
    assert [d.source_event_id for d in decided if isinstance(d, Paid)] == [early.event_id]
    assert [type(d) for d in decided if not isinstance(d, Released)] == [Paid, Denied]
    assert not any(isinstance(d, ClawedBack) for d in decided)
