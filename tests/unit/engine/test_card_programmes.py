"""Card programmes, one table per programme, with the boundaries of each rule."""

from __future__ import annotations

import pytest

from engine.decisions import Denied, Paid
from tests.unit.engine.builders import CATALOGUE, Scenario


def _first_purchase(at: str, amount: int, mcc: str) -> tuple[str, int, str | None, str | None]:
    """(decision, amount, programme, reason-or-period) of one purchase by a fresh member."""
    s = Scenario()
    s.member("m1", card="c1")
    d = s.buy("c1", at, amount, mcc)
    return type(d).__name__, d.amount_fen, d.programme, d.reason or d.period


@pytest.mark.parametrize(
    ("at", "amount", "mcc", "expected"),
    [
        # the window's first day, in Shanghai time
        ("2027-02-06T00:00:00+08:00", 3_001, "rail", ("Paid", 1_500, "return_trip", "window:2027")),
        ("2027-02-05T16:00:00+00:00", 3_001, "rail", ("Paid", 1_500, "return_trip", "window:2027")),
        ("2027-02-05T23:59:59+08:00", 3_001, "rail", ("Denied", 0, None, "no_programme_matched")),
        # the last day, and the day after
        ("2027-03-07T23:59:59+08:00", 3_001, "rail", ("Paid", 1_500, "return_trip", "window:2027")),
        ("2027-03-08T00:00:00+08:00", 3_001, "rail", ("Denied", 0, None, "no_programme_matched")),
        ("2027-03-07T16:00:00+00:00", 3_001, "rail", ("Denied", 0, None, "no_programme_matched")),
        # a coach from 2,000 fen is a trip home; below that (or outside the window) a commute
        (
            "2027-02-10T09:00:00+08:00",
            2_000,
            "coach",
            ("Paid", 1_000, "return_trip", "window:2027"),
        ),
        ("2027-02-10T09:00:00+08:00", 1_999, "coach", ("Paid", 100, "green_commute", "2027-02")),
        ("2027-03-10T09:00:00+08:00", 5_000, "coach", ("Paid", 100, "green_commute", "2027-03")),
        # a metro ride: half, at most 100 a ride
        ("2027-03-10T09:00:00+08:00", 199, "metro", ("Paid", 99, "green_commute", "2027-03")),
        ("2027-03-10T09:00:00+08:00", 1, "metro", ("Denied", 0, "green_commute", "nothing_to_pay")),
        ("2027-03-31T16:30:00+00:00", 300, "metro", ("Paid", 100, "green_commute", "2027-04")),
        # cinema: the member pays 9.90, at most 30.00 back; nothing at or below 9.90
        ("2027-03-10T20:00:00+08:00", 4_500, "cinema", ("Paid", 3_000, "cinema", "2027-03")),
        ("2027-03-10T20:00:00+08:00", 3_990, "cinema", ("Paid", 3_000, "cinema", "2027-03")),
        ("2027-03-10T20:00:00+08:00", 2_500, "cinema", ("Paid", 1_510, "cinema", "2027-03")),
        ("2027-03-10T20:00:00+08:00", 991, "cinema", ("Paid", 1, "cinema", "2027-03")),
        ("2027-03-10T20:00:00+08:00", 990, "cinema", ("Denied", 0, "cinema", "nothing_to_pay")),
        # books: a fifth, rounded down, at most 100.00 a year
        ("2027-03-10T12:00:00+08:00", 999, "books", ("Paid", 199, "books", "2027")),
        (
            "2027-03-10T12:00:00+08:00",
            80_000,
            "books",
            ("Paid", 10_000, "books", "limit_reached:yearly_money"),
        ),
        ("2027-03-10T12:00:00+08:00", 4, "books", ("Denied", 0, "books", "nothing_to_pay")),
        # no programme for a supermarket
        ("2027-03-10T12:00:00+08:00", 10_000, "5411", ("Denied", 0, None, "no_programme_matched")),
    ],
)
def test_what_one_purchase_earns(
    at: str, amount: int, mcc: str, expected: tuple[str, int, str | None, str | None]
) -> None:
    assert _first_purchase(at, amount, mcc) == expected


def test_the_return_window_money_limit_cuts_then_denies() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    paid = [s.buy("c1", f"2027-02-{10 + i}T09:00:00+08:00", 16_000, "rail") for i in range(4)]
    assert [(d.amount_fen, d.reason) for d in paid] == [
        (8_000, None),
        (8_000, None),
        (4_000, "limit_reached:window_money"),
        (0, "limit_reached:window_money"),
    ]
    assert paid[2].decision == "cut"
    assert isinstance(paid[3], Denied)


def test_a_purchase_funds_only_its_first_programme_even_when_that_pays_nothing() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.buy("c1", "2027-02-10T09:00:00+08:00", 40_000, "rail")  # uses the whole window limit
    coach = s.buy("c1", "2027-02-11T09:00:00+08:00", 3_000, "coach")
    assert (type(coach), coach.programme, coach.reason) == (
        Denied,
        "return_trip",
        "limit_reached:window_money",
    )


def _rides(s: Scenario, day: str, count: int, amount: int = 200) -> list[tuple[int, str | None]]:
    decisions = [s.buy("c1", f"{day}T{8 + i:02d}:00:00+08:00", amount) for i in range(count)]
    return [(d.amount_fen, d.reason) for d in decisions]


def test_the_fifth_ride_of_a_day_is_denied() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    assert _rides(s, "2027-03-10", 5) == [(100, None)] * 4 + [(0, "limit_reached:daily_rides")]
    assert _rides(s, "2027-03-11", 1) == [(100, None)]


