"""Money rounds down; periods are Shanghai calendar periods of the event's own time."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.money import percent_of, share_of, yuan
from engine.periods import (
    Period,
    birthday_in,
    birthdays_on,
    local_date,
    period_key,
    start_of_day,
)


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [(4_499, 50, 2_249), (4_500, 50, 2_250), (1, 50, 0), (999, 20, 199), (5, 20, 1), (0, 50, 0)],
)
def test_a_percent_is_rounded_down(amount: int, percent: int, expected: int) -> None:
    assert percent_of(amount, percent) == expected


@pytest.mark.parametrize(
    ("earned", "part", "whole", "expected"),
    [(199, 333, 999, 66), (199, 666, 999, 132), (199, 999, 999, 199), (100, 1, 200, 0)],
)
def test_a_share_is_rounded_down(earned: int, part: int, whole: int, expected: int) -> None:
    assert share_of(earned, part, whole) == expected


def test_yuan_reads_as_money() -> None:
    assert (yuan(123_456), yuan(5), yuan(-3_300)) == ("1,234.56", "0.05", "-33.00")


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        ("2027-03-31T16:30:00+00:00", date(2027, 4, 1)),  # April in Shanghai, March in UTC
        ("2027-03-31T15:59:59+00:00", date(2027, 3, 31)),
        ("2027-12-31T16:00:00+00:00", date(2028, 1, 1)),
        ("2027-03-05T23:59:59+08:00", date(2027, 3, 5)),
        ("2027-03-05T00:00:00-05:00", date(2027, 3, 5)),  # 13:00 in Shanghai
    ],
)
def test_the_day_is_the_shanghai_day(instant: str, day: date) -> None:
    assert local_date(datetime.fromisoformat(instant)) == day


@pytest.mark.parametrize(
    ("period", "window_year", "key"),
    [
        ("day", None, "2027-04-01"),
        ("month", None, "2027-04"),
        ("year", None, "2027"),
        ("window", 2027, "window:2027"),
        ("ever", None, "ever"),
    ],
)
def test_period_keys(period: Period, window_year: int | None, key: str) -> None:
    assert period_key(period, date(2027, 4, 1), window_year) == key


def test_a_window_key_needs_the_window() -> None:
    with pytest.raises(ValueError, match="window"):
        period_key("window", date(2027, 4, 1))


@pytest.mark.parametrize(
    ("born", "year", "celebrated"),
    [
        (date(2000, 2, 29), 2027, date(2027, 2, 28)),
        (date(2000, 2, 29), 2028, date(2028, 2, 29)),
        (date(2000, 2, 28), 2028, date(2028, 2, 28)),
        (date(1990, 12, 31), 2027, date(2027, 12, 31)),
    ],
)
def test_29_february_counts_as_28_february_in_common_years(
    born: date, year: int, celebrated: date
) -> None:
    assert birthday_in(born, year) == celebrated


@pytest.mark.parametrize(
    ("day", "birthdays"),
    [
        (date(2027, 2, 28), ((2, 28), (2, 29))),
        (date(2028, 2, 28), ((2, 28),)),
        (date(2028, 2, 29), ((2, 29),)),
        (date(2027, 3, 1), ((3, 1),)),
    ],
)
def test_whose_birthday_a_day_is(day: date, birthdays: tuple[tuple[int, int], ...]) -> None:
    assert birthdays_on(day) == birthdays


def test_a_day_starts_at_midnight_in_shanghai() -> None:
    assert start_of_day(date(2027, 6, 15)) == datetime.fromisoformat("2027-06-14T16:00:00+00:00")
