"""Audit records for the audit service's tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from schemas.audit import AuditRecord
from schemas.payouts import TraceStep
from services.audit.domain.chain import Entry
from services.audit.domain.record import TrailRecord

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2027, 3, 2, 8, 15, 30, tzinfo=SHANGHAI)


def audit_record(n: int, *, amount_fen: int = 100, prefix: str = "aud") -> AuditRecord:
    return AuditRecord(
        audit_id=f"{prefix}-{n}", decision="paid", reason=None, programme="green_commute",
        member_id=f"mem_{n % 7}", card_id=f"card_{n % 7}", source_event_id=f"evt-{n}",
        source_topic="card.transactions", transaction_id=f"TX{n}", amount_fen=amount_fen,
        occurred_at=START + timedelta(minutes=n),
        trace=[TraceStep(rule="matched", outcome="green_commute: purchase, mcc 4111",
                         amount_fen=2 * amount_fen),
               TraceStep(rule="per_ride_cap", outcome="at most 100 per ride")])


def entry(n: int, **changes: int) -> Entry:
    record = TrailRecord.of(audit_record(n, **changes))
    return Entry(record, record.canonical_bytes())
