"""Topic `card.transactions` (key = `card_id`): every member-card transaction the bank streams."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from schemas.common import EventId, InboundModel, Mcc, OccurredAt, PositiveFen, SourceId, Text

TOPIC = "card.transactions"

TransactionType = Literal["purchase", "refund", "reversal"]


class CardTransaction(InboundModel):
    """A swipe, a refund or a reversal on a member card.

    A reversal cancels the original purchase in full; a refund may be partial and several may
    follow one purchase. Both name the purchase in `original_transaction_id`.
    """

    event_id: EventId
    type: TransactionType
    transaction_id: SourceId
    original_transaction_id: SourceId | None = None
    card_id: SourceId
    amount_fen: PositiveFen
    currency: Literal["CNY"]
    merchant_id: Text
    merchant_name: Text
    mcc: Mcc
    occurred_at: OccurredAt

    @model_validator(mode="after")
    def _names_its_purchase(self) -> Self:
        if self.type != "purchase" and self.original_transaction_id is None:
            raise PydanticCustomError(
                "original_required",
                "original_transaction_id: required for a {type}",
                {"type": self.type},
            )
        return self
