"""A window the watch reads back from its changelog when it starts expires like one it wrote.

faust-streaming's recovery fills the store without the expiry bookkeeping; `ExpiringTable`
adds it. faust's own test helpers only: an app that is never started, its table fed
changelog events as the recovery feeds them, and the table's periodic clean-up run once."""

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
        _record("C-NEW", now + 60, 5),  # still open
        _record("C-GONE", now - 2 * EXPIRES.total_seconds(), 1, None),  # a tombstone
    ])
    asyncio.run(table._del_old_keys())  # what faust's clean-up timer runs
    return {key[0] for key in table.data}


def test_a_recovered_window_past_its_expiry_is_dropped() -> None:
    table = _table(ExpiringTable, "fixed")
    assert _recover_and_clean(table) == {"C-NEW"}


def test_faust_alone_keeps_it() -> None:
    """What `ExpiringTable` exists for: without it the window outlives its expiry."""
    table = _table(faust.Table, "plain")
    assert _recover_and_clean(table) == {"C-OLD", "C-NEW"}


def test_a_window_recovered_twice_is_booked_once() -> None:
    table = _table(ExpiringTable, "once")
    end = time.time() + 60
    table.apply_changelog_batch([_record("C1", end, 2), _record("C1", end, 2)])
    table.apply_changelog_batch([_record("C1", end, 2)])
    assert table._partition_timestamps[2] == [end]
