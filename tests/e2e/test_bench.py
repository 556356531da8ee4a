"""`puhui bench` runs end to end on a tiny feed and writes its figures. No timing is asserted:
a benchmark reports figures, it does not pass or fail on them."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from puhui.bench.cli import bench
from puhui.bench.fleet import SERVICES, WATCH
from puhui.stack.config import StackConfig

TINY = ["--members", "400", "--events", "1500", "--rate", "100", "--latency-seconds", "3"]


def test_bench_measures_floor_pipeline_latency_and_memory(stack: StackConfig,
                                                         tmp_path: Path) -> None:
    result = CliRunner().invoke(bench, [*TINY, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output

    [figures_file] = tmp_path.glob("*.json")
    figures = orjson.loads(figures_file.read_bytes())
    population, day = figures["population"], figures["day"]
    assert population["events"] == 400 + 320  # registrations and card issues
    assert population["raw_floor"]["events"] == population["events"]
    assert day["raw_floor"]["events"] == day["events"] >= 1500
    for stage in (population, day):
        timeline = stage["pipeline"]["from_start"]
        assert timeline["recorded"] <= timeline["published"] <= timeline["audited"]
        assert stage["pipeline"]["events_per_second"] > 0
    latency = figures["latency"]
    assert latency["offered"] >= 250
    assert latency["to_commit"]["count"] > 0, "swipes stamped now are paid (commutes, books)"
    assert latency["unheard"] == 0
    assert figures["plan"]["watch"] is True, "the watch runs unless --without-watch"
    assert set(figures["rss_mb"]) == {*SERVICES, WATCH}
    assert all(mb > 0 for mb in figures["rss_mb"].values())
    assert set(figures["goals"]) >= {"card_events_per_second", "p99_ms_at_offered_rate"}
    assert figures_file.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert "ratio" in result.output
    assert_watch_figures(figures["watch"], card_events=day["events"],
                         swipes=latency["offered"])


def assert_watch_figures(watch: dict[str, dict[str, object]], card_events: int,
                         swipes: int) -> None:
    """The watch's figures are there for every stage (their values are not judged)."""
    assert set(watch) == {"population", "latency", "card day"}
    assert watch["card day"]["card_events"] == card_events
    assert watch["latency"]["card_events"] == swipes
    for stage in watch.values():
        assert set(stage["lag_at_pipeline_done"]) == {"card.transactions", "payouts"}
        assert stage["caught_up"] is not None, "a tiny feed is taken well within the wait"
        assert stage["cpu_seconds"] > 0
        assert stage["peak_rss_mb"] > 0
        assert stage["nice"] == [10], "every thread of the watch yields to the hot path"
        assert stage["autogroup_nice"] in (10, None), "and so does its session, if grouped"
    assert watch["card day"]["cpu_us_per_card_event"] is not None
