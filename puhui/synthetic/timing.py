"""When things happen in a synthetic day (Shanghai time, seconds after midnight)."""

from __future__ import annotations

import random
from datetime import date, timedelta, timezone

SHANGHAI_OFFSET = timezone(timedelta(hours=8))
"""Asia/Shanghai has kept +08:00 all year since 1991."""

HOUR = 3_600


def day_prefix(day: date) -> str:
    """`2027-02-06T`: the start of every timestamp of `day`."""
    return f"{day.isoformat()}T"


def stamp(prefix: str, second: int) -> str:
    """The RFC 3339 timestamp (+08:00) of `second` after midnight of the day in `prefix`."""
    hours, rest = divmod(second, HOUR)
    return f"{prefix}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}+08:00"


def _clip(hours: float, earliest: float = 5.5, latest: float = 23.9) -> int:
    return int(min(max(hours, earliest), latest) * HOUR)


def commute(rng: random.Random) -> int:
    """Morning and evening peaks, a thin spread the rest of the day."""
    draw = rng.random()
    if draw < 0.45:
        return _clip(rng.gauss(8.0, 0.6))
    if draw < 0.9:
        return _clip(rng.gauss(18.0, 0.7))
    return _clip(rng.uniform(6.0, 23.0))


def cinema(rng: random.Random) -> int:
    """Mostly evenings."""
    return _clip(rng.gauss(19.5, 2.0), 10.0)


def shop_hours(rng: random.Random) -> int:
    """Bookshops and other shops: open 9:00 to 21:30."""
    return _clip(rng.uniform(9.0, 21.5))


def travel(rng: random.Random) -> int:
    """Trains and coaches leave from early morning to late evening."""
    return _clip(rng.uniform(6.0, 22.5))


def office_hours(rng: random.Random) -> int:
    """When the membership system records certificates and honours."""
    return _clip(rng.uniform(9.0, 17.5))
