"""Who exists before the first day: members registered by real name, cards issued to them.

Card `k` belongs to member `k`; members beyond the card count have no card.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from puhui.synthetic.ids import card_id, event_id, member_id
from puhui.synthetic.timing import SHANGHAI_OFFSET

UNION_BRANCHES = (
    "zhengzhou-railway", "zhengzhou-metro", "yutong-bus", "henan-power", "zhongyuan-steel",
    "city-hospitals", "city-schools", "postal-service", "sanitation", "construction",
    "textiles", "food-industry", "finance", "telecom", "logistics", "retail",
)  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅鹏飞宇浩然欣怡子轩佳琪"

Line = tuple[str, dict[str, Any]]
"""One line of the feed: (topic, value)."""

ENROLMENT = "member.enrolment"
BIRTH_YEARS = (1962, 2006)
SECONDS_BEFORE_START = 365 * 86_400


def enrolment(rng: random.Random, members: int, cards: int, start: date) -> Iterator[Line]:
    """Every member's registration, then every card's issue, all before `start`."""
    registered_at = [_before(rng, start) for _ in range(members)]
    for index, at in enumerate(registered_at):
        yield ENROLMENT, _registered(rng, index, at)
    for index in range(cards):
        at = registered_at[index] + timedelta(seconds=rng.randrange(60, 30 * 86_400))
        yield ENROLMENT, _card_issued(rng, index, min(at, _midnight(start) - timedelta(seconds=1)))


def _registered(rng: random.Random, index: int, at: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id(rng),
        "type": "member_registered",
        "member_id": member_id(index),
        "occurred_at": at.isoformat(),
        "birth_date": _birth_date(rng).isoformat(),
        "union_branch": rng.choice(UNION_BRANCHES),
        "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
    }


def _card_issued(rng: random.Random, index: int, at: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id(rng),
        "type": "card_issued",
        "member_id": member_id(index),
        "occurred_at": at.isoformat(),
        "card_id": card_id(index),
    }


def _birth_date(rng: random.Random) -> date:
    first = date(BIRTH_YEARS[0], 1, 1)
    span = (date(BIRTH_YEARS[1], 12, 31) - first).days
    return first + timedelta(days=rng.randrange(span + 1))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI_OFFSET)


def _before(rng: random.Random, start: date) -> datetime:
    return _midnight(start) - timedelta(seconds=rng.randrange(86_400, SECONDS_BEFORE_START))
