"""A card transaction as the watch sees it: no member, no name; the card is the bank's token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["purchase", "refund", "reversal"]


@dataclass(frozen=True, slots=True)
class Swipe:
    transaction_id: str
    card_id: str
    merchant_id: str
    mcc: str
    kind: Kind
    amount_fen: int
    at: float
    """occurred_at, in Shanghai wall-time seconds (domain.windows.local_seconds)."""
    partition: int
    offset: int
    """Where it was read: the tallies' replay guard (in `card.transactions`, or for a
    subsidised swipe where its pair was completed in the join topic)."""
    paid_fen: int = 0
    """The subsidy the ledger paid on this purchase (from `payouts`); 0 until it is known."""
    source: str = ""
    """"" for `card.transactions`, `JOINED` for a swipe paired with its payout."""

    @property
    def lane(self) -> str:
        """The source partition as a tally's guard keys it: "3", or "j3" for a joined one."""
        return self.source + str(self.partition)

    @property
    def subsidised(self) -> bool:
        """A purchase the ledger paid a subsidy on."""
        return self.paid_fen > 0

    def as_json(self) -> list[Any]:
        """Positional, as the watch's internal topics carry it (a batch is a list of them)."""
        return [self.transaction_id, self.card_id, self.merchant_id, self.mcc, self.kind,
                self.amount_fen, self.at, self.partition, self.offset, self.paid_fen,
                self.source]

    @classmethod
    def from_json(cls, value: list[Any]) -> Swipe:
        """What `as_json` wrote (the watch's own messages: read as they are)."""
        return cls(*value)
