"""One programme of the catalogue, as configured: what it pays on, how much, within which limits.

These are the validated shapes of `default_catalogue.toml`; every number and list in them is
configuration. Each part carries the small rule it stands for (does a purchase match, what is
the base amount, which period key a limit counts in).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal, Self, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from engine.money import Fen, percent_of
from engine.periods import Period, period_key
from schemas.member_enrolment import CertificateLevel, HonourTitle

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Mcc = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
PositiveFen = Annotated[int, Field(strict=True, gt=0)]
NonNegativeFen = Annotated[int, Field(strict=True, ge=0)]
PositiveInt = Annotated[int, Field(strict=True, gt=0)]

EventKind: TypeAlias = Literal["purchase", "birthday", "member_certified", "member_honoured"]
"""What a programme pays on; `birthday` is a `day_started` that is the member's birthday."""


class _Spec(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)


class Window(_Spec):
    """The days (Shanghai, both inclusive) a programme pays in a given year."""

    year: Annotated[int, Field(strict=True, ge=1900, le=9999)]
    first_day: date
    last_day: date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.last_day < self.first_day:
            raise PydanticCustomError("window_order", "last_day: must not be before first_day")
        return self

    def holds(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


class Merchants(_Spec):
    """Purchases at any of these merchant category codes, of at least `min_amount_fen`."""

    mcc: Annotated[tuple[Mcc, ...], Field(min_length=1)]
    min_amount_fen: NonNegativeFen = 0

    def take(self, mcc: str, amount: Fen) -> bool:
        return mcc in self.mcc and amount >= self.min_amount_fen


class PaysOn(_Spec):
    """Which events a programme pays on."""

    event: EventKind
    merchants: tuple[Merchants, ...] = ()
    windows: tuple[Window, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.event == "purchase") != bool(self.merchants):
            raise PydanticCustomError(
                "merchants", "merchants: needed for a purchase programme and only for one"
            )
        years = [window.year for window in self.windows]
        if len(set(years)) != len(years):
            raise PydanticCustomError("windows", "windows: one window per year")
        return self

    def window_on(self, day: date) -> Window | None:
        """The window `day` falls in, if any."""
        for window in self.windows:
            if window.holds(day):
                return window
        return None

    def takes_purchase(self, mcc: str, amount: Fen, day: date) -> bool:
        for merchants in self.merchants:
            if merchants.take(mcc, amount):
                return not self.windows or self.window_on(day) is not None
        return False

    def in_season(self, day: date) -> bool:
        """True unless the programme has windows and `day` is in none of them."""
        return not self.windows or self.window_on(day) is not None


class Percent(_Spec):
    """`percent`% of the amount, rounded down, at most `cap_fen` (a per-ride cap)."""

    rule: Literal["percent"]
    percent: Annotated[int, Field(strict=True, gt=0, le=100)]
    cap_fen: PositiveFen | None = None

    def base_fen(self, amount: Fen, grade: str | None) -> Fen:
        paid = percent_of(amount, self.percent)
        return paid if self.cap_fen is None else min(paid, self.cap_fen)


class Subtract(_Spec):
    """The amount less what the member pays (`subtract_fen`), at most `cap_fen`."""

    rule: Literal["subtract"]
    subtract_fen: NonNegativeFen
    cap_fen: PositiveFen | None = None

    def base_fen(self, amount: Fen, grade: str | None) -> Fen:
        paid = max(0, amount - self.subtract_fen)
        return paid if self.cap_fen is None else min(paid, self.cap_fen)


class Fixed(_Spec):
    """Always `amount_fen`."""

    rule: Literal["fixed"]
    amount_fen: PositiveFen

    def base_fen(self, amount: Fen, grade: str | None) -> Fen:
        return self.amount_fen


class PerLevel(_Spec):
    """An amount for each certificate level."""

    rule: Literal["per_level"]
    amounts: dict[CertificateLevel, PositiveFen]

    def base_fen(self, amount: Fen, grade: str | None) -> Fen:
        return next((fen for level, fen in self.amounts.items() if level == grade), 0)


class PerTitle(_Spec):
    """An amount for each honour title."""

    rule: Literal["per_title"]
    amounts: dict[HonourTitle, PositiveFen]

    def base_fen(self, amount: Fen, grade: str | None) -> Fen:
        return next((fen for level, fen in self.amounts.items() if level == grade), 0)


Amount: TypeAlias = Annotated[
    Percent | Subtract | Fixed | PerLevel | PerTitle, Field(discriminator="rule")
]
AMOUNT_RULES: frozenset[str] = frozenset(
    get_args(model.model_fields["rule"].annotation)[0]
    for model in (Percent, Subtract, Fixed, PerLevel, PerTitle)
)

LimitKind: TypeAlias = Literal["count", "money", "once"]
LimitScope: TypeAlias = Literal["member", "member_level", "member_title"]


class Limit(_Spec):
    """At most `max` paid events (count), fen (money) or one grant (once) per key and period."""

    name: Name
    kind: LimitKind
    max: PositiveInt = 1
    period: Period
    per: LimitScope = "member"

    @model_validator(mode="after")
    def _once_is_one(self) -> Self:
        if self.kind == "once" and self.max != 1:
            raise PydanticCustomError("once", "max: a once limit allows exactly 1")
        return self

    def key(self, day: date, window: Window | None) -> str:
        return period_key(self.period, day, None if window is None else window.year)


class Programme(_Spec):
    """One benefit programme; its place in the catalogue is its precedence."""

    name: Name
    title: str = ""
    title_en: str = ""
    """The title in English, for readers who chose it (finance review); optional."""
    yearly_budget_fen: NonNegativeFen
    pays_on: PaysOn
    amount: Amount
    limits: tuple[Limit, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [limit.name for limit in self.limits]
        if len(set(names)) != len(names):
            raise PydanticCustomError("limit_names", "limits: each limit needs its own name")
        if any(limit.period == "window" for limit in self.limits) and not self.pays_on.windows:
            raise PydanticCustomError("window", "limits: a window period needs pays_on.windows")
        _check_grades(self)
        return self


_GRADED: dict[str, tuple[str, str]] = {
    # amount rule -> (the event it needs, the limit scope it goes with)
    "per_level": ("member_certified", "member_level"),
    "per_title": ("member_honoured", "member_title"),
}
_PLAIN_AMOUNTS: dict[str, tuple[str, ...]] = {
    "percent": ("purchase",),
    "subtract": ("purchase",),
    "fixed": ("purchase", "birthday", "member_certified", "member_honoured"),
}


def _check_grades(programme: Programme) -> None:
    rule, event = programme.amount.rule, programme.pays_on.event
    if rule in _GRADED:
        needs_event = _GRADED[rule][0]
        if event != needs_event:
            raise PydanticCustomError("amount", f"amount: a {rule} amount pays on {needs_event}")
    elif event not in _PLAIN_AMOUNTS[rule]:
        raise PydanticCustomError("amount", f"amount: a {rule} amount cannot pay on {event}")
    for limit in programme.limits:
        if limit.per != "member" and (rule not in _GRADED or _GRADED[rule][1] != limit.per):
            raise PydanticCustomError(
                "per", f"limits: {limit.name} is per {limit.per}, which a {rule} amount has not"
            )
