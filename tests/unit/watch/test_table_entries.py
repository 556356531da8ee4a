"""`puhui_watch_table_entries`: the windows each of the watch's tables keeps, read when
scraped. faust's own app, never started; its tables written as `BulkChangelog` writes."""

from __future__ import annotations

from datetime import timedelta

import faust

from services.runtime.metrics import ServiceMetrics
from services.watch.adapters.tables import ExpiringTable, hopping_table, tumbling_table
from services.watch.bootstrap import count_entries


def _entries(metrics: ServiceMetrics, table: str) -> float | None:
    return metrics.registry.get_sample_value("puhui_watch_table_entries", {"table": table})


def test_each_table_reports_the_windows_it_keeps_when_scraped() -> None:
    app = faust.App("test-table-entries", store="memory://", Table=ExpiringTable)
    join = tumbling_table(app, "paid-join", timedelta(days=1), timedelta(days=3), 8)
    velocity = hopping_table(app, "card-velocity", timedelta(minutes=10),
                             timedelta(minutes=5), timedelta(hours=1), 8)
    metrics = ServiceMetrics.create("watch")
    count_entries(app, metrics)
    assert _entries(metrics, "paid-join") == 0
    day = (1_800_000_000.0, 1_800_086_399.9)
    for n in range(3):
        join.data[(f"T-{n}", day)] = b"{}"
    velocity.data[("C-1", (1_800_000_000.0, 1_800_000_599.9))] = b"{}"
    assert _entries(metrics, "paid-join") == 3  # read now, not when registered
    assert _entries(metrics, "card-velocity") == 1
    join.data.pop(("T-0", day))
    assert _entries(metrics, "paid-join") == 2
