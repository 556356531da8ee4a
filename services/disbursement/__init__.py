"""Disbursement: card transactions and day ticks become payouts and clawbacks."""

from __future__ import annotations

from schemas.card_transactions import TOPIC as CARD_TRANSACTIONS
from schemas.clock_days import TOPIC as CLOCK_DAYS
from services.ledger.consumer import LedgerServiceSpec

SPEC = LedgerServiceSpec(name="disbursement", topics=(CARD_TRANSACTIONS, CLOCK_DAYS))
