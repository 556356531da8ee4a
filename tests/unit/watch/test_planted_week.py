"""The four rules over the planted week, in memory: each pattern raises exactly one signal
with its figures; the ordinary traffic, a busy Friday-evening cinema among it, none."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import pytest

from puhui.engine.catalogue import load_catalogue
from puhui.synthetic.planted import BUSY_CINEMA, EXPECTED, FRIDAY, planted_week
from services.watch.config import load_rules
from services.watch.domain.windows import DAY
from services.watch.replay import MemoryTallies, Replay

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
    assert isinstance(run.merchant.burst, MemoryTallies)
    assert isinstance(run.merchant.day, MemoryTallies)
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
    run = Replay(load_rules(load_catalogue()))
    swipes = [s for o, (t, v) in enumerate(week) if (s := run.swipe(t, v, o)) is not None]

    async def twice() -> None:
        for swipe in swipes:
            await run.observe(swipe)
        raised = list(run.signals)
        run.signals.clear()
        for swipe in swipes[len(swipes) // 2:]:  # a crash replays the second half
            await run.observe(swipe)
        assert run.signals == []
        assert len(raised) == 4

    asyncio.run(twice())
    assert isinstance(run.merchant.day, MemoryTallies)
    assert sum(t.purchases for t in run.merchant.day.data.values()) == \
        sum(1 for s in swipes if s.kind == "purchase")
