"""An audit record as the trail holds it, and its canonical bytes.

The canonical bytes of a record are what its link in the chain hashes (with the link's own
fields in format 2: services/audit/domain/chain.py). They are the UTF-8 JSON text, as
`orjson.dumps(document, option=orjson.OPT_SORT_KEYS)` writes it (keys sorted by code point at
every depth, no whitespace, non-ASCII characters unescaped), of an object with exactly the
thirteen fields of `schemas.audit.AuditRecord`:

    actor, amount_fen, audit_id, card_id, decision, member_id, occurred_at, programme,
    reason, source_event_id, source_topic, trace, transaction_id

(format 1, the links recorded before migration 0006, has the twelve without `actor`),
where a missing optional value is `null`; `occurred_at` is the instant in UTC written
`YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fraction digits: the trail keeps the instant, not
the offset the sender wrote); and `trace` is the list of steps, each an object with exactly
`amount_fen` (`null` when absent), `outcome` and `rule`. The trail stores `trace` as that same
list, so a record read back from the database has the same canonical bytes as when it came in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from schemas.audit import AuditRecord

TraceDocument = Sequence[Mapping[str, object]]
_WITH_MICROSECONDS = len("2027-03-02T00:15:30.000000+00:00")


# Not frozen, like the chain's Entry and ChainLink: a frozen dataclass's __init__ sets each
# field through object.__setattr__, about 8 times the cost of a plain one (1.5 against
# 0.2 us for 14 fields), paid for every record the service takes in. Nothing changes one
# after it is made; dataclasses.replace makes a changed copy.
@dataclass(slots=True)
class TrailRecord:
    """One decision, with the fields the trail stores and hashes."""

    audit_id: str
    decision: str
    reason: str | None
    programme: str | None
    member_id: str | None
    card_id: str | None
    source_event_id: str
    source_topic: str
    transaction_id: str | None
    amount_fen: int
    occurred_at: datetime
    trace: TraceDocument
    actor: str | None = None
    """Who took a finance action (`name (role)`); None for the services' own decisions."""
    trace_text: str | None = field(default=None, init=False, compare=False, repr=False)
    """`trace_json()` when the intake already wrote it (`dataclasses.replace` drops it)."""

    @classmethod
    def of(cls, record: AuditRecord) -> TrailRecord:
        trace = [{"amount_fen": step.amount_fen, "outcome": step.outcome, "rule": step.rule}
                 for step in record.trace]
        return cls(record.audit_id, record.decision, record.reason, record.programme,
                   record.member_id, record.card_id, record.source_event_id,
                   record.source_topic, record.transaction_id, record.amount_fen,
                   record.occurred_at, trace, record.actor)

    def canonical_bytes(self) -> bytes:
        """The bytes this record's link hashes (see the module docstring); raises
        `orjson.JSONEncodeError` for what JSON cannot carry (an integer beyond 64 bits, a
        lone surrogate) and `OverflowError` for an instant before year 1 in UTC."""
        return orjson.dumps({**self._document(), "actor": self.actor},
                            option=orjson.OPT_SORT_KEYS)

    def format_1_bytes(self) -> bytes:
        """The canonical bytes as format 1 defined them: the twelve fields, no `actor`."""
        return orjson.dumps(self._document(), option=orjson.OPT_SORT_KEYS)

    def trace_json(self) -> str:
        """The trace as the trail stores it: sorted keys, as in the canonical bytes."""
        if self.trace_text is not None:
            return self.trace_text
        return orjson.dumps(self.trace, option=orjson.OPT_SORT_KEYS).decode()

    def _document(self) -> dict[str, object]:
        return {
            "amount_fen": self.amount_fen, "audit_id": self.audit_id, "card_id": self.card_id,
            "decision": self.decision, "member_id": self.member_id,
            "occurred_at": utc_text(self.occurred_at), "programme": self.programme,
            "reason": self.reason, "source_event_id": self.source_event_id,
            "source_topic": self.source_topic, "trace": self.trace,
            "transaction_id": self.transaction_id,
        }  # fmt: skip


def utc_text(moment: datetime) -> str:
    """`2027-03-02T00:15:30.000000Z`: the instant in UTC, always with microseconds."""
    # cheaper than asking isoformat for microseconds and a copy without the zone: in UTC it
    # ends in "+00:00", after ".ffffff" unless the microseconds are 0
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + ("Z" if len(text) == _WITH_MICROSECONDS else ".000000Z")
