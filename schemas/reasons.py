"""Turn pydantic validation errors into a reason a person can read.

A reason names the field and the problem, e.g. `amount_fen: must be > 0, got -5`, and never
repeats the value of a personal-data field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from pydantic_core import ErrorDetails

from schemas.common import PATTERN_MEANINGS, PERSONAL_FIELDS
from schemas.dead_letters import InvalidKind

MAX_PROBLEMS = 3
MAX_SHOWN_VALUE = 40

TIMESTAMP_RULE = "must be an RFC 3339 timestamp with offset"
DATE_RULE = "must be a real date as YYYY-MM-DD"

# pydantic error type -> the rule it broke, in words
_RULES: dict[str, str] = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "timezone_aware": TIMESTAMP_RULE + " (it has no offset)",
    "datetime_parsing": TIMESTAMP_RULE,
    "datetime_from_date_parsing": TIMESTAMP_RULE,
    "datetime_type": TIMESTAMP_RULE,
    "date_parsing": DATE_RULE,
    "date_from_datetime_parsing": DATE_RULE,
    "date_from_datetime_inexact": DATE_RULE,
    "date_type": DATE_RULE,
    "extra_forbidden": "is not a field of this message",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "bool_type": "must be true or false",
}


def describe(errors: Sequence[ErrorDetails]) -> str:
    """One line naming each problem (the first few) with its field; missing fields go first."""
    missing = [field_path(error["loc"]) for error in errors if error["type"] == "missing"]
    others = [error for error in errors if error["type"] != "missing"]
    problems = [_missing(missing)] if missing else []
    problems += [_problem(error) for error in others[: MAX_PROBLEMS - len(problems)]]
    more = len(others) + bool(missing) - len(problems)
    if more > 0:
        problems.append(f"and {more} more")
    return "; ".join(problems)


def kind_of(errors: Sequence[ErrorDetails]) -> InvalidKind:
    """The dead-letter kind of a failed validation: a missing field, an unknown `type`, or
    else a value that breaks its field's rule."""
    if any(error["type"] == "missing" for error in errors):
        return "missing_field"
    if any(error["loc"] == ("type",) and error["type"] == "literal_error" for error in errors):
        return "unknown_type"
    return "invalid_value"


def field_path(loc: tuple[int | str, ...]) -> str:
    """`('trace', 0, 'rule')` -> `trace[0].rule`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".")


def one_of(choices: Sequence[str]) -> str:
    """`['a', 'b', 'c']` -> `'a', 'b' or 'c'` (as pydantic words a literal)."""
    quoted = [repr(choice) for choice in choices]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else "".join(quoted)


def _missing(paths: Sequence[str]) -> str:
    return f"missing field {paths[0]}" if len(paths) == 1 else f"missing fields {', '.join(paths)}"


def _problem(error: ErrorDetails) -> str:
    path = field_path(error["loc"])
    if path == "type" and error["type"] == "literal_error":
        known = error.get("ctx", {}).get("expected")
        return f"unknown type {_shown(error['input'])} (known: {known})"
    if not path:  # a rule across fields: its message names the fields itself
        return error["msg"]
    return f"{path}: {_rule(error)}{_got(path, error)}"


def _rule(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in _RULES:
        return _RULES[kind]
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "string_pattern_mismatch":
        return PATTERN_MEANINGS.get(ctx["pattern"], f"must match {ctx['pattern']}")
    if kind == "literal_error":
        return f"must be {ctx['expected']}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _bound(kind, ctx)
    return error["msg"][:1].lower() + error["msg"][1:]


def _bound(kind: str, ctx: dict[str, Any]) -> str:
    sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<"}.get(kind, "<=")
    limit = next(iter(ctx.values()))
    return f"must be {sign} {limit}"


def _got(path: str, error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden" or path.rsplit(".", 1)[-1] in PERSONAL_FIELDS:
        return ""
    return f", got {_shown(error['input'])}"


def _shown(value: Any) -> str:
    """The offending value as JSON, cut short; `'foo'` style for text."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = orjson.dumps(value).decode()
        except TypeError:
            text = repr(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 3] + "..."
