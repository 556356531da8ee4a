"""What members buy with their cards: merchants, amounts, times of day and how often.

The mix matters to the programmes: metro and bus rides (green_commute), trains and coaches
(return_trip inside its window), cinema tickets, bookshops, and everyday shopping that no
programme pays for.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from puhui.synthetic import timing


@dataclass(frozen=True, slots=True)
class Merchant:
    merchant_id: str
    merchant_name: str
    mcc: str


@dataclass(frozen=True, slots=True)
class Spend:
    """One kind of purchase and how it is drawn."""

    name: str
    merchants: tuple[Merchant, ...]
    amount_fen: Callable[[random.Random], int]
    second: Callable[[random.Random], int]
    weekday_share: float
    weekend_share: float
    season_share: float | None = None
    """The share inside the return window (Spring Festival travel), where it differs."""
    skewed: bool = False
    """Drawn mostly from heavy users (commuters), so daily and monthly limits are reached."""

    def share(self, weekend: bool, in_season: bool) -> float:
        if in_season and self.season_share is not None:
            return self.season_share
        return self.weekend_share if weekend else self.weekday_share


def _steps(low: int, high: int, step: int) -> Callable[[random.Random], int]:
    """An amount from `low` to `high` in steps of `step`, all equally likely."""
    choices = (high - low) // step + 1
    return lambda rng: low + step * int(rng.random() * choices)  # faster than randrange


SPENDS: tuple[Spend, ...] = (
    Spend("metro", (Merchant("M-ZZMETRO", "郑州地铁", "4111"),),
          _steps(200, 700, 100), timing.commute, 0.45, 0.25, skewed=True),
    Spend("bus", (Merchant("M-ZZBUS", "郑州公交", "4131"),),
          _steps(100, 200, 100), timing.commute, 0.15, 0.10, skewed=True),
    Spend("rail", (Merchant("M-CR12306", "中国铁路12306", "4112"),),
          _steps(3_000, 60_000, 50), timing.travel, 0.008, 0.010, season_share=0.05),
    Spend("coach", (Merchant("M-ZZCOACH", "郑州长途汽车中心站", "4131"),),
          _steps(2_000, 15_000, 100), timing.travel, 0.004, 0.006, season_share=0.025),
    Spend("cinema", (Merchant("M-CINEMA-01", "奥斯卡影城", "7832"),
                     Merchant("M-CINEMA-02", "万达影城", "7832")),
          _steps(900, 8_000, 10), timing.cinema, 0.03, 0.08),
    Spend("books", (Merchant("M-BOOKS-01", "中原图书大厦", "5942"),
                    Merchant("M-BOOKS-02", "新华书店", "5942")),
          _steps(1_000, 30_000, 10), timing.shop_hours, 0.04, 0.05),
    Spend("grocery", (Merchant("M-MART-01", "丹尼斯超市", "5411"),),
          _steps(500, 40_000, 1), timing.shop_hours, 0.12, 0.20),
    Spend("restaurant", (Merchant("M-FOOD-01", "合记烩面", "5812"),),
          _steps(1_500, 30_000, 1), timing.shop_hours, 0.08, 0.12),
)  # fmt: skip
