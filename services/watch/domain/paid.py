"""A purchase joined with its payout: what makes a purchase *subsidised*.

The bank's feed says what was bought; only `payouts` says whether the ledger paid a subsidy on
it (a purchase may earn nothing: a limit reached, a card not issued, a budget spent). Both
sides meet, keyed by the transaction id, in whichever order they arrive; the pair goes on
once, as the swipe with its `paid_fen`, to the rules that count subsidised purchases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.watch.domain.swipe import Swipe

JOINED = "j"
"""`Swipe.source` of a swipe paired with its payout; its position is the join topic's."""


@dataclass(frozen=True, slots=True)
class PaidSide:
    """A payout on a purchase (kind `payout`, amount > 0), as the join needs it."""

    transaction_id: str
    paid_fen: int
    at: float
    """The purchase's occurred_at (a payout keeps its source event's), Shanghai seconds."""

    def as_json(self) -> list[Any]:
        return [self.transaction_id, self.paid_fen, self.at]

    @classmethod
    def from_json(cls, value: list[Any]) -> PaidSide:
        return cls(*value)


@dataclass(frozen=True, slots=True)
class Pairing:
    """What the join keeps for one transaction id."""

    swipe: list[Any] | None = None
    paid_fen: int = 0
    seen: dict[str, int] | None = None
    """The highest join-topic offset applied, per partition: a replay applies nothing twice."""
    completed_by: tuple[int, int] | None = None
    """The join-topic (partition, offset) of the message that completed the pair."""

    def as_json(self) -> dict[str, Any]:
        return {"s": self.swipe, "f": self.paid_fen, "seen": self.seen or {},
                "c": list(self.completed_by) if self.completed_by else None}

    @classmethod
    def from_json(cls, value: Any) -> Pairing:
        if not isinstance(value, dict):
            return cls()
        done = value.get("c")
        return cls(value.get("s"), int(value.get("f", 0)), dict(value.get("seen") or {}),
                   (int(done[0]), int(done[1])) if done else None)


def pair(pairing: Pairing, side: Swipe | PaidSide, partition: int,
         offset: int) -> tuple[Pairing, Swipe | None]:
    """Apply one side, read at (`partition`, `offset`) of the join topic; returns the pairing
    and, when this message completes it, the subsidised swipe to pass on. A replay of the
    completing message passes it on again (the rules' guards count it once); any other
    replay changes nothing."""
    seen = pairing.seen or {}
    if seen.get(str(partition), -1) >= offset:
        again = pairing.completed_by == (partition, offset)
        return pairing, _joined(pairing, partition, offset) if again else None
    swipe, paid_fen = pairing.swipe, pairing.paid_fen
    if isinstance(side, Swipe):
        swipe = swipe or side.as_json()
    else:
        paid_fen = max(paid_fen, side.paid_fen)
    seen = {**seen, str(partition): offset}
    if pairing.completed_by is not None or swipe is None or paid_fen <= 0:
        return Pairing(swipe, paid_fen, seen, pairing.completed_by), None
    now = Pairing(swipe, paid_fen, seen, (partition, offset))
    return now, _joined(now, partition, offset)


def _joined(pairing: Pairing, partition: int, offset: int) -> Swipe | None:
    if pairing.swipe is None:
        return None
    s = pairing.swipe  # as `Swipe.as_json` wrote it; its position and payout are the pair's
    return Swipe(s[0], s[1], s[2], s[3], s[4], s[5], s[6], partition, offset,
                 pairing.paid_fen, JOINED)
