"""Disbursement: card transactions, day ticks, certifications and honours become payouts."""

from __future__ import annotations

from schemas.card_transactions import TOPIC as CARD_TRANSACTIONS
from schemas.clock_days import TOPIC as CLOCK_DAYS
from schemas.member_enrolment import TOPIC as MEMBER_ENROLMENT
from services.enrolment import REGISTRY_TYPES
from services.ledger.consumer import LedgerServiceSpec


def owns(event_type: str) -> bool:
    """Everything but the registry events, which are enrolment's."""
    return event_type not in REGISTRY_TYPES


SPEC = LedgerServiceSpec(
    name="disbursement", topics=(CARD_TRANSACTIONS, CLOCK_DAYS, MEMBER_ENROLMENT), owns=owns,
    dead_letters_for=frozenset({CARD_TRANSACTIONS, CLOCK_DAYS}))
