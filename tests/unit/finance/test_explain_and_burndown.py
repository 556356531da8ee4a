"""Trace steps of the real engine as message keys; the budget burn-down and its projection."""

from __future__ import annotations

from collections import Counter
from datetime import date

from engine.simulator import Simulator
from engine.trace import to_schema
from puhui.synthetic.feed import FeedPlan, feed
from schemas.decode import Invalid, decode_value
from services.finance.domain.burndown import burn
from services.finance.domain.explain import explain, fen, period_kind


def _engine_steps() -> list[list[dict[str, object]]]:
    simulator = Simulator()
    plan = FeedPlan(members=60, cards=50, days=12, start_date=date(2027, 2, 26), seed=11)
    traces = []
    for topic, value in feed(plan):
        event = decode_value(topic, value)
        if not isinstance(event, Invalid):
            traces += [[s.model_dump() for s in to_schema(d.trace)]
                       for d in simulator.feed(event)]
    return traces


def test_every_step_the_engine_writes_has_a_sentence() -> None:
    keys = Counter(e.key for steps in _engine_steps() for e in explain(steps))
    assert "trace.raw" not in keys
    assert {"trace.matched.purchase", "trace.limit.money.ok", "trace.budget.ok",
            "trace.final"} <= set(keys)


def test_a_limit_that_cuts_the_amount_says_so() -> None:
    steps = [{"rule": "amount_percent", "outcome": "50.00", "amount_fen": 5000},
             {"rule": "monthly_money", "outcome": "money 2027-03: used 39.63 of 40.00, 0.37 left",
              "amount_fen": 37}]
    cut = explain(steps)[1]
    assert cut.key == "trace.limit.money.cut"
    assert cut.args == {"limit": "monthly_money", "period": "2027-03", "period_kind": "month",
                        "used": 3963, "max": 4000, "left": 37, "amount": 37, "before": 5000}


def test_a_count_limit_reached_and_an_unknown_step() -> None:
    steps = [{"rule": "amount_percent", "outcome": "1.00", "amount_fen": 100},
             {"rule": "daily_rides", "outcome": "count 2027-03-02: used 4 of 4, 0 left",
              "amount_fen": 0},
             {"rule": "something_new", "outcome": "as the engine says it"}]
    reached, unknown = explain(steps)[1:]
    assert (reached.key, reached.args["nth"], reached.args["period_kind"]) == \
        ("trace.limit.count.reached", 5, "day")
    assert (unknown.key, unknown.args["outcome"]) == ("trace.raw", "as the engine says it")


def test_money_and_periods_read_back() -> None:
    assert [fen("1,234.56"), fen("-0.40"), fen("0.00")] == [123456, -40, 0]
    assert [period_kind(p) for p in ("2027-03-02", "2027-03", "2027", "window:2027", "ever")] \
        == ["day", "month", "year", "window", "ever"]


def test_the_burn_down_projects_the_day_the_budget_runs_out() -> None:
    # 10 days at 1,000 fen a day of a 100,000 budget: it lasts 100 days from 1 January
    spent = {date(2027, 1, d): 1_000 for d in range(1, 11)}
    made = burn(2027, 100_000, spent, today=date(2026, 12, 1))
    assert made.as_of == date(2027, 1, 10)
    assert made.spent[-1] == (date(2027, 1, 10), 10_000)
    assert made.projected_exhaustion == date(2027, 4, 10)
    assert made.exhausted_on is None


def test_a_budget_spent_or_never_reached() -> None:
    assert burn(2027, 5_000, {date(2027, 3, 1): 6_000}, date(2027, 3, 5)).exhausted_on == \
        date(2027, 3, 1)
    slow = burn(2027, 10**9, {date(2027, 3, 1): 1}, date(2027, 3, 5))
    assert (slow.projected_exhaustion, slow.as_of) == (None, date(2027, 3, 5))
    assert burn(2027, 100, {}, date(2027, 3, 5)).projected_exhaustion is None


def test_what_finance_did_has_sentences_too() -> None:
    steps = [{"rule": "actor", "outcome": "wang.li (approver)"},
             {"rule": "batch", "outcome": "bat_x: 3 payouts, 1,234.00 CNY, day 2027-03-01"},
             {"rule": "token", "outcome": "tok_abc of zhao (admin), until 2027-01-01"},
             {"rule": "back_off", "outcome": "name zhao: 3 wrong in a row, next try after 8 s"}]
    said = explain(steps)
    assert [s.key for s in said] == ["trace.actor", "trace.finance.batch.prepared",
                                     "trace.finance.token.created",
                                     "trace.finance.back_off.waiting"]
    assert said[1].args["amount"] == 123_400
