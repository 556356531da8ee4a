"""Decisions as values: deterministic ids, payouts and audit records, pure decide and apply."""

from __future__ import annotations

import copy
from typing import Any

from engine.apply import apply
from engine.decide import decide
from engine.decisions import ClawedBack, Decision, Paid
from engine.state import Ledger, Usage, UsageKey
from tests.unit.engine.builders import CATALOGUE, Events, Scenario


def _story(events: Events) -> list[Any]:
    at = "2027-03-10T09:00:00+08:00"
    return [
        events.purchase("c1", at, 300, tx="p0"),  # held for its card
        events.registered("m1", "2027-01-01T00:00:00+08:00", born="1990-03-10"),
        events.issued("m1", "c1", "2027-01-01T00:00:00+08:00"),
        events.purchase("c1", at, 5_000, "books", tx="p1"),
        events.refund("c1", "p1", at, 1_000),
        events.purchase("c1", at, 5_000, "cinema", tx="p2"),
        events.reversal("c1", "p2", at, 5_000),
        events.purchase("c1", at, 5_000, "5411"),
        events.day("2027-03-10"),
        events.certified("m1", "technician", at),
        events.honoured("m2", "technical_champion", at),
    ]


def _run() -> list[Decision]:
    s = Scenario()
    return [d for event in _story(s.events) for d in s.feed(event)]


def test_the_same_input_gives_the_same_decisions_and_ids() -> None:
    first, second = _run(), _run()
    assert first == second
    assert [d.audit_id for d in first] == [d.audit_id for d in second]
    money = [d.payout_id for d in first if isinstance(d, Paid | ClawedBack)]
    assert len(money) == len(set(money)) == 7


def test_every_decision_has_its_own_audit_id() -> None:
    decided = _run()
    assert len({d.audit_id for d in decided}) == len(decided)


def test_every_decision_is_a_valid_audit_record_and_money_a_valid_payout() -> None:
    for decision in _run():
        record = decision.to_audit()
        assert record.decision == decision.decision
        assert record.amount_fen == decision.amount_fen
        assert record.trace, decision
        if isinstance(decision, Paid | ClawedBack):
            payout = decision.to_payout()
            assert payout.payout_id == decision.payout_id
            assert (payout.amount_fen > 0) == isinstance(decision, Paid)


def test_the_payout_period_is_the_period_of_the_first_limit() -> None:
    periods = {d.programme: d.period for d in _run() if isinstance(d, Paid)}
    assert periods == {
        "green_commute": "2027-03",
        "books": "2027",
        "cinema": "2027-03",
        "birthday": "2027",
        "skill_upgrade": "ever",
    }


def test_audit_records_name_their_topic() -> None:
    topics = {d.to_audit().source_topic for d in _run()}
    assert topics == {"card.transactions", "clock.days", "member.enrolment"}


def test_decide_does_not_touch_the_ledger() -> None:
    s = Scenario()
    events = _story(s.events)
    for event in events:
        before = copy.deepcopy(s.sim.ledger)
        outcome = decide(event, s.sim.ledger, CATALOGUE)
        assert s.sim.ledger == before
        apply(s.sim.ledger, outcome)


def test_an_outcome_holds_the_effects_as_data() -> None:
    s = Scenario()
    s.member("m1", card="c1")
    ride = s.events.purchase("c1", "2027-03-10T09:00:00+08:00", 300, tx="p1")
    outcome = decide(ride, s.sim.ledger, CATALOGUE)
    assert outcome.processed == (ride.event_id,)
    assert dict(outcome.usage) == {
        UsageKey("m1", "green_commute", "monthly_money", "2027-03"): Usage(1, 100),
        UsageKey("m1", "green_commute", "daily_rides", "2027-03-10"): Usage(1, 100),
    }
    assert dict(outcome.budget) == {("green_commute", 2027): 100}
    assert outcome.purchases["p1"].earned_fen == 100
    assert outcome.holds_added == outcome.holds_released == ()
    apply(s.sim.ledger, outcome)
    assert decide(s.events.resend(ride), s.sim.ledger, CATALOGUE).changes_nothing


def test_a_partial_ledger_is_enough() -> None:
    """A service loads only the rows an event touches: here the card, member and usage."""
    s = Scenario()
    s.member("m1", card="c1")
    for hour in range(8, 11):
        s.buy("c1", f"2027-03-10T{hour:02d}:00:00+08:00", 300)
    full = s.sim.ledger
    ride = s.events.purchase("c1", "2027-03-10T12:00:00+08:00", 300)
    keys = [k for k in full.usage if k.member_id == "m1"]
    partial = Ledger(
        members={"m1": full.members["m1"]},
        cards={"c1": full.cards["c1"]},
        usage={k: full.usage[k] for k in keys},
        budget_spent=dict(full.budget_spent),
    )
    assert decide(ride, partial, CATALOGUE).decisions == decide(ride, full, CATALOGUE).decisions
