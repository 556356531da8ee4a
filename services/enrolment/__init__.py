"""Enrolment: keeps the member and card registry (with history) and releases held events."""

from __future__ import annotations

from schemas.member_enrolment import TOPIC as MEMBER_ENROLMENT
from services.ledger.consumer import LedgerServiceSpec

REGISTRY_TYPES = frozenset({"member_registered", "member_updated", "member_left",
                            "card_issued", "card_blocked", "card_cancelled"})


def owns(event_type: str) -> bool:
    """Registry events; certifications and honours (same topic) are disbursement's."""
    return event_type in REGISTRY_TYPES


SPEC = LedgerServiceSpec(name="enrolment", topics=(MEMBER_ENROLMENT,), owns=owns,
                         dead_letters_for=frozenset({MEMBER_ENROLMENT}))
