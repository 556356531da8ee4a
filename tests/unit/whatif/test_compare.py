"""The comparison: per programme, per member, and the budget's burn-down."""

from __future__ import annotations

from datetime import date

from engine.catalogue import load_catalogue
from puhui.whatif.compare import Payouts, bin_labels, compare, histogram
from puhui.whatif.window import Window

CATALOGUE = load_catalogue()
SMALL_CINEMA = CATALOGUE.with_budgets({"cinema": 5_000})


def _payouts(*rows: tuple[str, str, date, int]) -> Payouts:
    payouts = Payouts()
    for row in rows:
        payouts.add(*row)
    return payouts


def _april(day: int) -> date:
    return date(2027, 4, day)


def test_differences_gainers_and_losers() -> None:
    today = _payouts(("cinema", "a", _april(1), 3_000), ("cinema", "b", _april(2), 3_000),
                     ("green_commute", "a", _april(1), 100))
    new = _payouts(("cinema", "a", _april(1), 4_000), ("cinema", "b", _april(2), 3_000),
                   ("green_commute", "a", _april(1), 80), ("green_commute", "c", _april(3), 80))
    result = compare(today, new, CATALOGUE, CATALOGUE)
    rows = {r.programme: r for r in result.programmes}
    assert (rows["cinema"].difference_fen, rows["green_commute"].difference_fen) == (1_000, 60)
    assert (rows["cinema"].members_gaining, rows["cinema"].members_losing) == (1, 0)
    assert (rows["green_commute"].members_gaining, rows["green_commute"].members_losing) == (1, 1)
    assert (result.members_compared, result.members_gaining, result.members_losing) == (3, 2, 0)
    assert dict(result.histogram) == {**dict.fromkeys(bin_labels(), 0), "unchanged": 1,
                                      "0 to 1 CNY": 1, "1 to 10 CNY": 1}
    assert result.total_difference_fen == 1_060


def test_the_day_a_budget_is_used_up_under_each_catalogue() -> None:
    today = _payouts(("cinema", "a", _april(1), 3_000), ("cinema", "b", _april(5), 2_000))
    new = _payouts(("cinema", "a", _april(1), 4_000), ("cinema", "b", _april(5), 1_000))
    (burn,) = [b for b in compare(today, new, SMALL_CINEMA, CATALOGUE).burn_down
               if b.programme == "cinema"]
    assert burn.days == (date(2027, 4, 1), date(2027, 4, 5))
    assert burn.spent_today_fen == (3_000, 5_000)
    assert burn.spent_new_fen == (4_000, 5_000)
    assert burn.exhausted_today == date(2027, 4, 5)
    assert burn.exhausted_new is None  # the new catalogue's cinema budget is 300,000,000


def test_a_new_year_starts_a_new_budget() -> None:
    spent = _payouts(("books", "a", date(2027, 12, 31), 700), ("books", "a", date(2028, 1, 1), 50))
    (burn,) = [b for b in compare(spent, spent, CATALOGUE, CATALOGUE).burn_down
               if b.programme == "books"]
    assert burn.spent_today_fen == (700, 50)


def test_histogram_bins_are_inclusive_of_their_upper_edge() -> None:
    counts = dict(histogram([-10_001, -10_000, -100, -1, 0, 1, 100, 101, 10_000, 10_001]))
    assert list(counts.values()) == [1, 1, 0, 2, 1, 2, 1, 1, 1]


def test_windows() -> None:
    year = Window.year(2027)
    assert year.takes(date(2027, 1, 1))
    assert year.takes(date(2027, 12, 31))
    assert not year.takes(date(2026, 12, 31))
    assert not year.takes(date(2028, 1, 1))
    since = Window.since(date(2027, 6, 1))
    assert since.takes(date(2027, 1, 1))
    assert not since.reports(date(2027, 5, 31))
    assert since.reports(date(2027, 6, 1))
    assert since.reports(date(2030, 1, 1))
