"""Properties that hold for any feed: limits and budgets are never exceeded, clawbacks never
exceed what was paid, and the output depends on nothing but the input."""

from __future__ import annotations

import copy
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.apply import apply
from engine.catalogue import Catalogue, catalogue_from_dict
from engine.decide import decide
from engine.decisions import ClawedBack, Decision, Denied, Held, NoChange, Paid, Released
from engine.simulator import Simulator
from engine.state import Ledger
from engine.trace import BudgetCheck, LimitCheck
from tests.unit.engine.builders import CATALOGUE, Events
from tests.unit.engine.test_catalogue import REFERENCE

MEMBERS = ("m1", "m2", "m3")
CARDS = ("c1", "c2", "c3", "c4")
MCCS = ("4111", "4111", "4111", "7832", "7832", "4112", "4131", "5942", "5411")
ANCHORS = (
    datetime(2027, 2, 5, 16, tzinfo=UTC),  # the return window opens (Shanghai midnight)
    datetime(2027, 3, 7, 16, tzinfo=UTC),  # it closes
    datetime(2027, 3, 31, 16, tzinfo=UTC),  # April starts in Shanghai
    datetime(2027, 12, 31, 16, tzinfo=UTC),  # 2028 starts in Shanghai
)
DAYS = ("2027-02-28", "2027-03-01", "2027-06-15", "2028-02-28", "2028-02-29", "2028-06-15")
BIRTHS = ("2000-02-29", "1990-06-15", "1991-03-01", "1980-02-28")
BUDGETS = st.sampled_from((0, 150, 2_500, 30_000, 10**9))


def instants(anchors: list[datetime]) -> st.SearchStrategy[str]:
    """Times around the feed's anchors: within hours (to crowd a day) or a couple of days."""

    @st.composite
    def instant(draw: st.DrawFn) -> str:
        anchor = draw(st.sampled_from(anchors))
        spread = draw(st.sampled_from((2 * 24 * 60, 6 * 60)))
        return (anchor + timedelta(minutes=draw(st.integers(-spread, spread)))).isoformat()

    return instant()


@st.composite
def feeds(draw: st.DrawFn) -> list[Any]:
    """A feed over a small world: mostly members with cards from the start, then up to 60
    events in any order (late registrations, blocks, refunds before purchases, resends)."""
    events = Events()
    member, card = st.sampled_from(MEMBERS), st.sampled_from(CARDS)
    when = instants(draw(st.lists(st.sampled_from(ANCHORS), min_size=1, max_size=2)))
    feed: list[Any] = []
    for name, card_id in zip(MEMBERS, CARDS, strict=False):
        if draw(st.booleans()) or draw(st.booleans()):
            born = draw(st.sampled_from(BIRTHS))
            feed.append(events.registered(name, "2026-12-01T00:00:00+08:00", born=born))
            feed.append(events.issued(name, card_id, "2026-12-01T00:00:00+08:00"))
    makers = st.sampled_from(
        ("registered", "left", "issued", "blocked", "purchase", "purchase", "purchase",
         "purchase", "purchase", "refund", "reversal", "day", "certified", "honoured", "resend")
    )  # fmt: skip
    bought: list[str] = ["t-unknown"]
    for _ in range(draw(st.integers(1, 60))):
        kind = draw(makers)
        if kind == "registered":
            born = draw(st.sampled_from(BIRTHS))
            feed.append(events.registered(draw(member), draw(when), born=born))
        elif kind == "left":
            feed.append(events.left(draw(member), draw(when)))
        elif kind in ("issued", "blocked"):
            stage = events.issued if kind == "issued" else events.blocked
            feed.append(stage(draw(member), draw(card), draw(when)))
        elif kind == "purchase":
            amount = draw(st.one_of(st.integers(1, 400), st.integers(1, 50_000)))
            tx = draw(st.sampled_from(bought)) if draw(st.integers(0, 9)) == 0 else None
            tx = tx or f"t{len(feed)}"
            bought.append(tx)
            mcc = draw(st.sampled_from(MCCS))
            feed.append(events.purchase(draw(card), draw(when), amount, mcc, tx))
        elif kind in ("refund", "reversal"):
            give_back = events.refund if kind == "refund" else events.reversal
            amount = draw(st.integers(1, 50_000))
            original = draw(st.sampled_from(bought))
            if draw(st.integers(0, 4)) == 0:  # refunds that arrive before their purchase
                original = f"t{len(feed) + draw(st.integers(1, 5))}"
            feed.append(give_back(draw(card), original, draw(when), amount, f"r{len(feed)}"))
        elif kind == "day":
            feed.append(events.day(draw(st.sampled_from(DAYS))))
        elif kind == "certified":
            level = draw(st.sampled_from(("technician", "senior_technician")))
            feed.append(events.certified(draw(member), level, draw(when)))
        elif kind == "honoured":
            title = draw(st.sampled_from(("technical_champion", "technical_pacesetter")))
            feed.append(events.honoured(draw(member), title, draw(when)))
        elif feed:
            feed.append(events.resend(draw(st.sampled_from(feed))))
    return feed


