"""Decode one raw inbound message into its event, or say plainly why it cannot be.

This is on the hot path (every message of every inbound topic): orjson parses, the topic's
model validates the resulting object, and only a failure pays for building a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import orjson
from pydantic import ValidationError

from schemas import card_transactions, clock_days, member_enrolment
from schemas.card_transactions import CardTransaction
from schemas.clock_days import DayStarted
from schemas.dead_letters import InvalidKind
from schemas.member_enrolment import ENROLMENT_MODELS, EnrolmentEvent
from schemas.reasons import describe, kind_of, one_of

InboundEvent: TypeAlias = CardTransaction | EnrolmentEvent | DayStarted
"""Any event we consume."""

@dataclass(frozen=True, slots=True)
class Invalid:
    """A message that cannot be decoded; `reason` names the field and the problem, `kind`
    is its class (for metrics)."""

    reason: str
    kind: InvalidKind = "invalid_value"


class _Refused(Exception):
    """The message is not one we can read; carries the reason and its kind."""

    def __init__(self, reason: str, kind: InvalidKind) -> None:
        super().__init__(reason)
        self.kind: InvalidKind = kind


def decode(topic: str, raw: bytes) -> InboundEvent | Invalid:
    """The event in `raw` (one message of `topic`), or `Invalid` with a readable reason.

    Never raises for bad input: not valid JSON, not an object, a missing field, a field of the
    wrong type or value, an unknown `type` or an unknown topic all come back as `Invalid`.
    """
    if topic not in _VALIDATORS:
        return Invalid(f"unknown topic {topic!r}", "unknown_topic")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return Invalid(f"not valid JSON: {error}", "not_json")
    return decode_value(topic, value)


def decode_value(topic: str, value: object) -> InboundEvent | Invalid:
    """Like `decode`, for a message value already parsed from JSON (e.g. inside an envelope)."""
    validate = _VALIDATORS.get(topic)
    if validate is None:
        return Invalid(f"unknown topic {topic!r}", "unknown_topic")
    if type(value) is not dict:
        return Invalid(f"not a JSON object (got {_json_kind(value)})", "not_object")
    try:
        return validate(value)
    except ValidationError as error:
        errors = error.errors(include_url=False)
        return Invalid(describe(errors), kind_of(errors))
    except _Refused as refused:
        return Invalid(str(refused), refused.kind)


def _enrolment_event(value: dict[str, Any]) -> EnrolmentEvent:
    kind = value.get("type")
    if kind is None:
        raise _Refused("missing field type", "missing_field")
    model = ENROLMENT_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise _Refused(f"unknown type {kind!r} (known: {one_of(list(ENROLMENT_MODELS))})",
                       "unknown_type")
    return model.model_validate(value)  # type: ignore[return-value]  # the table maps into the union


_VALIDATORS: dict[str, Callable[[dict[str, Any]], InboundEvent]] = {
    card_transactions.TOPIC: CardTransaction.model_validate,
    member_enrolment.TOPIC: _enrolment_event,
    clock_days.TOPIC: DayStarted.model_validate,
}


def _json_kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", int: "a number", float: "a number"}
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return kinds.get(type(value), type(value).__name__)
