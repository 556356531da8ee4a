"""One PNG of a run: throughput against the floor, latency, memory, progress over time."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from puhui.bench.figures import GOALS, MB, Figures

if TYPE_CHECKING:
    from matplotlib.axes import Axes


MISSING = ("puhui bench draws its chart with matplotlib, which is not installed: "
           "pip install 'puhui[bench]' (the dev install has it)")


class ChartLibraryMissing(RuntimeError):
    """matplotlib is an optional extra (`bench`); without it no run starts."""


def require_chart_library() -> None:
    """Refuse before a run of minutes rather than after it, when the chart cannot be drawn."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ChartLibraryMissing(MISSING)


def draw(figures: Figures, path: Path) -> None:
    import matplotlib  # here, not at import: only a finished run needs it

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ((rate, latency), (memory, progress)) = plt.subplots(2, 2, figsize=(12, 8))
    load = " ".join(f"{x:.2f}" for x in figures.load_before)
    fig.suptitle(f"puhui bench ({figures.plan['members']:,} members; load average before: "
                 f"{load})")
    _throughput(rate, figures)
    _latency(latency, figures)
    _memory(memory, figures)
    _progress(progress, figures)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _throughput(ax: Axes, figures: Figures) -> None:
    names, floor, pipeline = [], [], []
    for name, stage in (("population", figures.population), ("card day", figures.day)):
        if stage is not None:
            names.append(name)
            floor.append(stage.floor.per_second)
            pipeline.append(stage.per_second)
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], floor, 0.4, label="raw floor")
    ax.bar([x + 0.2 for x in xs], pipeline, 0.4, label="pipeline")
    ax.axhline(GOALS["card_events_per_second"], color="red", ls="--",
               label="goal 25,000/s")
    ax.set_xticks(list(xs), names)
    ax.set_ylabel("events per second")
    ax.legend()


def _latency(ax: Axes, figures: Figures) -> None:
    lat = figures.latency
    if lat is None:
        return
    c = lat.to_commit
    ax.bar(["p50", "p95", "p99"], [c.p50_ms, c.p95_ms, c.p99_ms])
    ax.axhline(GOALS["p99_ms_at_offered_rate"], color="red", ls="--",
               label="goal p99 100 ms")
    ax.set_ylabel("ms, event time to payout committed")
    ax.set_title(f"at {lat.offered_rate:,} swipes/s offered")
    ax.legend()


def _memory(ax: Axes, figures: Figures) -> None:
    names = list(figures.rss_bytes)
    ax.bar(names, [figures.rss_bytes[n] / MB for n in names])
    ax.axhline(GOALS["rss_mb_per_service"], color="red", ls="--",
               label="goal 300 MB")
    ax.set_ylabel("peak RSS, MB")
    ax.legend()


def _progress(ax: Axes, figures: Figures) -> None:
    for name, stage in (("population", figures.population), ("card day", figures.day)):
        if stage is not None and stage.timeline.progress:
            ts, done = zip(*stage.timeline.progress, strict=True)
            ax.plot(ts, done, label=name)
    ax.set_xlabel("seconds from the services' start")
    ax.set_ylabel("events recorded")
    ax.legend()
