"""Decisions as the JSON the contract publishes, built straight from the engine's values.

`to_payout()` and `to_audit()` build the contract's pydantic models (`schemas.payouts.Payout`,
`schemas.audit.AuditRecord`), which validate every field again; on the hot path that was a
third of the ledger's CPU per card event. These functions give the same JSON values (and,
through `dumps`, the same bytes as the models' `model_dump_json()`), which
`tests/unit/engine/test_wire.py` holds equal on every kind of decision of a generated feed
and on hypothesis-generated times, offsets and texts. The models stay the contract: its
field order is theirs, and a test keeps the two in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import AwareDatetime, TypeAdapter

from engine.decisions import ClawedBack, Decision, Paid, audit_fields
from engine.trace import BudgetCheck, Step, Trace
from schemas.audit import AuditRecord

JsonObject = dict[str, Any]
WrittenTrace = list[JsonObject] | orjson.Fragment
"""A trace as JSON values, or already written (the same trace goes into three documents)."""
_OPTIONS = orjson.OPT_UTC_Z
"""pydantic writes a UTC time with `Z` and any other offset as `+hh:mm`; so does this."""


_PYDANTIC_TIME = TypeAdapter(AwareDatetime)


def _time(moment: datetime) -> datetime | str:
    """`moment` for `dumps`: orjson writes a whole-minute offset as pydantic does; an offset
    with seconds (which both cut to minutes, differently) is written by pydantic itself."""
    offset = moment.utcoffset()
    if offset is None or offset.seconds % 60 or offset.microseconds:
        return str(_PYDANTIC_TIME.dump_python(moment, mode="json"))
    return moment


def dumps(value: JsonObject | list[JsonObject]) -> bytes:
    """The bytes pydantic's `model_dump_json()` gives for the same model."""
    return orjson.dumps(value, option=_OPTIONS)


def trace_value(trace: Trace) -> list[JsonObject]:
    """The `trace` of a payout or audit record (`TraceStep`s), as JSON values."""
    return [step.to_value() for step in trace]


STEPS_KEPT = 1 << 14
"""How many steps' JSON `trace_json` keeps (a few MB; once full it keeps no more)."""
_STEP_JSON: dict[tuple[type, Step], bytes] = {}


def trace_json(trace: Trace) -> bytes:
    """`dumps(trace_value(trace))`, each step written once and kept: the same steps come
    again and again (a programme's match and base amount, a limit with 3 of 10 rides used),
    so a step's bytes are looked up rather than built. A budget step (the budget left
    changes with every payout) is written each time."""
    return b"[" + b",".join([_step_json(step) for step in trace]) + b"]"


def _step_json(step: Step) -> bytes:
    kind = type(step)
    if kind is BudgetCheck:
        return dumps(step.to_value())
    key = (kind, step)  # two kinds of step can be equal tuples: the kind is in the key
    found = _STEP_JSON.get(key)
    if found is None:
        found = dumps(step.to_value())
        if len(_STEP_JSON) < STEPS_KEPT:
            _STEP_JSON[key] = found
    return found


def payout_value(decision: Paid | ClawedBack, trace: WrittenTrace) -> JsonObject:
    """`decision.to_payout().model_dump(mode="json")`, its time as `dumps` writes it."""
    if decision.member_id is None or decision.programme is None or decision.period is None:
        raise ValueError(f"a {decision.payout_kind} needs a member, a programme and a period")
    if (decision.payout_kind == "payout") != (decision.amount_fen > 0) or not decision.amount_fen:
        raise ValueError("amount_fen: must be > 0 for a payout and < 0 for a clawback")
    return {
        "payout_id": decision.payout_id,
        "member_id": decision.member_id,
        "programme": decision.programme,
        "amount_fen": decision.amount_fen,
        "kind": decision.payout_kind,
        "source_event_id": decision.source_event_id,
        "transaction_id": decision.transaction_id,
        "period": decision.period,
        "occurred_at": _time(decision.occurred_at),
        "trace": trace,
    }


def audit_value(decision: Decision, trace: WrittenTrace) -> JsonObject:
    """`decision.to_audit().model_dump(mode="json")`, its time as `dumps` writes it."""
    value = dict(_AUDIT_TEMPLATE)  # every field in the contract's order, its default if any
    value.update(audit_fields(decision))
    value["occurred_at"] = _time(decision.occurred_at)
    value["trace"] = trace
    return value


_AUDIT_TEMPLATE: JsonObject = {
    name: None if info.is_required() else info.default
    for name, info in AuditRecord.model_fields.items()}
