"""Enrolment: decides every `member.enrolment` event: the member and card registry (with
history), certifications and honours, and the held events they release.

One service for the whole topic, so a member's registration and their certification or
honour are decided in the order of their partition: a hold waiting for a member and the
registration that releases it can never race.
"""

from __future__ import annotations

from schemas.member_enrolment import TOPIC as MEMBER_ENROLMENT
from services.ledger.consumer import LedgerServiceSpec

SPEC = LedgerServiceSpec(name="enrolment", topics=(MEMBER_ENROLMENT,))
