"""The keys a batch writes share one tuple per window range (the join keeps a pairing per
purchase for days: a range of its own for each was a quarter of its memory)."""

from __future__ import annotations

from typing import Any

from services.watch.adapters import tables
from services.watch.adapters.tables import BatchTable
from services.watch.domain.paid import Pairing
from services.watch.domain.windows import Window

DAY = 86_400.0


def _batch() -> BatchTable[Pairing]:
    table: Any = None  # put() never reads the faust table
    return BatchTable(table, Pairing.from_json, lambda _p: b"{}", Pairing)


def test_keys_of_one_window_share_its_range_and_other_windows_do_not() -> None:
    batch, other = _batch(), _batch()
    monday, tuesday = Window(1_800_000_000.0, DAY), Window(1_800_000_000.0 + DAY, DAY)
    batch.put("T-1", monday, Pairing())
    batch.put("T-2", monday, Pairing())
    other.put("T-3", monday, Pairing())
    batch.put("T-4", tuesday, Pairing())
    ranges = {key: span for key, span in (*batch.written, *other.written)}
    assert ranges["T-1"] is ranges["T-2"] is ranges["T-3"]
    assert ranges["T-4"] is not ranges["T-1"]
    assert ranges["T-4"] == (tuesday.start - tables.SHANGHAI_SECONDS,
                             tuesday.start - tables.SHANGHAI_SECONDS + DAY - 0.1)


def test_once_full_the_ranges_start_again_and_keys_still_match(monkeypatch: Any) -> None:
    monkeypatch.setattr(tables, "RANGES_SHARED", 2)
    monkeypatch.setattr(tables, "_RANGES", {})
    batch = _batch()
    for n in range(3):
        batch.put(f"T-{n}", Window(1_800_000_000.0 + n * DAY, DAY), Pairing())
    assert len(tables._RANGES) == 1  # cleared at the limit, then the third kept
    again = _batch()
    again.put("T-0", Window(1_800_000_000.0, DAY), Pairing())
    assert set(again.written) <= set(batch.written)  # equal keys, shared or not
