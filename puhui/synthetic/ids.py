"""Identifiers of the synthetic world: members, cards, events, transactions."""

from __future__ import annotations

import random


def member_id(index: int) -> str:
    return f"M{index:08d}"


def card_id(index: int) -> str:
    """A tokenised card number (never a real PAN)."""
    return f"C{index:08d}"


def event_id(rng: random.Random) -> str:
    """A random (version 4 shaped) UUID string drawn from `rng`, so a seed repeats it."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
