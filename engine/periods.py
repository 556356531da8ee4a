"""Calendar periods in Asia/Shanghai, always taken from an event's own time.

A period key names the bucket a limit counts in: `2027-03-31` (day), `2027-03` (month),
`2027` (year), `window:2027` (a programme window of 2027) or `ever`.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from functools import lru_cache
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Period: TypeAlias = Literal["day", "month", "year", "window", "ever"]

EVER = "ever"

MonthDay: TypeAlias = tuple[int, int]
"""A birthday as (month, day), the key members are indexed by."""


def local_date(occurred_at: datetime) -> date:
    """The Shanghai calendar date of an aware instant."""
    return occurred_at.astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    """00:00 in Shanghai on `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def day_key(day: date) -> str:
    return day.isoformat()


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def year_key(day: date) -> str:
    return f"{day.year:04d}"


def window_key(window_year: int) -> str:
    return f"window:{window_year:04d}"


@lru_cache(maxsize=16_384)
def period_key(period: Period, day: date, window_year: int | None = None) -> str:
    """The key of the `period` that the Shanghai date `day` falls in."""
    if period == "day":
        return day_key(day)
    if period == "month":
        return month_key(day)
    if period == "year":
        return year_key(day)
    if period == "window":
        if window_year is None:
            raise ValueError("a window period needs the window's year")
        return window_key(window_year)
    return EVER


def birthday_in(birth_date: date, year: int) -> date:
    """The day `year` celebrates a birthday: 29 February counts as 28 February in other years."""
    if (birth_date.month, birth_date.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, birth_date.month, birth_date.day)


def birthdays_on(day: date) -> tuple[MonthDay, ...]:
    """Every (month, day) birthday celebrated on `day`."""
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        return ((2, 28), (2, 29))
    return ((day.month, day.day),)


def celebrated_on(birthday: MonthDay) -> tuple[MonthDay, ...]:
    """The (month, day)s of the days that can celebrate `birthday` (29 February: also 28)."""
    if birthday == (2, 29):
        return ((2, 28), (2, 29))
    return (birthday,)


def month_day(birth_date: date) -> MonthDay:
    return (birth_date.month, birth_date.day)
