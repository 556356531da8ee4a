"""Field types and base models shared by every topic module.

Inbound models (what the bank and the membership system send) keep unknown extra fields;
outbound models (what we produce) refuse them and validate strictly. Every model is frozen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MCC_PATTERN = r"^[0-9]{4}$"
NO_NUL_PATTERN = r"^[^\x00]*$"
_CALENDAR_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

# The bounds of what we take in: what the engine and PostgreSQL can hold, with room to spare.
# PostgreSQL text and jsonb hold no NUL (U+0000); keys are primary keys (a B-tree entry is
# at most ~2,700 bytes); amounts are bigint and are summed into budgets and limits; the
# engine turns every time into an Asia/Shanghai date, which `datetime` cannot do near its
# years 1 and 9999.
MAX_FEN = 10**12
"""The largest amount of one transaction: 10,000,000,000 CNY."""
MAX_ID_LENGTH = 128
"""The longest id (member, card, transaction, merchant), in characters."""
MAX_TEXT_LENGTH = 256
"""The longest free text (a name, a merchant's name, a union branch), in characters."""
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099
"""`occurred_at` lies in these years (as written, in its own offset)."""
EARLIEST_DATE_YEAR = 1900
"""A calendar date (a birth date, a day) lies in 1900 to `LATEST_YEAR`."""

# What a pattern means, in words a person reads in a dead-letter reason.
PATTERN_MEANINGS: dict[str, str] = {
    UUID_PATTERN: "must be a UUID string",
    MCC_PATTERN: "must be a string of 4 digits",
    NO_NUL_PATTERN: "must not contain a NUL character (\\u0000)",
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


def _plausible_time(value: datetime) -> datetime:
    """Refuse a time outside `EARLIEST_YEAR`..`LATEST_YEAR` (checked before any conversion:
    9999-12-31T23:59:59-08:00 has no UTC `datetime`)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError(
            "time_out_of_range", "must be in the years {earliest} to {latest}",
            {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR})
    return value


def _plausible_date(value: date) -> date:
    if not EARLIEST_DATE_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError(
            "date_out_of_range", "must be in the years {earliest} to {latest}",
            {"earliest": EARLIEST_DATE_YEAR, "latest": LATEST_YEAR})
    return value


def nul_in(value: Any) -> bool:
    """Whether a JSON value holds a NUL character anywhere (a key, a string, nested)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or nul_in(item) for key, item in value.items())
    if isinstance(value, list):
        return any(nul_in(item) for item in value)
    return False


EventId = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
"""A message's unique id: a resend repeats it."""

Fen = Annotated[int, Field(strict=True)]
"""An amount of money in integer fen (1 CNY = 100 fen); never a float, a bool or text."""

PositiveFen = Annotated[int, Field(strict=True, gt=0, le=MAX_FEN)]
"""An amount of money in integer fen, above zero and at most `MAX_FEN`."""

Mcc = Annotated[str, StringConstraints(pattern=MCC_PATTERN)]
"""A merchant category code: exactly 4 digits."""

Identifier = Annotated[str, StringConstraints(min_length=1)]
"""A non-empty identifier (of what we produce: payout, audit record, programme...)."""

SourceId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH,
                                            pattern=NO_NUL_PATTERN)]
"""An id the bank or the membership system gave (member, card, transaction, merchant):
non-empty, at most `MAX_ID_LENGTH` characters, no NUL."""

Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH, pattern=NO_NUL_PATTERN)]
"""Free text we keep (a name, a merchant's name): at most `MAX_TEXT_LENGTH` characters, no NUL."""

NonEmptyText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH,
                                                pattern=NO_NUL_PATTERN)]
"""Like `Text`, and not empty."""

OccurredAt = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text),
                       AfterValidator(_plausible_time),
                       Field(json_schema_extra={"x-years": [EARLIEST_YEAR, LATEST_YEAR]})]
"""When it happened: an RFC 3339 timestamp with its UTC offset (a naive time is refused),
in the years `EARLIEST_YEAR` to `LATEST_YEAR`."""

CalendarDate = Annotated[date, BeforeValidator(_calendar_date_text),
                         AfterValidator(_plausible_date),
                         Field(json_schema_extra={"x-years": [EARLIEST_DATE_YEAR, LATEST_YEAR]})]
"""A calendar date written `YYYY-MM-DD`, in the years `EARLIEST_DATE_YEAR` to `LATEST_YEAR`."""


class _MasksPersonalData(BaseModel):
    """Shows personal-data fields masked in `repr()` and `str()`."""

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, PERSONAL_MASK if name in PERSONAL_FIELDS else value


class InboundModel(_MasksPersonalData):
    """A message we consume: unknown extra fields are accepted and kept (in jsonb, so
    without a NUL in any key or value)."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="allow", frozen=True, hide_input_in_errors=True, use_attribute_docstrings=True
    )

    @model_validator(mode="after")
    def _extra_fields_fit_jsonb(self) -> Self:
        extra = self.__pydantic_extra__
        if extra and nul_in(extra):
            raise PydanticCustomError(
                "nul_in_extra", "extra fields: must not contain a NUL character (\\u0000)")
        return self


class OutboundModel(_MasksPersonalData):
    """A message we produce: strict types, no extra fields."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
    )