def test_days_are_shanghai_days() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    late = [s.buy("c1", f"2027-03-10T15:{i:02d}:00+00:00", 200) for i in range(4)]
    after_midnight = s.buy("c1", "2027-03-10T16:00:00+00:00", 200)  # 00:00 on the 11th
    assert all(d.amount_fen == 100 for d in late)
    assert (after_midnight.amount_fen, after_midnight.reason) == (100, None)


def test_a_refused_ride_does_not_count_towards_the_daily_rides() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    assert _rides(s, "2027-03-10", 2, amount=1) == [(0, "nothing_to_pay")] * 2
    assert _rides(s, "2027-03-10", 5) == [(100, None)] * 4 + [(0, "limit_reached:daily_rides")]


def test_the_monthly_money_limit_cuts_the_fourth_ride_of_a_day() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    for day in range(1, 10):  # 9 days of 4 rides: 3,600 of 4,000
        assert _rides(s, f"2027-03-{day:02d}", 4) == [(100, None)] * 4
    assert _rides(s, "2027-03-10", 1, amount=100) == [(50, None)]  # 3,650
    assert _rides(s, "2027-03-11", 4) == [
        (100, None),
        (100, None),
        (100, None),
        (50, "limit_reached:monthly_money"),
    ]
    assert _rides(s, "2027-03-12", 1) == [(0, "limit_reached:monthly_money")]
    assert _rides(s, "2027-04-01", 1) == [(100, None)]


def test_a_month_is_a_shanghai_month() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    for day in range(1, 11):
        _rides(s, f"2027-03-{day:02d}", 4)  # 4,000: March is used up
    march = s.buy("c1", "2027-03-31T15:59:59+00:00", 200)
    april = s.buy("c1", "2027-03-31T16:30:00+00:00", 200)
    assert (march.reason, march.period) == ("limit_reached:monthly_money", "2027-03")
    assert (april.amount_fen, april.period) == (100, "2027-04")


def test_two_paid_cinema_tickets_a_month() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    tickets = [s.buy("c1", f"2027-03-{d:02d}T20:00:00+08:00", 5_000, "cinema") for d in (1, 2, 3)]
    assert [(t.amount_fen, t.reason) for t in tickets] == [
        (3_000, None),
        (3_000, None),
        (0, "limit_reached:monthly_tickets"),
    ]
    assert s.buy("c1", "2027-04-01T20:00:00+08:00", 5_000, "cinema").amount_fen == 3_000


def test_books_yearly_limit() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    bought = [s.buy("c1", f"2027-0{m}-01T12:00:00+08:00", 30_000, "books") for m in (3, 4, 5)]
    assert [(b.amount_fen, b.reason) for b in bought] == [
        (6_000, None),
        (4_000, "limit_reached:yearly_money"),
        (0, "limit_reached:yearly_money"),
    ]
    assert s.buy("c1", "2028-01-01T00:00:00+08:00", 30_000, "books").amount_fen == 6_000


def test_limits_belong_to_the_member_not_the_card() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.feed(s.events.issued("m1", "c2", "2027-01-01T09:00:00+08:00"))
    s.member("m2", card="c3")
    s.buy("c1", "2027-03-01T20:00:00+08:00", 5_000, "cinema")
    s.buy("c2", "2027-03-02T20:00:00+08:00", 5_000, "cinema")
    third = s.buy("c2", "2027-03-03T20:00:00+08:00", 5_000, "cinema")
    other = s.buy("c3", "2027-03-03T20:00:00+08:00", 5_000, "cinema")
    assert third.reason == "limit_reached:monthly_tickets"
    assert (other.member_id, other.amount_fen) == ("m2", 3_000)


def test_a_budget_cuts_the_last_payout_then_denies() -> None:
    s = Scenario(CATALOGUE.with_budgets({"books": 1_500}))
    s.member("m1", card="c1")
    s.member("m2", card="c2")
    first = s.buy("c1", "2027-03-01T12:00:00+08:00", 5_000, "books")
    second = s.buy("c2", "2027-03-02T12:00:00+08:00", 5_000, "books")
    third = s.buy("c1", "2027-03-03T12:00:00+08:00", 5_000, "books")
    assert (first.amount_fen, first.reason) == (1_000, None)
    assert (second.amount_fen, second.reason, second.decision) == (500, "budget_exhausted", "cut")
    assert (type(third), third.reason) == (Denied, "budget_exhausted")
    assert s.sim.budget_left("books", 2027) == 0
    assert s.buy("c1", "2028-01-01T00:00:00+08:00", 5_000, "books").amount_fen == 1_000
    assert s.sim.budget_left("books", 2028) == 500


def test_the_budget_year_is_the_shanghai_year() -> None:
    s = Scenario(CATALOGUE.with_budgets({"books": 1_000}))
    s.member("m1", card="c1")
    s.buy("c1", "2027-06-01T12:00:00+08:00", 5_000, "books")
    new_year = s.buy("c1", "2027-12-31T16:00:00+00:00", 5_000, "books")
    assert (type(new_year), new_year.amount_fen, new_year.period) == (Paid, 1_000, "2028")


def test_the_trace_explains_a_cut() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    s.buy("c1", "2027-03-01T12:00:00+08:00", 45_000, "books")
    cut = s.buy("c1", "2027-03-02T12:00:00+08:00", 10_000, "books")
    rules = [step.rule for step in cut.to_audit().trace]
    assert rules == ["matched", "amount_percent", "yearly_money", "budget", "final"]
    limit = cut.trace[2]
    assert limit == ("yearly_money", "money", "2027", 9_000, 10_000, 1_000, 1_000)
