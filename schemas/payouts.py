"""Topic `payouts` (key = `member_id`): one event per payout or clawback."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AwareDatetime, model_validator
from pydantic_core import PydanticCustomError

from schemas.common import Fen, Identifier, OutboundModel

TOPIC = "payouts"

PayoutKind = Literal["payout", "clawback"]


class TraceStep(OutboundModel):
    """One rule or limit that took part in a decision, and what it left."""

    rule: Identifier
    """What was checked, e.g. `matched`, `per_ride_cap`, `monthly_limit`, `budget`."""
    outcome: str
    """What it found, in words, e.g. `mcc 4111 purchase` or `1,200 of 4,000 left`."""
    amount_fen: Fen | None = None
    """The amount after this step, where it changed or bounded it."""


class Payout(OutboundModel):
    """Money paid to a member (`amount_fen` > 0) or clawed back (`amount_fen` < 0).

    `transaction_id` is the purchase it pays or claws back (null for non-card programmes);
    `period` is the limit period it counted in.
    """

    payout_id: Identifier
    member_id: Identifier
    programme: Identifier
    amount_fen: Fen
    kind: PayoutKind
    source_event_id: Identifier
    transaction_id: Identifier | None
    period: Identifier
    occurred_at: AwareDatetime
    trace: list[TraceStep]

    @model_validator(mode="after")
    def _sign_matches_kind(self) -> Self:
        if (self.kind == "payout") != (self.amount_fen > 0) or self.amount_fen == 0:
            raise PydanticCustomError(
                "sign_mismatch", "amount_fen: must be > 0 for a payout and < 0 for a clawback"
            )
        return self
