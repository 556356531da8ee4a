"""Members' personal data as a viewer sees it: masked, but still telling two people apart."""

from __future__ import annotations

import re

MASK = "*"


def mask_name(name: str | None) -> str | None:
    """`张三丰` -> `张**`, `Li Wei` -> `L*****`: the first character, then one star for each."""
    if not name:
        return name
    return name[0] + MASK * (len(name) - 1)


def shown_name(name: str | None, sees_personal_data: bool) -> str | None:
    return name if sees_personal_data else mask_name(name)


_BIRTHDAY = re.compile(r"(birthday on )\d{4}-\d{2}-\d{2}")


def mask_outcome(outcome: str) -> str:
    """A trace outcome without the member's birth date (`birthday on ****-**-**`)."""
    return _BIRTHDAY.sub(r"\1****-**-**", outcome)
