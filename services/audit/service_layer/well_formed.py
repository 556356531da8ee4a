"""An audit message in the form the ledger and finance write it, read without pydantic.

`AuditRecord.model_validate_json` (the contract, schemas/audit.py) and the objects built
from it were most of the audit service's CPU per record. Nearly every message is one we
produced, so this reads it with `orjson` and plain checks that accept only what the contract
accepts, and takes the decoded document itself as the record's canonical document. Anything
it does not recognise (not valid JSON, a field it does not know, a number that is not a
64-bit integer, a timestamp in another form, an escaped NUL) it leaves to `intake.read_entry`'s
full validation, which decides and words the reason: a message is never refused here.

Which check a field takes is read from the contract's annotations (`kinds_of`): a field added
to `AuditRecord` of a kind listed in `FieldKinds` is checked without a change here; one of
another kind turns this reader off (`READS`), and a unit test says so.

tests/unit/audit/test_well_formed.py holds both readers to the same result on the examples and
on generated and mangled messages: same record, same canonical bytes, same trace text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args, get_origin

import orjson
from pydantic import AwareDatetime, StringConstraints
from pydantic.fields import FieldInfo
from pydantic.types import Strict

from schemas.audit import AuditRecord
from schemas.payouts import TraceStep
from services.audit.domain.chain import Entry
from services.audit.domain.record import (
    DEFAULTS,
    LATER_FIELDS,
    RECORD_FIELDS,
    STEP_FIELDS,
    TrailRecord,
    utc_text,
)

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
_SORTED = orjson.OPT_SORT_KEYS
_ESCAPED_NUL = b"\\u0000"
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-][0-2][0-9]:[0-5][0-9])")
"""RFC 3339 as pydantic writes an aware datetime; `datetime.fromisoformat` reads it alike."""
_STEP_FIELDS = frozenset(STEP_FIELDS)
_STEP_FIELDS_BUT_AMOUNT = _STEP_FIELDS - {"amount_fen"}


@dataclass(frozen=True)
class FieldKinds:
    """The contract's fields grouped by the check each needs, read from its annotations."""

    non_empty: tuple[str, ...] = ()
    """Text, at least one character."""
    text: tuple[str, ...] = ()
    text_or_null: tuple[str, ...] = ()
    one_of: tuple[tuple[str, frozenset[str]], ...] = ()
    """Text from a fixed set (a `Literal`)."""
    int64: tuple[str, ...] = ()
    """A strict integer (this reader takes one that fits in 64 bits)."""
    instants: tuple[str, ...] = ()
    trace: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    """Fields of a kind this reader does not check: then it reads no message at all."""

    @property
    def texts(self) -> tuple[str, ...]:
        """Every field that holds text (PostgreSQL keeps no NUL in one)."""
        return (*self.non_empty, *self.text, *self.text_or_null,
                *(name for name, _ in self.one_of))


def kinds_of(fields: dict[str, FieldInfo]) -> FieldKinds:
    """`fields` (a model's `model_fields`) grouped by `FieldKinds`."""
    groups: dict[str, list[Any]] = {}
    for name, info in fields.items():
        kind, extra = _kind(info)
        groups.setdefault(kind, []).append((name, extra) if kind == "one_of" else name)
    return FieldKinds(**{kind: tuple(names) for kind, names in groups.items()})


def _kind(info: FieldInfo) -> tuple[str, frozenset[str]]:
    annotation, metadata, none = info.annotation, info.metadata, frozenset[str]()
    if annotation is str and not metadata:
        return "text", none
    if annotation is str and metadata == [StringConstraints(min_length=1)]:
        return "non_empty", none
    if annotation == str | None and not metadata:
        return "text_or_null", none
    if annotation is int and metadata == [Strict()]:
        return "int64", none
    if annotation is AwareDatetime and not metadata:
        return "instants", none
    if annotation == list[TraceStep] and not metadata:
        return "trace", none
    if get_origin(annotation) is Literal and all(type(a) is str for a in get_args(annotation)):
        return "one_of", frozenset(get_args(annotation))
    return "unknown", none


KINDS = kinds_of(AuditRecord.model_fields)
READS = not KINDS.unknown and KINDS.trace == ("trace",)
"""Whether this reader knows every field's kind; if not, every message takes the contract's
full validation (correct, only slower). tests/unit/audit/test_well_formed.py holds it true."""
_FIELDS = frozenset(RECORD_FIELDS)
_REQUIRED = frozenset(name for name in RECORD_FIELDS if name not in DEFAULTS)


def well_formed_entry(value: bytes) -> Entry | None:
    """The entry of a message the contract accepts, in a form this recognises; else None."""
    if not READS or _ESCAPED_NUL in value:  # PostgreSQL cannot hold a NUL: read_entry says so
        return None
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if type(document) is not dict or not _fits(document):
        return None
    instants = {}
    for name in KINDS.instants:
        moment = _instant(document[name])
        if moment is None:
            return None
        instants[name] = moment
    try:
        return _entry(document, instants)
    except (OverflowError, orjson.JSONEncodeError):  # e.g. an instant before year 1 in UTC
        return None


def _entry(document: dict[str, Any], instants: dict[str, datetime]) -> Entry:
    """The record, and its canonical bytes from `document` itself (its keys are the
    record's fields), the trace written once for both."""
    for name, default in DEFAULTS.items():
        document.setdefault(name, default)
    trace_text = orjson.dumps(document["trace"], option=_SORTED)
    record = TrailRecord({**document, **instants})
    record.trace_text = trace_text.decode()
    for name, moment in instants.items():
        document[name] = utc_text(moment)
    document["trace"] = orjson.Fragment(trace_text)
    for name in LATER_FIELDS:  # `document` has every field: less these, it is canonical
        if document[name] is None:
            del document[name]
    return Entry(record, orjson.dumps(document, option=_SORTED))


def _fits(document: dict[str, Any]) -> bool:
    """Whether `document` is an `AuditRecord` (its instants aside); the checks are written
    out by kind, not looped over helpers, as they run on every message."""
    keys = document.keys()
    if not _REQUIRED <= keys <= _FIELDS:
        return False
    for name in KINDS.non_empty:
        text = document[name]
        if type(text) is not str or not text:
            return False
    for name in KINDS.text:
        if type(document[name]) is not str:
            return False
    for name in KINDS.text_or_null:
        text = document.get(name)
        if text is not None and type(text) is not str:
            return False
    for name, allowed in KINDS.one_of:
        text = document[name]
        if type(text) is not str or text not in allowed:
            return False
    for name in KINDS.int64:
        amount = document[name]
        if type(amount) is not int or not BIGINT_MIN <= amount <= BIGINT_MAX:
            return False
    return _trace_fits(document["trace"])


def _trace_fits(trace: object) -> bool:
    """A list of `TraceStep`s; a step without an amount gets `null`, the contract's default."""
    if type(trace) is not list:
        return False
    for step in trace:
        if type(step) is not dict:
            return False
        keys = step.keys()
        if keys == _STEP_FIELDS_BUT_AMOUNT:
            step["amount_fen"] = None
        elif keys != _STEP_FIELDS:
            return False
        rule, outcome, amount = step["rule"], step["outcome"], step["amount_fen"]
        if not (type(rule) is str and rule and type(outcome) is str and (
                amount is None or (type(amount) is int and BIGINT_MIN <= amount <= BIGINT_MAX))):
            return False
    return True


def _instant(value: object) -> datetime | None:
    if type(value) is not str or _INSTANT.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # a day or an offset that does not exist
        return None
