"""The join's windows expire by the intake's watermark, the slowest source partition still
behind: a week of purchases read before the week's payouts keeps every purchase until its
payout comes (the planted-week e2e test lost pairs when the join expired by the latest
window booked). faust's own test helpers: an app never started, its table written as
`BulkChangelog.flush` writes, its periodic clean-up run once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import faust

from services.watch.adapters.stream import Watermark
from services.watch.adapters.tables import ExpiringTable, tumbling_table

DAY = 86_400.0
MONDAY = 1_804_089_600.0  # 2027-03-01 16:00 UTC: a Shanghai midnight, as the join's days are


def _join(name: str, by_watermark: bool = True) -> Any:
    app = faust.App(f"test-join-{name}", store="memory://", Table=ExpiringTable)
    table = tumbling_table(app, "paid-join", timedelta(days=1), timedelta(days=3), 8)
    if by_watermark:
        table.expire_by_watermark()
    return table


def _purchase(table: Any, day: int, partition: int = 0) -> None:
    """A purchase on `day` (days after MONDAY): its pairing booked and stored."""
    start = MONDAY + day * DAY
    key = (f"T{partition}-{day}", (start, start + DAY - 0.1))
    table._maybe_set_key_ttl(key, partition)
    table.data[key] = b"{}"


def _kept(table: Any) -> set[str]:
    asyncio.run(table._del_old_keys())
    return {key[0] for key in table.data}


def test_a_week_of_purchases_read_ahead_of_the_watermark_keeps_every_day() -> None:
    table = _join("week")
    for day in range(7):
        _purchase(table, day)
    assert len(_kept(table)) == 7  # no watermark yet: nothing expires
    table.advance(0, MONDAY + 3600)  # the slowest partition behind is on the week's Monday
    assert len(_kept(table)) == 7
    table.advance(0, MONDAY + 4 * DAY + 3600)  # Monday's window ended on Tuesday: not past
    assert len(_kept(table)) == 7
    table.advance(0, MONDAY + 5 * DAY + 3600)  # past it (faust rounds its edge to a UTC day)
    assert _kept(table) == {f"T0-{day}" for day in range(1, 7)}


def test_by_the_latest_window_booked_the_first_days_go_before_their_payouts() -> None:
    """The failing case: a table of one stream expires by the latest window booked."""
    table = _join("booked", by_watermark=False)
    for day in range(7):
        _purchase(table, day)
    assert _kept(table) == {f"T0-{day}" for day in range(2, 7)}


def test_the_watermark_never_moves_back_nor_expires_ahead_of_the_windows_booked() -> None:
    table = _join("ahead")
    _purchase(table, 0, partition=3)
    table.advance(3, MONDAY + 30 * DAY)  # far ahead of what partition 3 has booked
    table.advance(3, MONDAY)  # an older mark changes nothing
    assert table.watermarks[3] == MONDAY + 30 * DAY
    assert table.clock(3) == MONDAY  # the latest window booked bounds it
    assert _kept(table) == {"T3-0"}
    assert table.clock(4) is None  # nothing booked, no mark


def test_each_partition_expires_by_its_own_watermark() -> None:
    table = _join("partitions")
    for day in range(7):
        _purchase(table, day, partition=1)
        _purchase(table, day, partition=2)
    table.advance(2, MONDAY + 6 * DAY)
    kept = _kept(table)
    assert "T1-0" in kept  # partition 1 has had no mark yet
    assert "T2-0" not in kept


P0, P1, PAY = "cards-0", "cards-1", "payouts-0"


def test_the_watermark_is_the_slowest_partition_still_behind() -> None:
    mark = Watermark()
    mark.reached(P0, 5 * DAY)  # a week of one card partition handed on in one go
    mark.reached(P1, 1 * DAY)
    mark.reached(PAY, 2 * DAY)
    assert mark.after({P0: False, P1: True, PAY: True}) == 1 * DAY
    mark.reached(P1, 3 * DAY)
    assert mark.after({P0: False, P1: True, PAY: True}) == 2 * DAY


def test_a_partition_behind_that_has_handed_on_nothing_holds_it() -> None:
    mark = Watermark()
    mark.reached(P0, 5 * DAY)
    assert mark.after({P0: True, P1: True}) is None
    mark.reached(P1, DAY)
    assert mark.after({P0: True, P1: True}) == DAY
    assert mark.after({P0: True, P1: True, PAY: True}) == DAY  # a new one: held, not moved back


def test_with_nothing_behind_it_is_the_furthest_read_and_never_moves_back() -> None:
    mark = Watermark()
    mark.reached(P0, 5 * DAY)
    mark.reached(P1, 2 * DAY)
    assert mark.after({P0: False, P1: False}) == 5 * DAY
    assert mark.after({P0: False, P1: True}) == 5 * DAY  # more came to P1: not moved back
    assert mark.after({}) == 5 * DAY  # nothing assigned (a rebalance): kept
