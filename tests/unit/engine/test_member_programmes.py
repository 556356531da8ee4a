"""Birthday gifts, skill upgrades and craft awards."""

from __future__ import annotations

import pytest

from engine.decisions import Denied, Held, Paid, Released
from tests.unit.engine.builders import Scenario, amounts


def _born(born: str, since: str = "2020-01-01T00:00:00+08:00") -> Scenario:
    s = Scenario()
    s.member("m1", born=born, since=since)
    return s


@pytest.mark.parametrize(
    ("born", "day", "paid"),
    [
        ("1990-06-15", "2027-06-15", True),
        ("1990-06-15", "2027-06-14", False),
        ("2000-02-29", "2027-02-28", True),  # 2027 is a common year
        ("2000-02-29", "2027-03-01", False),
        ("2000-02-29", "2028-02-28", False),  # 2028 is a leap year: wait for the 29th
        ("2000-02-29", "2028-02-29", True),
        ("2001-02-28", "2027-02-28", True),
        ("2001-02-28", "2028-02-28", True),
    ],
)
def test_whose_birthday_a_day_is(born: str, day: str, paid: bool) -> None:
    s = _born(born)
    expected = [("Paid", 10_000, None)] if paid else []
    assert amounts(s.feed(s.events.day(day))) == expected


def test_a_birthday_gift_is_a_payout_in_the_year() -> None:
    s = _born("1990-06-15")
    day = s.events.day("2027-06-15")
    (gift,) = s.feed(day)
    assert isinstance(gift, Paid)
    payout = gift.to_payout()
    assert (payout.programme, payout.period, payout.transaction_id) == ("birthday", "2027", None)
    assert payout.occurred_at.isoformat() == "2027-06-15T00:00:00+08:00"
    assert payout.source_event_id == day.event_id


@pytest.mark.parametrize(
    ("since", "reason"),
    [
        ("2027-06-15T00:00:00+08:00", None),  # registered at 00:00 exactly
        ("2027-06-14T16:00:00+00:00", None),  # the same instant in UTC
        ("2027-06-15T00:00:01+08:00", "not_registered"),
        ("2027-06-15T09:00:00+08:00", "not_registered"),
    ],
)
def test_a_member_registered_at_midnight_of_the_birthday(since: str, reason: str | None) -> None:
    s = _born("1990-06-15", since=since)
    (decision,) = s.feed(s.events.day("2027-06-15"))
    assert decision.reason == reason


def test_a_member_who_left_before_the_birthday() -> None:
    s = _born("1990-06-15")
    s.feed(s.events.left("m1", "2027-06-14T23:00:00+08:00"))
    (decision,) = s.feed(s.events.day("2027-06-15"))
    assert (type(decision), decision.reason) == (Denied, "member_left")


def test_one_birthday_gift_a_year() -> None:
    s = _born("1990-06-15")
    assert amounts(s.feed(s.events.day("2027-06-15"))) == [("Paid", 10_000, None)]
    assert amounts(s.feed(s.events.day("2027-06-15"))) == [("Denied", 0, "already_granted")]
    assert amounts(s.feed(s.events.day("2028-06-15"))) == [("Paid", 10_000, None)]


def test_everyone_born_that_day_in_member_order() -> None:
    s = Scenario()
    for member in ("m3", "m1", "m2"):
        s.member(member, born="1990-06-15", since="2020-01-01T00:00:00+08:00")
    s.member("m4", born="1990-06-16", since="2020-01-01T00:00:00+08:00")
    gifts = s.feed(s.events.day("2027-06-15"))
    assert [(g.member_id, g.amount_fen) for g in gifts] == [
        ("m1", 10_000),
        ("m2", 10_000),
        ("m3", 10_000),
    ]
    assert len({g.to_payout().payout_id for g in gifts if isinstance(g, Paid)}) == 3


def test_a_changed_birth_date_moves_the_birthday() -> None:
    s = _born("1990-06-15")
    s.feed(s.events.updated("m1", "2027-01-01T00:00:00+08:00", birth_date="1990-07-01"))
    assert s.feed(s.events.day("2027-06-15")) == []
    assert amounts(s.feed(s.events.day("2027-07-01"))) == [("Paid", 10_000, None)]


def test_skill_upgrade_once_per_level_ever() -> None:
    s = _born("1990-06-15")
    feed = [
        s.events.certified("m1", "technician", "2027-03-01T10:00:00+08:00"),
        s.events.certified("m1", "technician", "2027-04-01T10:00:00+08:00"),
        s.events.certified("m1", "senior_technician", "2027-05-01T10:00:00+08:00"),
        s.events.certified("m1", "technician", "2029-01-01T10:00:00+08:00"),
    ]
    decided = [s.one(event) for event in feed]
    assert [(d.amount_fen, d.reason, d.period) for d in decided] == [
        (100_000, None, "ever"),
        (0, "already_granted", "ever"),
        (200_000, None, "ever"),
        (0, "already_granted", "ever"),
    ]


def test_craft_award_once_per_title_per_year() -> None:
    s = _born("1990-06-15")
    feed = [
        s.events.honoured("m1", "technical_champion", "2027-03-01T10:00:00+08:00"),
        s.events.honoured("m1", "technical_champion", "2027-11-01T10:00:00+08:00"),
        s.events.honoured("m1", "technical_pacesetter", "2027-11-02T10:00:00+08:00"),
        s.events.honoured("m1", "technical_champion", "2027-12-31T16:00:00+00:00"),  # 2028
    ]
    decided = [s.one(event) for event in feed]
    assert [(d.amount_fen, d.reason, d.period) for d in decided] == [
        (500_000, None, "2027"),
        (0, "already_granted", "2027"),
        (200_000, None, "2027"),
        (500_000, None, "2028"),
    ]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("certified", "not_registered"),
        ("honoured", "not_registered"),
    ],
)
def test_awards_need_a_member_registered_at_the_time(event: str, reason: str) -> None:
    s = _born("1990-06-15", since="2027-06-01T00:00:00+08:00")
    award = (
        s.events.certified("m1", "technician", "2027-05-01T00:00:00+08:00")
        if event == "certified"
        else s.events.honoured("m1", "technical_champion", "2027-05-01T00:00:00+08:00")
    )
    assert s.one(award).reason == reason


def test_an_award_for_a_member_not_known_yet_waits_for_the_registration() -> None:
    s = Scenario()
    award = s.events.honoured("m1", "technical_pacesetter", "2027-05-01T10:00:00+08:00")
    (held,) = s.feed(award)
    assert (type(held), held.reason) == (Held, "waiting_for_member")
    decided = s.feed(s.events.registered("m1", "2027-04-01T00:00:00+08:00"))
    assert [(type(d), d.source_event_id, d.amount_fen) for d in decided] == [
        (Released, award.event_id, 0),
        (Paid, award.event_id, 200_000),
    ]


def test_an_award_before_the_registration_it_waited_for_is_denied() -> None:
    s = Scenario()
    s.feed(s.events.certified("m1", "technician", "2027-05-01T10:00:00+08:00"))
    decided = s.feed(s.events.registered("m1", "2027-06-01T00:00:00+08:00"))
    assert amounts(decided) == [("Released", 0, "member_arrived"), ("Denied", 0, "not_registered")]
