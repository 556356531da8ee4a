"""The pieces that let shards read a budget exactly (`puhui/shards/budgets.py`): the line from
which a budget could bind, and the shared log of what each shard spent before a line."""

from __future__ import annotations

from typing import Any

from engine.catalogue import load_catalogue
from puhui.shards.budgets import DONE, Ceiling, SharedSpend
from puhui.shards.route import Parsed

CATALOGUE = load_catalogue().with_budgets({"cinema": 10_000})
CINEMA = CATALOGUE.programme("cinema")


def _purchase(amount: Any, mcc: str = "7832", kind: str = "purchase") -> Parsed:
    return "card.transactions", {"type": kind, "mcc": mcc, "amount_fen": amount}


def test_a_budget_could_bind_from_the_line_its_purchases_could_earn_more_than_it() -> None:
    ceiling = Ceiling(CATALOGUE)
    base = CINEMA.amount.base_fen(8_000, None)
    lines = 10_000 // base + 1  # the line whose purchase takes the most past the budget
    ceiling.count(1, ("member.enrolment", {"type": "purchase"}))
    ceiling.count(2, _purchase(8_000, kind="refund"))
    ceiling.count(3, _purchase("8000"))  # not valid: the decoder refuses it, it pays nothing
    ceiling.count(4, None)
    for number in range(10, 10 + lines):
        assert "cinema" not in ceiling.exact_from
        ceiling.count(number, _purchase(8_000))
    assert ceiling.exact_from == {"cinema": 10 + lines - 1}
    assert ceiling.most["cinema"] == lines * base
    ceiling.count(99, _purchase(8_000))  # read exactly from there on: nothing more to count
    assert ceiling.most["cinema"] == lines * base


def test_a_shard_reads_what_the_others_spent_before_its_line() -> None:
    shared = SharedSpend(3, CATALOGUE)
    first, second, third = shared.spend(0), shared.spend(1), shared.spend(2)
    key = ("cinema", 2027)
    assert first.log(3, {key: 500, ("books", 2027): 70})
    assert first.log(7, {key: 200})
    first.progress(8)
    assert second.log(5, {key: -100})
    second.progress(DONE)
    third.progress(DONE)
    assert third.others_before(key, 5) == 500  # line 5 itself is not before line 5
    assert third.others_before(key, 6) == 400
    assert third.others_before(key, 8) == 600
    assert third.others_before(("books", 2027), 8) == 70


def test_what_the_others_spent_at_least_needs_no_refund_of_theirs_in_between() -> None:
    shared = SharedSpend(2, CATALOGUE)
    first, second = shared.spend(0), shared.spend(1)
    key = ("cinema", 2027)
    assert first.log(3, {key: 900})
    first.progress(4)
    assert second.others_at_least(key, 20) == 900  # its lines 4..19 can only add
    second.refund_routed(0, 12)
    assert second.others_at_least(key, 20) is None  # a refund at line 12 may give some back
    assert second.others_at_least(key, 10) == 900  # not before line 10
    first.progress(13)
    assert second.others_at_least(key, 20) == 900  # that refund is decided: it is in the log


def test_a_full_log_takes_nothing() -> None:
    shared = SharedSpend(2, CATALOGUE, capacity=1)
    first = shared.spend(0)
    assert not first.log(3, {("cinema", 2027): 1, ("books", 2027): 2})
    assert first.log(3, {("cinema", 2027): 1})
    first.progress(4)
    assert shared.spend(1).others_before(("cinema", 2027), 4) == 1
