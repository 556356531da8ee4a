"""Catalogue validation errors in words a person editing the TOML file acts on.

Each problem names the key as written in the file (`programme[2].limits[0].period`) and what
is wrong with it (`must be one of day, month, year, window, ever`).
"""

from __future__ import annotations

import re

from pydantic_core import ErrorDetails

from engine.programme import AMOUNT_RULES

_RULES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "too_short": "must not be empty",
    "date_type": "must be a date (YYYY-MM-DD, unquoted)",
    "date_parsing": "must be a date (YYYY-MM-DD, unquoted)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD, unquoted)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD, unquoted)",
    "model_type": "must be a table",
    "tuple_type": "must be an array",
    "dict_type": "must be a table",
}
_PATTERNS = {
    r"^[0-9]{4}$": "must be a merchant category code of 4 digits",
    r"^[a-z][a-z0-9_]*$": "must be a name in lower_case (letters, digits, _)",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<"}
_BOUNDS["less_than_equal"] = "<="
_QUOTED = re.compile(r"'([^']*)'")
_FIELD_IN_MESSAGE = re.compile(r"^([a-z_]+(?:\.[a-z_]+)*): (.*)$")


def describe(errors: list[ErrorDetails]) -> str:
    """Every problem, `; `-separated, each as `<key path>: <what is wrong>`."""
    paths = [_path(error["loc"]) for error in errors]
    return "; ".join(
        _problem(error)
        for error, path in zip(errors, paths, strict=True)
        # an empty-after-validation complaint only echoes the error of one of its items
        if error["type"] != "too_short" or not any(p.startswith(path + "[") for p in paths)
    )


def _problem(error: ErrorDetails) -> str:
    path = _path(error["loc"])
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "missing":
        return f"{path}: missing"
    if kind == "extra_forbidden":
        return f"{path}: unknown key"
    if kind == "literal_error":
        return f"{path}: must be one of {', '.join(_QUOTED.findall(ctx['expected']))}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"{path}.rule: must be one of {', '.join(sorted(AMOUNT_RULES))}"
    if kind in _RULES:
        return f"{path}: {_RULES[kind]}"
    if kind == "string_pattern_mismatch":
        return f"{path}: {_PATTERNS.get(ctx['pattern'], 'must match ' + ctx['pattern'])}"
    if kind in _BOUNDS:
        return f"{path}: must be {_BOUNDS[kind]} {next(iter(ctx.values()))}"
    message = error["msg"]
    named = _FIELD_IN_MESSAGE.match(message)
    if named is not None:
        path, message = ".".join(p for p in (path, named.group(1)) if p), named.group(2)
    return f"{path}: {message[:1].lower()}{message[1:]}"


def _path(loc: tuple[int | str, ...]) -> str:
    """`('programme', 2, 'limits', 0, 'period')` -> `programme[2].limits[0].period`."""
    path = ""
    for i, part in enumerate(loc):
        if i and loc[i - 1] == "amount" and part in AMOUNT_RULES:
            continue  # the tag pydantic adds for the amount union
        if part == "[key]":
            continue  # pydantic's mark of a bad dict key: the key itself is the last part
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".")
