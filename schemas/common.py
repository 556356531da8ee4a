"""Field types and base models shared by every topic module.

Inbound models (what the bank and the membership system send) keep unknown extra fields;
outbound models (what we produce) refuse them and validate strictly. Every model is frozen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MCC_PATTERN = r"^[0-9]{4}$"
_CALENDAR_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

# What a pattern means, in words a person reads in a dead-letter reason.
PATTERN_MEANINGS: dict[str, str] = {
    UUID_PATTERN: "must be a UUID string",
    MCC_PATTERN: "must be a string of 4 digits",
}

# Fields that are personal data: never shown in clear in a repr or an error reason.
PERSONAL_FIELDS: frozenset[str] = frozenset({"name"})

PERSONAL_MASK = "<personal>"


def _rfc3339_text(value: Any) -> Any:
    """Refuse a number for a timestamp (pydantic would take it as epoch seconds)."""
    if type(value) is not str and not isinstance(value, datetime):
        raise PydanticCustomError("rfc3339", "must be an RFC 3339 timestamp with offset")
    return value


def _calendar_date_text(value: Any) -> Any:
    """Refuse anything but `YYYY-MM-DD` text (or a `date`) for a calendar date."""
    if type(value) is date:
        return value
    if type(value) is not str or _CALENDAR_DATE.match(value) is None:
        raise PydanticCustomError("calendar_date", "must be a real date as YYYY-MM-DD")
    return value


EventId = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
"""A message's unique id: a resend repeats it."""

Fen = Annotated[int, Field(strict=True)]
"""An amount of money in integer fen (1 CNY = 100 fen); never a float, a bool or text."""

PositiveFen = Annotated[int, Field(strict=True, gt=0)]
"""An amount of money in integer fen, above zero."""

Mcc = Annotated[str, StringConstraints(pattern=MCC_PATTERN)]
"""A merchant category code: exactly 4 digits."""

Identifier = Annotated[str, StringConstraints(min_length=1)]
"""A non-empty identifier (member, card, transaction, merchant...)."""

OccurredAt = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
"""When it happened: an RFC 3339 timestamp with its UTC offset (a naive time is refused)."""

CalendarDate = Annotated[date, BeforeValidator(_calendar_date_text)]
"""A calendar date written `YYYY-MM-DD`."""


class _MasksPersonalData(BaseModel):
    """Shows personal-data fields masked in `repr()` and `str()`."""

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, PERSONAL_MASK if name in PERSONAL_FIELDS else value


class InboundModel(_MasksPersonalData):
    """A message we consume: unknown extra fields are accepted and kept."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="allow", frozen=True, hide_input_in_errors=True, use_attribute_docstrings=True
    )


class OutboundModel(_MasksPersonalData):
    """A message we produce: strict types, no extra fields."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
    )
