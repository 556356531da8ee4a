"""Card velocity over hopping windows: overlapping windows that see one run of swipes raise
one signal between them."""

from __future__ import annotations

from datetime import UTC, datetime

from services.watch.domain.detect import card_velocity
from services.watch.domain.rules import CardVelocity
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import Tally, Window, hopping, local_seconds

RULE = CardVelocity(window_minutes=10, hop_minutes=5, min_merchants=3)


def _swipe(n: int, merchant: str, minute: int) -> Swipe:
    at = local_seconds(datetime(2027, 3, 5, 11, minute, tzinfo=UTC))
    return Swipe(f"T{n}", "C-1", merchant, "5942", "purchase", 100, at, 0, n)


def test_one_run_of_swipes_raises_once_across_overlapping_windows() -> None:
    table: dict[tuple[float, float], Tally] = {}
    raised = []
    for n, (merchant, minute) in enumerate([("A", 6), ("B", 7), ("C", 8), ("D", 11)]):
        swipe = _swipe(n, merchant, minute)
        windows = hopping(swipe.at, 600, 300)
        earlier = Window(windows[0].start - 300, 600)
        steps = card_velocity([(w, table.get(w.key, Tally())) for w in windows],
                              table.get(earlier.key, Tally()).raised, swipe, RULE)
        for step in steps:
            table[step.window.key] = step.tally
            if step.signal:
                raised.append(step.signal)
    # A, B, C cross both [11:00, 11:10) and [11:05, 11:15) at C; D crosses nothing new
    assert [(s.window_start.minute, s.figures) for s in raised] == [(0, {"merchants": 3})]
    assert all(t.raised for t in table.values() if len(t.merchants) >= 3)


def test_two_merchants_in_ten_minutes_raise_nothing() -> None:
    swipe = _swipe(0, "A", 1)
    steps = card_velocity([(w, Tally(merchants=("B",))) for w in hopping(swipe.at, 600, 300)],
                          False, swipe, RULE)
    assert [s.signal for s in steps] == [None, None]
