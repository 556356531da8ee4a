"""The programme catalogue: loaded from a declarative TOML file, validated, then read-only.

`load_catalogue()` reads `default_catalogue.toml` (or the file given); any problem raises
`CatalogueError` naming the key, e.g. `programme[2].limits[0].period: must be one of day,
month, year, window, ever`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from engine.catalogue_errors import describe
from engine.programme import EventKind, Programme

DEFAULT_CATALOGUE = "default_catalogue.toml"


class CatalogueError(ValueError):
    """The catalogue cannot be used; the message names each bad key."""


class _CatalogueFile(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)

    programme: Annotated[tuple[Programme, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [programme.name for programme in self.programme]
        if len(set(names)) != len(names):
            raise PydanticCustomError("names", "programme: each programme needs its own name")
        return self


@dataclass(frozen=True)
class Catalogue:
    """The programmes in precedence order, indexed for the rules that read them."""

    programmes: tuple[Programme, ...]
    _by_name: dict[str, Programme] = field(init=False, repr=False, compare=False)
    _by_event: dict[str, tuple[Programme, ...]] = field(init=False, repr=False, compare=False)
    _by_mcc: dict[str, tuple[Programme, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_event: dict[str, list[Programme]] = {}
        by_mcc: dict[str, list[Programme]] = {}
        for programme in self.programmes:
            by_event.setdefault(programme.pays_on.event, []).append(programme)
            for mcc in sorted({m for rule in programme.pays_on.merchants for m in rule.mcc}):
                by_mcc.setdefault(mcc, []).append(programme)
        object.__setattr__(self, "_by_name", {p.name: p for p in self.programmes})
        object.__setattr__(self, "_by_event", {k: tuple(v) for k, v in by_event.items()})
        object.__setattr__(self, "_by_mcc", {k: tuple(v) for k, v in by_mcc.items()})

    def programme(self, name: str) -> Programme:
        """The programme called `name` (KeyError if there is none)."""
        return self._by_name[name]

    def paying_on(self, event: EventKind) -> tuple[Programme, ...]:
        """The programmes that pay on `event`, in precedence order."""
        return self._by_event.get(event, ())

    def for_mcc(self, mcc: str) -> tuple[Programme, ...]:
        """The purchase programmes that name `mcc`, in precedence order."""
        return self._by_mcc.get(mcc, ())

    def with_budgets(self, budgets: Mapping[str, int]) -> Catalogue:
        """The same catalogue with these yearly budgets (fen) replacing the configured ones."""
        unknown = sorted(set(budgets) - set(self._by_name))
        if unknown:
            raise CatalogueError(f"budgets: unknown programme {', '.join(unknown)}")
        bad = sorted(n for n, v in budgets.items() if type(v) is not int or v < 0)
        if bad:
            raise CatalogueError(f"budgets: {', '.join(bad)}: must be an integer >= 0 (fen)")
        return Catalogue(
            tuple(
                p.model_copy(update={"yearly_budget_fen": budgets[p.name]})
                if p.name in budgets
                else p
                for p in self.programmes
            )
        )


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue in `path`, or the reference catalogue when no path is given."""
    where = DEFAULT_CATALOGUE if path is None else str(path)
    try:
        if path is None:
            text = resources.files(__package__).joinpath(DEFAULT_CATALOGUE).read_text("utf-8")
        else:
            text = path.read_text("utf-8")
    except OSError as error:
        raise CatalogueError(f"{where}: cannot read it ({error.strerror})") from None
    return parse_catalogue(text, where)


def parse_catalogue(text: str, where: str = "catalogue") -> Catalogue:
    """The catalogue written in the TOML `text`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"{where}: not valid TOML ({error})") from None
    return catalogue_from_dict(data)


def catalogue_from_dict(data: Mapping[str, Any]) -> Catalogue:
    """The catalogue described by `data` (the shape of the TOML file)."""
    try:
        spec = _CatalogueFile.model_validate(data)
    except ValidationError as error:
        raise CatalogueError(describe(error.errors())) from None
    return Catalogue(spec.programme)
