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

    def as_json(self) -> dict[str, Any]:
        return {"t": self.transaction_id, "c": self.card_id, "m": self.merchant_id,
                "mcc": self.mcc, "k": self.kind, "a": self.amount_fen, "at": self.at,
                "p": self.partition, "o": self.offset, "f": self.paid_fen, "src": self.source}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Swipe:
        # the watch's own messages (what `as_json` wrote): read as they are, not converted
        return cls(value["t"], value["c"], value["m"], value["mcc"], value["k"], value["a"],
                   value["at"], value["p"], value["o"], value.get("f", 0),
                   value.get("src", ""))