@st.composite
def catalogues(draw: st.DrawFn) -> Catalogue:
    """The reference catalogue, often with tight limits and budgets so that they bind."""
    data = copy.deepcopy(REFERENCE)
    if draw(st.booleans()):
        for programme in data["programme"]:
            for limit in programme.get("limits", []):
                if limit["kind"] == "count":
                    limit["max"] = draw(st.integers(1, 3))
                elif limit["kind"] == "money":
                    limit["max"] = draw(st.sampled_from((1, 150, 1_000, limit["max"])))
    tight = catalogue_from_dict(data)
    if draw(st.booleans()):
        return tight
    return tight.with_budgets({p.name: draw(BUDGETS) for p in tight.programmes})


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(feed: list[Any], catalogue: Catalogue) -> list[list[Decision]]:
    simulator = Simulator(catalogue)
    return [simulator.feed(event) for event in feed]


@SETTINGS
@given(feeds(), catalogues())
def test_the_output_depends_on_nothing_but_the_input(feed: list[Any], catalogue: Catalogue) -> None:
    first, second = _run(feed, catalogue), _run(feed, catalogue)
    assert first == second
    ids = [[d.audit_id for d in step] for step in first]
    assert ids == [[d.audit_id for d in step] for step in second]


@SETTINGS
@given(feeds(), catalogues())
def test_limits_and_budgets_are_never_exceeded(feed: list[Any], catalogue: Catalogue) -> None:
    simulator = Simulator(catalogue)
    limits = {(p.name, lim.name): lim for p in catalogue.programmes for lim in p.limits}
    for event in feed:
        simulator.feed(event)
        for key, usage in simulator.ledger.usage.items():
            limit = limits[(key.programme, key.limit)]
            used = usage.fen if limit.kind == "money" else usage.count
            assert 0 <= used <= limit.max, (key, usage)
            assert usage.fen >= 0
            assert usage.count >= 0
        for (programme, _year), spent in simulator.ledger.budget_spent.items():
            assert 0 <= spent <= catalogue.programme(programme).yearly_budget_fen


