"""The catalogue is configuration: loaded from TOML, validated, errors name the key."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

import pytest

from engine.catalogue import CatalogueError, catalogue_from_dict, parse_catalogue
from tests.unit.engine.builders import CATALOGUE

REFERENCE: dict[str, Any] = tomllib.loads(
    resources.files("engine").joinpath("default_catalogue.toml").read_text("utf-8")
)


def test_the_reference_catalogue_in_precedence_order() -> None:
    names = [p.name for p in CATALOGUE.programmes]
    assert names == [
        "return_trip",
        "green_commute",
        "cinema",
        "books",
        "birthday",
        "skill_upgrade",
        "craft_award",
    ]


def test_the_reference_values() -> None:
    green = CATALOGUE.programme("green_commute")
    assert green.yearly_budget_fen == 1_200_000_000
    assert [(lim.name, lim.kind, lim.max, lim.period) for lim in green.limits] == [
        ("monthly_money", "money", 4_000, "month"),
        ("daily_rides", "count", 4, "day"),
    ]
    trip = CATALOGUE.programme("return_trip")
    assert [(w.year, str(w.first_day), str(w.last_day)) for w in trip.pays_on.windows] == [
        (2027, "2027-02-06", "2027-03-07")
    ]
    assert CATALOGUE.programme("skill_upgrade").amount.base_fen(0, "senior_technician") == 200_000


def test_a_mcc_names_its_programmes_in_order() -> None:
    assert [p.name for p in CATALOGUE.for_mcc("4131")] == ["return_trip", "green_commute"]
    assert CATALOGUE.for_mcc("5411") == ()


def _broken(change: Any) -> str:
    data = copy.deepcopy(REFERENCE)
    change(data)
    with pytest.raises(CatalogueError) as raised:
        catalogue_from_dict(data)
    return str(raised.value)


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(data: Any) -> None:
        for part in path[:-1]:
            data = data[part]
        data[path[-1]] = value

    return change


def _delete(path: tuple[Any, ...]) -> Any:
    def change(data: Any) -> None:
        for part in path[:-1]:
            data = data[part]
        del data[path[-1]]

    return change


P = "programme"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _set((P, 2, "limits", 0, "period"), "week"),
            "programme[2].limits[0].period: must be one of day, month, year, window, ever",
        ),
        (
            _set((P, 1, "limits", 1, "kind"), "rides"),
            "programme[1].limits[1].kind: must be one of count, money, once",
        ),
        (_set((P, 1, "amount", "percent"), 0), "programme[1].amount.percent: must be > 0"),
        (_set((P, 1, "amount", "percent"), 101), "programme[1].amount.percent: must be <= 100"),
        (
            _set((P, 1, "amount", "percent"), 50.5),
            "programme[1].amount.percent: must be an integer",
        ),
        (_set((P, 1, "amount", "percnt"), 5), "programme[1].amount.percnt: unknown key"),
        (
            _set((P, 0, "amount", "rule"), "half"),
            "programme[0].amount.rule: must be one of fixed, per_level, per_title, percent,",
        ),
        (_delete((P, 4, "yearly_budget_fen")), "programme[4].yearly_budget_fen: missing"),
        (_set((P, 3, "yearly_budget_fen"), -1), "programme[3].yearly_budget_fen: must be >= 0"),
        (
            _set((P, 3, "pays_on", "merchants", 0, "mcc"), ["59a2"]),
            "programme[3].pays_on.merchants[0].mcc[0]: must be a merchant category code",
        ),
        (
            _set(
                (P, 0, "pays_on", "windows", 0, "last_day"),
                REFERENCE[P][0]["pays_on"]["windows"][0]["first_day"].replace(day=1),
            ),
            "programme[0].pays_on.windows[0].last_day: must not be before first_day",
        ),
        (
            _set((P, 1, "limits", 1, "name"), "monthly_money"),
            "programme[1].limits: each limit needs its own name",
        ),
        (_set((P, 1, "name"), "cinema"), "programme: each programme needs its own name"),
        (
            _set((P, 5, "limits", 0, "per"), "member_title"),
            "programme[5].limits: once_per_level is per member_title",
        ),
        (
            _set((P, 4, "amount"), {"rule": "percent", "percent": 5}),
            "programme[4].amount: a percent amount cannot pay on birthday",
        ),
        (
            _delete((P, 0, "pays_on", "windows")),
            "programme[0].limits: a window period needs pays_on.windows",
        ),
        (
            _set((P, 2, "pays_on", "merchants"), []),
            "programme[2].pays_on.merchants: needed for a purchase programme",
        ),
        (
            _set((P, 4, "limits", 0, "max"), 2),
            "programme[4].limits[0].max: a once limit allows exactly 1",
        ),
        (_set((P,), []), "programme: must not be empty"),
        (
            _set((P, 0, "pays_on", "windows", 0, "first_day"), "soon"),
            "programme[0].pays_on.windows[0].first_day: must be a date",
        ),
        (_set((P, 1, "name"), "Green"), "programme[1].name: must be a name in lower_case"),
    ],
)
def test_an_error_names_the_key(change: Any, message: str) -> None:
    assert message in _broken(change)


def test_every_problem_is_reported() -> None:
    def two(data: Any) -> None:
        data[P][0]["limits"][0]["period"] = "week"
        data[P][6]["yearly_budget_fen"] = "lots"

    message = _broken(two)
    assert "programme[0].limits[0].period" in message
    assert "programme[6].yearly_budget_fen" in message


def test_an_item_error_is_not_echoed_as_an_empty_list() -> None:
    message = _broken(_set((P, 3, "pays_on", "merchants", 0, "mcc"), ["59a2"]))
    assert "must not be empty" not in message


def test_text_that_is_not_toml() -> None:
    with pytest.raises(CatalogueError, match="not valid TOML"):
        parse_catalogue("[[programme]\nname=", "broken.toml")


def test_order_in_the_file_is_precedence() -> None:
    data = copy.deepcopy(REFERENCE)
    data[P][0], data[P][1] = data[P][1], data[P][0]
    swapped = catalogue_from_dict(data)
    assert [p.name for p in swapped.for_mcc("4131")] == ["green_commute", "return_trip"]


def test_budgets_can_be_replaced() -> None:
    smaller = CATALOGUE.with_budgets({"books": 1_500, "cinema": 0})
    assert smaller.programme("books").yearly_budget_fen == 1_500
    assert smaller.programme("cinema").yearly_budget_fen == 0
    assert smaller.programme("green_commute").yearly_budget_fen == 1_200_000_000
    assert CATALOGUE.programme("books").yearly_budget_fen == 200_000_000


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ({"bookz": 1}, "unknown programme bookz"),
        ({"books": -1}, "books: must be an integer >= 0"),
    ],
)
def test_bad_budgets_are_refused(budgets: dict[str, int], message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        CATALOGUE.with_budgets(budgets)
