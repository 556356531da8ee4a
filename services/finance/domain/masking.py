"""Members' personal data as a viewer sees it: masked, but still telling two people apart."""

from __future__ import annotations

import re

MASK = "*"


def mask_name(name: str | None) -> str | None:
    """Masked the usual Chinese way: `张三丰` -> `张*丰`, `李四` -> `李*`, `欧阳娜娜` ->
    `欧**娜`, `Li Wei` -> `L****i`: the first and (from three characters) the last
    character kept, a star for each one between."""
    if not name:
        return name
    if len(name) == 1:
        return MASK
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def shown_name(name: str | None, sees_personal_data: bool) -> str | None:
    return name if sees_personal_data else mask_name(name)


_BIRTHDAY = re.compile(r"(birthday on )\d{4}-\d{2}-\d{2}")


def mask_outcome(outcome: str) -> str:
    """A trace outcome without the member's birth date (`birthday on ****-**-**`)."""
    return _BIRTHDAY.sub(r"\1****-**-**", outcome)
