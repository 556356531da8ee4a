"""Money: integer fen (1 CNY = 100 fen), never a float, always rounded down."""

from __future__ import annotations

from functools import lru_cache
from typing import TypeAlias

Fen: TypeAlias = int
"""An amount of money in fen."""


def percent_of(amount: Fen, percent: int) -> Fen:
    """`percent`% of `amount`, rounded down (50% of 4,499 fen is 2,249 fen)."""
    return amount * percent // 100


def share_of(earned: Fen, part: Fen, whole: Fen) -> Fen:
    """floor(earned x part / whole): the share of `earned` that `part` of `whole` stands for."""
    return earned * part // whole


@lru_cache(maxsize=1 << 16)
def yuan(amount: Fen) -> str:
    """`123456` -> `'1,234.56'`, for traces a person reads."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole:,}.{cents:02d}"