@SETTINGS
@given(feeds(), catalogues())
def test_the_ledger_agrees_with_the_decisions(feed: list[Any], catalogue: Catalogue) -> None:
    """Money limits and budgets, recomputed from the payouts alone, match the ledger."""
    simulator = Simulator(catalogue)
    fen: dict[tuple[str, str, str, str], int] = defaultdict(int)
    spent: dict[tuple[str, int], int] = defaultdict(int)
    counted_in: dict[str, tuple[Paid, list[tuple[str, str, str, str]], int]] = {}
    for event in feed:
        for d in simulator.feed(event):
            if isinstance(d, Paid):
                assert d.member_id is not None
                assert d.programme is not None
                keys = [
                    (d.member_id, d.programme, s.name, s.period)
                    for s in d.trace
                    if isinstance(s, LimitCheck)
                ]
                (year,) = [s.year for s in d.trace if isinstance(s, BudgetCheck)]
                for key in keys:
                    fen[key] += d.amount_fen
                spent[(d.programme, year)] += d.amount_fen
                if d.transaction_id is not None:
                    counted_in[d.transaction_id] = (d, keys, year)
            elif isinstance(d, ClawedBack):
                assert d.transaction_id is not None
                paid, keys, year = counted_in[d.transaction_id]
                for key in keys:
                    fen[key] += d.amount_fen
                spent[(paid.programme or "", year)] += d.amount_fen
    ledger_fen: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for k, usage in simulator.ledger.usage.items():  # per-level scopes add up per period
        ledger_fen[(k.member_id, k.programme, k.limit, k.period)] += usage.fen
    assert {k: v for k, v in fen.items() if v} == {k: v for k, v in ledger_fen.items() if v}
    assert {k: v for k, v in spent.items() if v} == {
        k: v for k, v in simulator.ledger.budget_spent.items() if v
    }


@SETTINGS
@given(feeds(), catalogues())
def test_clawbacks_never_exceed_what_was_paid(feed: list[Any], catalogue: Catalogue) -> None:
    simulator = Simulator(catalogue)
    by_event = {event.event_id: event for event in feed}
    paid: dict[str, int] = {}
    bought: dict[str, int] = {}
    clawed: dict[str, int] = defaultdict(int)
    refunded: dict[str, int] = defaultdict(int)
    for event in feed:
        for d in simulator.feed(event):
            source = by_event[d.source_event_id]
            if isinstance(d, Paid) and d.transaction_id is not None:
                paid[d.transaction_id], bought[d.transaction_id] = d.amount_fen, source.amount_fen
            elif isinstance(d, ClawedBack | NoChange) and d.transaction_id in paid:
                tx = d.transaction_id
                assert tx is not None
                whole = bought[tx] if source.type == "reversal" else source.amount_fen
                refunded[tx] = min(bought[tx], refunded[tx] + whole)
                clawed[tx] -= d.amount_fen
                assert 0 <= clawed[tx] <= paid[tx]
                assert clawed[tx] == paid[tx] * refunded[tx] // bought[tx]


@SETTINGS
@given(feeds(), catalogues())
def test_every_decision_is_published_well_formed(feed: list[Any], catalogue: Catalogue) -> None:
    simulator = Simulator(catalogue)
    seen: set[str] = set()
    for event in feed:
        decided = simulator.feed(event)
        if event.event_id in seen:
            assert decided == []  # a resend changes nothing
        seen.add(event.event_id)
        for d in decided:
            d.to_audit()
            if isinstance(d, Paid):
                assert d.amount_fen > 0
                assert d.to_payout().amount_fen == d.amount_fen
            elif isinstance(d, ClawedBack):
                assert d.amount_fen < 0
                assert d.to_payout().kind == "clawback"
            else:
                assert d.amount_fen == 0
            if isinstance(d, Denied | NoChange | Held | Released):
                assert d.reason


@SETTINGS
@given(feeds())
def test_what_is_held_is_what_was_held_and_not_released(feed: list[Any]) -> None:
    simulator = Simulator(CATALOGUE)
    waiting: dict[str, None] = {}
    for event in feed:
        for d in simulator.feed(event):
            if isinstance(d, Held):
                waiting[d.source_event_id] = None
            elif isinstance(d, Released):
                del waiting[d.source_event_id]
    assert sorted(i.event_id for i in simulator.held()) == sorted(waiting)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feeds())
def test_decide_never_changes_the_ledger_it_reads(feed: list[Any]) -> None:
    ledger = Ledger()
    for event in feed:
        before = copy.deepcopy(ledger)
        outcome = decide(event, ledger, CATALOGUE)
        assert ledger == before
        apply(ledger, outcome)
