"""Load the watch's rules from TOML and check them against the programme catalogue."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from engine.catalogue import Catalogue
from services.watch.domain.rules import WatchRules

DEFAULT_RULES = "watch_rules.toml"


class RulesError(ValueError):
    """The rules cannot be used; the message names each bad key."""


@dataclass(frozen=True)
class Watched:
    """The rules, and what they read from the catalogue: which merchant categories are
    subsidised, and the amount that earns the largest payout per category."""

    rules: WatchRules
    subsidised_mcc: frozenset[str]
    maximising_amount: dict[str, int]
    """mcc -> amount (fen)."""


def load_rules(catalogue: Catalogue, path: Path | None = None) -> Watched:
    where = DEFAULT_RULES if path is None else str(path)
    try:
        text = (resources.files("services.watch").joinpath(DEFAULT_RULES).read_text("utf-8")
                if path is None else path.read_text("utf-8"))
    except OSError as error:
        raise RulesError(f"{where}: cannot read it ({error.strerror})") from None
    return parse_rules(text, catalogue, where)


def parse_rules(text: str, catalogue: Catalogue, where: str = "rules") -> Watched:
    try:
        rules = WatchRules.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{where}: not valid TOML ({error})") from None
    except ValidationError as error:
        raise RulesError("; ".join(_describe(e) for e in error.errors())) from None
    mccs = {mcc for p in catalogue.programmes for rule in p.pays_on.merchants for mcc in rule.mcc}
    amounts: dict[str, int] = {}
    for name, amount in rules.subsidy_maximising.amounts.items():
        try:
            programme = catalogue.programme(name)
        except KeyError:
            raise RulesError(f"subsidy_maximising.amounts.{name}: no such programme in the "
                             "catalogue") from None
        if not programme.pays_on.merchants:
            raise RulesError(f"subsidy_maximising.amounts.{name}: not a purchase programme")
        for rule in programme.pays_on.merchants:
            amounts.update(dict.fromkeys(rule.mcc, amount))
    return Watched(rules, frozenset(mccs), amounts)


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"])
    message = error["msg"]
    if error["type"] == "missing":
        message = "missing"
    elif error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{key}: {message}"
