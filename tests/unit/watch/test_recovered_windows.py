"""The watch's windows expire by the events' own time, and a window read back from the
changelog when the watch starts expires like one it wrote.

faust-streaming expires by the wall clock, and its recovery fills the store without the
expiry bookkeeping; `ExpiringTable` does both. faust's own test helpers only: an app that is
never started, its table fed changelog events as the recovery feeds them (or written as
`BulkChangelog.flush` writes), and the table's periodic clean-up run once."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import faust

from services.watch.adapters.tables import ExpiringTable, tumbling_table

SIZE, EXPIRES = timedelta(minutes=10), timedelta(hours=1)


def _table(cls: type[Any], name: str) -> Any:
    app = faust.App(f"test-recovered-{name}", store="memory://", Table=cls)
    return tumbling_table(app, "velocity", SIZE, EXPIRES, 8)


def _record(card: str, end: float, partition: int, value: bytes | None = b"{}") -> Any:
    """A changelog event as the recovery hands it over: the key decoded from JSON (lists)."""
    key = [card, [end - SIZE.total_seconds() + 0.1, end]]
    return SimpleNamespace(key=key, value=value,
                           message=SimpleNamespace(value=value, partition=partition))


def _recover_and_clean(table: Any) -> set[str]:
    now = time.time()
    table.apply_changelog_batch([
        _record("C-OLD", now - 2 * EXPIRES.total_seconds(), 3),  # ended two hours ago
        _record("C-OLD", now - 2 * EXPIRES.total_seconds(), 3),  # the same key, written twice
        _record("C-MID", now - EXPIRES.total_seconds(), 3),  # ended an hour ago
        _record("C-NEW", now + 60, 3),  # still open
        _record("C-GONE", now - 2 * EXPIRES.total_seconds(), 3, None),  # a tombstone
    ])
    asyncio.run(table._del_old_keys())  # what faust's clean-up timer runs
    return {key[0] for key in table.data}


def test_a_recovered_window_past_its_expiry_is_dropped() -> None:
    table = _table(ExpiringTable, "fixed")
    assert _recover_and_clean(table) == {"C-MID", "C-NEW"}


def test_a_recovered_window_dropped_leaves_nothing_of_its_key() -> None:
    """faust's memory store books each recovered key's partition, and faust's own clean-up
    leaves that entry behind when the window goes: every key ever read back stayed."""
    table = _table(ExpiringTable, "forgotten")
    _recover_and_clean(table)
    assert {key[0] for key in table.data._key_partition} == {"C-MID", "C-NEW"}


def test_faust_alone_keeps_it() -> None:
    """What `ExpiringTable` exists for: without it the window outlives its expiry."""
    table = _table(faust.Table, "plain")
    assert _recover_and_clean(table) == {"C-OLD", "C-MID", "C-NEW"}


def test_a_window_recovered_twice_is_booked_once() -> None:
    table = _table(ExpiringTable, "once")
    end = time.time() + 60
    table.apply_changelog_batch([_record("C1", end, 2), _record("C1", end, 2)])
    table.apply_changelog_batch([_record("C1", end, 2)])
    assert table._partition_timestamps[2] == [end]


def _write(table: Any, card: str, end: float, partition: int) -> None:
    """A window as `BulkChangelog.flush` writes a new one: booked, then stored."""
    key = (card, (end - SIZE.total_seconds() + 0.1, end))
    table._maybe_set_key_ttl(key, partition)
    table.data[key] = b"{}"


def _clean(table: Any) -> set[str]:
    asyncio.run(table._del_old_keys())
    return {key[0] for key in table.data}


HOUR = 3600.0
BENCH_DAY = 1_805_212_800.0  # 2027-03-15 00:00 UTC: ahead of the wall clock, as the bench's


def test_a_feed_dated_ahead_of_the_clock_expires_by_its_own_time() -> None:
    """The bench's 2027 card day: windows ended an hour before the latest event go; by the
    wall clock nothing would (faust's own `Table` is the failing case)."""
    for cls, kept in ((ExpiringTable, {"C-LATE", "C-NOW"}),
                      (faust.Table, {"C-EARLY", "C-LATE", "C-NOW"})):
        table = _table(cls, f"ahead-{cls.__name__}")
        _write(table, "C-EARLY", BENCH_DAY + 600, 4)  # ended 2 h 50 min before the latest
        _write(table, "C-LATE", BENCH_DAY + 2 * HOUR + 600, 4)  # ended 50 min before
        _write(table, "C-NOW", BENCH_DAY + 3 * HOUR + 600, 4)
        assert _clean(table) == kept, cls


def test_a_lagging_watch_keeps_the_windows_it_still_counts() -> None:
    """A feed read a day late (a watch behind, or its topics read again): every window
    within an hour of the latest event is kept, though the wall clock is far past them;
    faust's own `Table` drops them all."""
    yesterday = time.time() - 24 * HOUR
    for cls, kept in ((ExpiringTable, {"C-A", "C-B"}), (faust.Table, set())):
        table = _table(cls, f"lag-{cls.__name__}")
        _write(table, "C-A", yesterday, 6)
        _write(table, "C-B", yesterday + 1200, 6)
        assert _clean(table) == kept, cls


def test_each_partition_keeps_its_own_clock() -> None:
    table = _table(ExpiringTable, "partitions")
    _write(table, "C-QUIET", BENCH_DAY + 600, 1)
    _write(table, "C-BUSY-OLD", BENCH_DAY + 600, 2)
    _write(table, "C-BUSY-1", BENCH_DAY + HOUR + 600, 2)
    _write(table, "C-BUSY", BENCH_DAY + 2 * HOUR + 600, 2)
    assert _clean(table) == {"C-QUIET", "C-BUSY-1", "C-BUSY"}


def test_a_clock_catches_up_a_gap_an_expiry_per_window() -> None:
    """Five quiet hours in a partition, then the day goes on: each window booked moves the
    clock by an hour at most, so the night's windows go after a few of the morning's."""
    table = _table(ExpiringTable, "gap")
    _write(table, "C-NIGHT", BENCH_DAY + 600, 0)
    _write(table, "C-MORNING-1", BENCH_DAY + 5 * HOUR + 600, 0)
    assert _clean(table) == {"C-NIGHT", "C-MORNING-1"}
    _write(table, "C-MORNING-2", BENCH_DAY + 5 * HOUR + 900, 0)
    assert _clean(table) == {"C-MORNING-1", "C-MORNING-2"}


def test_one_event_dated_far_ahead_drops_only_windows_already_ended() -> None:
    """An outlier (a swipe dated 2099) moves its partition's clock by one `expires` at
    most: the windows still open stay, and later ones expire as before."""
    table = _table(ExpiringTable, "outlier")
    _write(table, "C-ENDED", BENCH_DAY + 600, 7)  # ended 50 min before the open one began
    _write(table, "C-OPEN", BENCH_DAY + HOUR + 600, 7)
    _write(table, "C-2099", 4_102_444_800.0, 7)
    assert _clean(table) == {"C-OPEN", "C-2099"}
    assert table.event_clock[7] == BENCH_DAY + 2 * HOUR + 0.1  # the open one's start + 1 h
