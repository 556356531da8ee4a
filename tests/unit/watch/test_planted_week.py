"""The four rules over the planted week, in memory: each pattern raises exactly one signal
with its figures; the ordinary traffic, a busy Friday-evening cinema among it, none."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import pytest

from engine.catalogue import load_catalogue
from puhui.synthetic.planted import BUSY_CINEMA, EXPECTED, FRIDAY, UNPAID_SHOP, planted_week
from services.watch.config import load_rules
from services.watch.domain.windows import DAY, local_seconds
from services.watch.replay import MemoryTable, Replay

Week = list[tuple[str, dict[str, object]]]


@pytest.fixture(scope="module")
def week() -> Week:
    return planted_week()


@pytest.fixture(scope="module")
def ran(week: Week) -> Replay:
    run = Replay(load_rules(load_catalogue()))
    asyncio.run(run.run(week))
    return run


def test_each_planted_pattern_raises_one_signal_with_its_figures(ran: Replay) -> None:
    got = {(s.rule, s.key, s.window_start): s.figures for s in ran.signals}
    assert got == {(e.rule, e.key, datetime.fromisoformat(e.window_start)): e.figures
                   for e in EXPECTED}


def test_the_busy_friday_cinema_is_busy_and_raises_nothing(ran: Replay) -> None:
    run = ran
    assert isinstance(run.merchant.burst, MemoryTable)
    assert isinstance(run.merchant.day, MemoryTable)
    burst = run.merchant.burst.data
    friday = [t.purchases for (key, _), t in burst.items() if key == BUSY_CINEMA[0]]
    # its Friday evening windows hold more than min_purchases: only the baseline keeps it quiet
    assert max(friday) > run.watched.rules.merchant_burst.min_purchases
    assert not [s for s in run.signals if s.key == BUSY_CINEMA[0]]
    days = Counter(int(w[0] // DAY) for (key, w) in run.merchant.day.data
                   if key == BUSY_CINEMA[0])
    assert len(days) == 8
    assert FRIDAY.weekday() == 4


def test_a_replayed_swipe_counts_once_and_raises_nothing_again(week: Week) -> None:
    """A crash halfway: the card and payout lines of the second half, and the join topic's
    messages they made, are all delivered again."""
    run = Replay(load_rules(load_catalogue()))
    half = len(week) // 2

    async def twice() -> None:
        await run.run(week[:half])
        joined_at_half = Counter(run.join_offsets)
        await run.run(week[half:], half)
        raised = list(run.signals)
        run.signals.clear()
        run.join_offsets = joined_at_half
        await run.run(week[half:], half)
        assert run.signals == []
        assert len(raised) == 4

    asyncio.run(twice())
    purchases = [v for t, v in week if t == "card.transactions" and v["type"] == "purchase"]
    paid = {v["transaction_id"] for t, v in week if t == "payouts"}
    assert isinstance(run.merchant.day, MemoryTable)
    assert isinstance(run.merchant.paid_day, MemoryTable)
    assert sum(t.purchases for t in run.merchant.day.data.values()) == len(purchases)
    assert sum(t.purchases for t in run.merchant.paid_day.data.values()) == \
        sum(1 for v in purchases if v["transaction_id"] in paid)


def test_only_purchases_paid_a_subsidy_count_as_a_burst(week: Week) -> None:
    """The shop whose 40 cards in 8 minutes the ledger paid nothing on raises nothing; the
    same week without its payouts raises no burst and no card velocity at all."""
    ran = Replay(load_rules(load_catalogue()))
    asyncio.run(ran.run(week))
    assert isinstance(ran.merchant.burst, MemoryTable)
    assert not [s for s in ran.signals if s.key == UNPAID_SHOP[0]]
    afternoon = local_seconds(datetime.fromisoformat(f"{FRIDAY}T14:00:00+08:00"))
    counted = {w[0]: t.purchases for (key, w), t in ran.merchant.burst.data.items()
               if key == UNPAID_SHOP[0] and w[0] >= afternoon}
    assert counted == {}  # its 40 swipes that afternoon: no subsidy, no count
    assert isinstance(ran.merchant.day, MemoryTable)
    friday = {t.purchases for (key, w), t in ran.merchant.day.data.items()
              if key == UNPAID_SHOP[0] and w[0] == afternoon - 14 * 3600}
    assert friday == {45}  # but all of its purchases are seen: 5 ordinary, 40 planted
    cards_only = Replay(load_rules(load_catalogue()))
    asyncio.run(cards_only.run([line for line in week if line[0] == "card.transactions"]))
    assert sorted(s.rule for s in cards_only.signals) == ["refund_ratio", "subsidy_maximising"]
