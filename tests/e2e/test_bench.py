"""`puhui bench` runs end to end on a tiny feed and writes its figures. No timing is asserted:
a benchmark reports figures, it does not pass or fail on them."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from puhui.bench.cli import bench
from puhui.bench.fleet import SERVICES
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
    assert set(figures["rss_mb"]) == set(SERVICES)
    assert all(mb > 0 for mb in figures["rss_mb"].values())
    assert set(figures["goals"]) >= {"card_events_per_second", "p99_ms_at_offered_rate"}
    assert figures_file.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert "ratio" in result.output
