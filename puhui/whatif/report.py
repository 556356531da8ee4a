"""A comparison for a person and for a spreadsheet: a table, JSON, CSV (UTF-8 with BOM) and a
PNG chart (matplotlib, the optional `bench` extra)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from puhui.whatif.compare import Comparison

MISSING_CHART = ("--against-ledger draws its chart with matplotlib, which is not installed: "
                 "pip install 'puhui[bench]' (the dev install has it)")
FILES = ("whatif.json", "programmes.csv", "members.csv", "burn-down.csv", "whatif.png")


class ChartLibraryMissing(RuntimeError):
    """matplotlib is an optional extra; without it no comparison starts."""


def require_chart_library() -> None:
    if importlib.util.find_spec("matplotlib") is None:
        raise ChartLibraryMissing(MISSING_CHART)


def as_data(comparison: Comparison, about: dict[str, Any]) -> dict[str, Any]:
    """Everything in the comparison as JSON-ready data (fen as integers, days as ISO dates)."""
    return {
        **about,
        "programmes": [{"programme": r.programme, "paid_today_fen": r.paid_today_fen,
                        "paid_new_fen": r.paid_new_fen, "difference_fen": r.difference_fen,
                        "members_gaining": r.members_gaining, "members_losing": r.members_losing}
                       for r in comparison.programmes],
        "total_difference_fen": comparison.total_difference_fen,
        "members": {"compared": comparison.members_compared,
                    "gaining": comparison.members_gaining, "losing": comparison.members_losing,
                    "histogram": [{"change": label, "members": n}
                                  for label, n in comparison.histogram]},
        "burn_down": [{"programme": b.programme, "budget_today_fen": b.budget_today_fen,
                       "budget_new_fen": b.budget_new_fen,
                       "exhausted_today": _iso(b.exhausted_today),
                       "exhausted_new": _iso(b.exhausted_new),
                       "days": [{"day": d.isoformat(), "spent_today_fen": t, "spent_new_fen": n}
                                for d, t, n in zip(b.days, b.spent_today_fen, b.spent_new_fen,
                                                   strict=True)]}
                      for b in comparison.burn_down],
    }


def write(comparison: Comparison, about: dict[str, Any], folder: Path) -> list[Path]:
    """whatif.json, the three CSV files and the chart in `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    data = as_data(comparison, about)
    (folder / "whatif.json").write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    _csv(folder / "programmes.csv", data["programmes"])
    _csv(folder / "members.csv", data["members"]["histogram"])
    _csv(folder / "burn-down.csv", [
        {"programme": b["programme"], "budget_today_fen": b["budget_today_fen"],
         "budget_new_fen": b["budget_new_fen"], **day}
        for b in data["burn_down"] for day in b["days"]])
    draw(comparison, folder / "whatif.png")
    return [folder / name for name in FILES]


def show(comparison: Comparison, console: Console) -> None:
    """The per-programme table, the members who gain and lose, the exhaustion days."""
    table = Table(title="what if: paid today and under the new catalogue (fen)")
    for header in ("programme", "paid today", "paid new", "difference", "members +",
                   "members -", "budget used up today", "... new"):
        table.add_column(header, justify="left" if header == "programme" else "right")
    burn = {b.programme: b for b in comparison.burn_down}
    for row in comparison.programmes:
        b = burn[row.programme]
        table.add_row(row.programme, f"{row.paid_today_fen:,}", f"{row.paid_new_fen:,}",
                      f"{row.difference_fen:+,}", f"{row.members_gaining:,}",
                      f"{row.members_losing:,}", _iso(b.exhausted_today) or "-",
                      _iso(b.exhausted_new) or "-")
    table.caption = (f"total difference {comparison.total_difference_fen:+,} fen; "
                     f"{comparison.members_compared:,} members: "
                     f"{comparison.members_gaining:,} gain, {comparison.members_losing:,} lose")
    console.print(table)
    histogram = Table(title="change per member")
    histogram.add_column("change")
    histogram.add_column("members", justify="right")
    for label, n in comparison.histogram:
        histogram.add_row(label, f"{n:,}")
    console.print(histogram)


def draw(comparison: Comparison, path: Path) -> None:
    import matplotlib  # here, not at import: only a finished comparison needs it

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (paid, members, burn) = plt.subplots(1, 3, figsize=(16, 5))
    names = [r.programme for r in comparison.programmes]
    xs = range(len(names))
    paid.bar([x - 0.2 for x in xs], [r.paid_today_fen / 100 for r in comparison.programmes],
             0.4, label="today")
    paid.bar([x + 0.2 for x in xs], [r.paid_new_fen / 100 for r in comparison.programmes],
             0.4, label="new catalogue")
    paid.set_xticks(list(xs), names, rotation=30, ha="right")
    paid.set_ylabel("CNY")
    paid.set_title("paid per programme")
    paid.legend()
    labels = [label for label, _ in comparison.histogram]
    members.bar(range(len(labels)), [n for _, n in comparison.histogram])
    members.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    members.set_title("change per member")
    members.set_ylabel("members")
    for b in comparison.burn_down:
        if not b.days:
            continue
        line, = burn.plot(b.days, _left(b.budget_today_fen, b.spent_today_fen),
                          label=f"{b.programme} today")
        burn.plot(b.days, _left(b.budget_new_fen, b.spent_new_fen),
                  linestyle="--", color=line.get_color(), label=f"{b.programme} new")
    burn.set_title("yearly budget left by day")
    burn.set_ylabel("% of the budget")
    burn.tick_params(axis="x", rotation=30)
    burn.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _left(budget: int, spent: tuple[int, ...]) -> list[float]:
    return [100 * (budget - fen) / budget if budget else 0.0 for fen in spent]


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # a BOM: Excel reads UTF-8
        if not rows:
            return
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _iso(day: Any) -> str | None:
    return None if day is None else str(day.isoformat())
