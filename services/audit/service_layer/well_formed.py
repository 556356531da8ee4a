"""An audit message in the form the ledger and finance write it, read without pydantic.

`AuditRecord.model_validate_json` (the contract, schemas/audit.py) and the objects built
from it were most of the audit service's CPU per record. Nearly every message is one we
produced, so this reads it with `orjson` and plain checks that accept only what the contract
accepts, and takes the decoded document itself as the record's canonical document. Anything
it does not recognise (not valid JSON, a field it does not know, a number that is not a
64-bit integer, a timestamp in another form, an escaped NUL) it leaves to `intake.read_entry`'s
full validation, which decides and words the reason: a message is never refused here.

tests/unit/audit/test_well_formed.py holds both readers to the same result on the examples and
on generated and mangled messages: same record, same canonical bytes, same trace text.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, get_args

import orjson

from schemas.audit import AuditDecision, AuditRecord
from services.audit.domain.chain import Entry
from services.audit.domain.record import TrailRecord, utc_text

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
_FIELDS = frozenset(AuditRecord.model_fields)
_FIELDS_BUT_ACTOR = _FIELDS - {"actor"}
_STEP_FIELDS = frozenset({"rule", "outcome", "amount_fen"})
_STEP_FIELDS_BUT_AMOUNT = frozenset({"rule", "outcome"})
_DECISIONS = frozenset(get_args(AuditDecision))
_TEXT = ("audit_id", "source_event_id", "source_topic")
"""Fields that are text, never empty."""
_TEXT_OR_NULL = ("reason", "programme", "member_id", "card_id", "transaction_id")
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-][0-2][0-9]:[0-5][0-9])")
"""RFC 3339 as pydantic writes an aware datetime; `datetime.fromisoformat` reads it alike."""
_ESCAPED_NUL = b"\\u0000"
_SORTED = orjson.OPT_SORT_KEYS


def well_formed_entry(value: bytes) -> Entry | None:
    """The entry of a message the contract accepts, in a form this recognises; else None."""
    if _ESCAPED_NUL in value:  # PostgreSQL cannot hold it: read_entry says so
        return None
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if type(document) is not dict or not _fits(document):
        return None
    occurred_at = _instant(document["occurred_at"])
    if occurred_at is None:
        return None
    try:
        return _entry(document, occurred_at)
    except (OverflowError, orjson.JSONEncodeError):  # e.g. an instant before year 1 in UTC
        return None


def _entry(document: dict[str, Any], occurred_at: datetime) -> Entry:
    """The record, and its canonical bytes from `document` itself (its keys are exactly the
    canonical document's), the trace written once for both."""
    trace = document["trace"]
    trace_text = orjson.dumps(trace, option=_SORTED)
    document["occurred_at"] = utc_text(occurred_at)
    document["trace"] = orjson.Fragment(trace_text)
    actor = document.setdefault("actor", None)
    record = TrailRecord(
        document["audit_id"], document["decision"], document["reason"], document["programme"],
        document["member_id"], document["card_id"], document["source_event_id"],
        document["source_topic"], document["transaction_id"], document["amount_fen"],
        occurred_at, trace, actor)
    record.trace_text = trace_text.decode()
    return Entry(record, orjson.dumps(document, option=_SORTED))


def _fits(document: dict[str, Any]) -> bool:
    """Whether `document` is an `AuditRecord` (its `occurred_at` aside); the checks are
    written out, not looped over helpers, as they run on every message."""
    keys = document.keys()
    if keys != _FIELDS and keys != _FIELDS_BUT_ACTOR:
        return False
    for name in _TEXT:
        text = document[name]
        if type(text) is not str or not text:
            return False
    for name in _TEXT_OR_NULL:
        text = document[name]
        if text is not None and type(text) is not str:
            return False
    decision, actor, amount = document["decision"], document.get("actor"), document["amount_fen"]
    return (type(decision) is str and decision in _DECISIONS
            and (actor is None or type(actor) is str)
            and type(amount) is int and BIGINT_MIN <= amount <= BIGINT_MAX
            and _trace_fits(document["trace"]))


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
