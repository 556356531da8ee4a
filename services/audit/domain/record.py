"""An audit record as the trail holds it, and its canonical bytes.

The record's fields are the contract's: `schemas.audit.AuditRecord.model_fields`, in its
order (`RECORD_FIELDS`). Nothing here or in the trail's adapters names them again, so a field
added to the contract (and its column, in a migration) is stored, read back, hashed and shown
without another change. The chain formats, though, are fixed for good: what a format hashed
cannot change once links were written in it.

The canonical bytes of a record are what its link in the chain hashes (with the link's own
fields in format 2: services/audit/domain/chain.py). They are the UTF-8 JSON text, as
`orjson.dumps(document, option=orjson.OPT_SORT_KEYS)` writes it (keys sorted by code point at
every depth, no whitespace, non-ASCII characters unescaped), of an object with

- always the thirteen fields of format 2 (`FORMAT_2_FIELDS`), a missing optional value as
  `null`:

      actor, amount_fen, audit_id, card_id, decision, member_id, occurred_at, programme,
      reason, source_event_id, source_topic, trace, transaction_id

- and any field the contract gained after them, only where its value is not null. A link
  written before such a field existed reads back with it null, so its bytes stay as they
  were hashed, and a later link that has a value cannot have it removed unnoticed;

(format 1, the links recorded before migration 0006, has the twelve without `actor`, and
nothing else), where `occurred_at` (and any instant the contract gains) is the instant in
UTC written `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fraction digits: the trail keeps the
instant, not the offset the sender wrote); and `trace` is the list of steps, each an object
with exactly `amount_fen` (`null` when absent), `outcome` and `rule`. The trail stores
`trace` as that same list, so a record read back from the database has the same canonical
bytes as when it came in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from pydantic import AwareDatetime

from schemas.audit import AuditRecord
from schemas.payouts import TraceStep

TraceDocument = Sequence[Mapping[str, object]]
_WITH_MICROSECONDS = len("2027-03-02T00:15:30.000000+00:00")

RECORD_FIELDS: tuple[str, ...] = tuple(AuditRecord.model_fields)
"""The record's fields, in the contract's order: the trail's columns of the record."""
STEP_FIELDS: tuple[str, ...] = tuple(TraceStep.model_fields)
FORMAT_1_FIELDS = ("amount_fen", "audit_id", "card_id", "decision", "member_id",
                   "occurred_at", "programme", "reason", "source_event_id", "source_topic",
                   "trace", "transaction_id")
"""What format 1 hashed: fixed, whatever the contract becomes."""
FORMAT_2_FIELDS = (*FORMAT_1_FIELDS, "actor")
"""What format 2 always hashes (null or not): fixed, whatever the contract becomes."""
LATER_FIELDS: tuple[str, ...] = tuple(f for f in RECORD_FIELDS if f not in FORMAT_2_FIELDS)
"""The contract's fields since format 2: hashed where they are not null."""
INSTANT_FIELDS: tuple[str, ...] = tuple(
    name for name, info in AuditRecord.model_fields.items() if info.annotation is AwareDatetime)
"""The fields that are instants: the canonical bytes write each in UTC (`utc_text`)."""
DEFAULTS: dict[str, Any] = {name: info.default for name, info in AuditRecord.model_fields.items()
                            if not info.is_required()}
"""What an optional field is when a message leaves it out."""
ROW_FIELDS: tuple[str, ...] = (*(f for f in RECORD_FIELDS if f != "trace"), "trace")
"""`RECORD_FIELDS` in the order of `TrailRecord.row()`: the trace, written as text, last."""
_FORMAT_1 = itemgetter(*FORMAT_1_FIELDS)
_BUT_TRACE = itemgetter(*ROW_FIELDS[:-1])


# Not frozen, like the chain's Entry and ChainLink: a frozen dataclass's __init__ sets each
# field through object.__setattr__, several times the cost of a plain one, paid for every
# record the service takes in. Nothing changes one after it is made; `replace` makes a copy.
@dataclass(slots=True)
class TrailRecord:
    """One decision: the value of each of `RECORD_FIELDS`, by name (`occurred_at` an aware
    `datetime`, `trace` a list of step objects)."""

    values: dict[str, Any]
    trace_text: str | None = field(default=None, compare=False, repr=False)
    """`trace_json()` when the intake already wrote it (`replace` drops it)."""

    @classmethod
    def of(cls, record: AuditRecord) -> TrailRecord:
        values = {name: getattr(record, name) for name in RECORD_FIELDS}
        values["trace"] = [{name: getattr(step, name) for name in STEP_FIELDS}
                           for step in record.trace]
        return cls(values)

    @property
    def audit_id(self) -> str:
        audit_id: str = self.values["audit_id"]
        return audit_id

    @property
    def amount_fen(self) -> int:
        amount_fen: int = self.values["amount_fen"]
        return amount_fen

    @property
    def occurred_at(self) -> datetime:
        occurred_at: datetime = self.values["occurred_at"]
        return occurred_at

    @property
    def trace(self) -> TraceDocument:
        trace: TraceDocument = self.values["trace"]
        return trace

    def replace(self, **changes: Any) -> TrailRecord:
        """A copy with `changes` (field names of `RECORD_FIELDS`)."""
        unknown = changes.keys() - set(RECORD_FIELDS)
        if unknown:
            raise TypeError(f"not a field of an audit record: {sorted(unknown)}")
        return TrailRecord({**self.values, **changes})

    def row(self) -> tuple[Any, ...]:
        """The values of `ROW_FIELDS`, as the trail's columns hold them (the trace as
        `trace_json()`)."""
        return (*_BUT_TRACE(self.values), self.trace_json())

    def canonical_bytes(self) -> bytes:
        """The bytes this record's link hashes (see the module docstring); raises
        `orjson.JSONEncodeError` for what JSON cannot carry (an integer beyond 64 bits, a
        lone surrogate) and `OverflowError` for an instant before year 1 in UTC."""
        return orjson.dumps(canonical_document(self.values), option=orjson.OPT_SORT_KEYS)

    def format_1_bytes(self) -> bytes:
        """The canonical bytes as format 1 defined them: the twelve fields, no `actor`."""
        document = dict(zip(FORMAT_1_FIELDS, _FORMAT_1(self.values), strict=True))
        document["occurred_at"] = utc_text(document["occurred_at"])
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)

    def trace_json(self) -> str:
        """The trace as the trail stores it: sorted keys, as in the canonical bytes."""
        if self.trace_text is not None:
            return self.trace_text
        return orjson.dumps(self.values["trace"], option=orjson.OPT_SORT_KEYS).decode()


def canonical_document(values: Mapping[str, Any]) -> dict[str, Any]:
    """The object the canonical bytes write (see the module docstring), from the values of
    `RECORD_FIELDS` (each instant a `datetime`, or already written by `utc_text`)."""
    document = {name: values.get(name) for name in FORMAT_2_FIELDS}
    for name in LATER_FIELDS:
        value = values.get(name)
        if value is not None:
            document[name] = value
    for name in INSTANT_FIELDS:
        moment = document.get(name)
        if isinstance(moment, datetime):
            document[name] = utc_text(moment)
    return document


def utc_text(moment: datetime) -> str:
    """`2027-03-02T00:15:30.000000Z`: the instant in UTC, always with microseconds."""
    # cheaper than asking isoformat for microseconds and a copy without the zone: in UTC it
    # ends in "+00:00", after ".ffffff" unless the microseconds are 0
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + ("Z" if len(text) == _WITH_MICROSECONDS else ".000000Z")
