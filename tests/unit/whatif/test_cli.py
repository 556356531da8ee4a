"""`puhui simulate --from-kafka`: what it refuses before it touches the broker."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from puhui.simulate import simulate

BASE = resources.files("engine").joinpath("default_catalogue.toml").read_text()
NO_BROKER = {"PUHUI_KAFKA_BOOTSTRAP": "127.0.0.1:1"}  # the unit tier refuses any connection


@pytest.mark.parametrize(("change", "key"), [
    (("subtract_fen = 990", "subtract_fen = -990"),
     "programme[2].amount.subtract_fen: must be >= 0"),
    (("last_day = 2027-03-07", "last_day = 2027-01-07"),
     "programme[0].pays_on.windows[0].last_day: must not be before first_day"),
    (('name = "monthly_tickets"\nkind = "count"', 'name = "monthly_tickets"\nkind = "rides"'),
     "programme[2].limits[0].kind: must be one of count, money, once"),
    (('name = "monthly_tickets"\nkind = "count"', 'name = "monthly_tickets"\nkind = "once"'),
     "programme[2].limits[0].max: a once limit allows exactly 1"),
    (("technician = 100_000", "wizard = 100_000"),
     "programme[5].amount.amounts.wizard: must be one of technician, senior_technician"),
    (('event = "birthday"', 'event = "anniversary"'), "programme[4].pays_on.event: must be one of"),
    (('name = "cinema"', 'name = "cinema"\nbudget = 1'), "programme[2].budget: unknown key"),
])
def test_a_bad_catalogue_is_named_by_its_key_and_nothing_runs(
        change: tuple[str, str], key: str, tmp_path: Path) -> None:
    assert change[0] in BASE
    path = tmp_path / "bad.toml"
    path.write_text(BASE.replace(*change), encoding="utf-8")
    result = CliRunner().invoke(simulate, ["--from-kafka", "--year", "2027", "--against-ledger",
                                           "--catalogue", str(path)], env=NO_BROKER)
    assert result.exit_code == 2
    assert key in result.output
    assert "Traceback" not in result.output


def test_an_unknown_programme_in_a_budget_is_named() -> None:
    result = CliRunner().invoke(simulate, ["--from-kafka", "--year", "2027",
                                           "--budget", "cinemas=5"], env=NO_BROKER)
    assert result.exit_code == 2
    assert "budgets: unknown programme cinemas" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "2027", "-"], "--year, --since and --against-ledger go with --from-kafka"),
    (["--from-kafka"], "needs one of --year YYYY or --since YYYY-MM-DD"),
    (["--from-kafka", "--year", "2027", "--since", "2027-03-01"], "needs one of --year"),
    (["--from-kafka", "--year", "2027", "-"], "--from-kafka reads the broker: give no EVENTS"),
    ([], "give EVENTS (a file, or - for stdin) or --from-kafka"),
])
def test_usage_mistakes_are_said_plainly(args: list[str], message: str) -> None:
    result = CliRunner().invoke(simulate, args, env=NO_BROKER)
    assert result.exit_code == 2
    assert message in result.output
