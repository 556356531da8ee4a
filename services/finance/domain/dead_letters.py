"""A dead letter's reason as a viewer sees it: the value of a personal-data field masked.

A reason lists problems, `field: rule, got VALUE; field: rule, got VALUE` (schemas/reasons.py):
the value is a Python repr of text, or JSON, of at most 40 characters ("..." when cut). For a
field that is personal data (PRODUCT.md: a member's name and birth date) the value is hidden
wherever the field sits (`birth_date`, `member.name`, `people[2].birth_date`).
"""

from __future__ import annotations

import re

PERSONAL = frozenset({"name", "birth_date"})
HIDDEN = "<personal>"
MAX_SHOWN = 40  # schemas.reasons.MAX_SHOWN_VALUE
_GOT = re.compile(r"(?:^|(?<=; ))(?P<path>[A-Za-z0-9_\[\].]+): [^;]*?, got ")


def mask_reason(reason: str) -> str:
    """`reason` with every personal-data field's value replaced by `<personal>`."""
    out, at = [], 0
    for found in _GOT.finditer(reason):
        if found.start() < at:
            continue  # inside a value already hidden
        field = re.sub(r"\[\d+\]", "", found["path"]).rsplit(".", 1)[-1]
        if field not in PERSONAL:
            continue
        end = _value_end(reason, found.end())
        out += [reason[at:found.end()], HIDDEN]
        at = end
    return "".join(out) + reason[at:]


def _value_end(text: str, start: int) -> int:
    """Where the value that begins at `start` ends."""
    if text[start:start + 1] in ("'", '"'):
        end = _quoted_end(text, start)
        if end is not None:
            return end
    else:
        end = _json_end(text, start)
        if end is not None:
            return end
    return min(len(text), start + MAX_SHOWN)  # cut short: exactly MAX_SHOWN characters


def _quoted_end(text: str, start: int) -> int | None:
    quote, i = text[start], start + 1
    while i < len(text) and i - start < MAX_SHOWN:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return None


def _json_end(text: str, start: int) -> int | None:
    """The end of a JSON value (strings and nesting followed), at `; ` or the end of text."""
    depth, in_string, i = 0, False, start
    while i < len(text) and i - start <= MAX_SHOWN:
        char = text[i]
        if in_string:
            if char == "\\":
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif depth == 0 and text.startswith("; ", i):
            return i
        i += 1
    return len(text) if i >= len(text) and not in_string and depth <= 0 else None
