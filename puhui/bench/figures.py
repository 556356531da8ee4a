"""The figures of a run, the goals they are held against, and how they are printed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from puhui.bench.floor import Floor
from puhui.bench.latency import Latency
from puhui.bench.watch import Timeline
from puhui.bench.watch_progress import WatchStage

MB = 1024 * 1024
MIN_STEADY_SECONDS = 1.0
GOALS = {
    "card_events_per_second": 25_000,
    "ratio_to_raw_floor": 0.6,
    "p99_ms_at_offered_rate": 100.0,
    "full_day_seconds": 180.0,
    "rss_mb_per_service": 300.0,
}


@dataclass(frozen=True)
class Stage:
    """One feed through the raw floor, then through the pipeline."""

    events: int
    produce_seconds: float
    floor: Floor
    timeline: Timeline
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    """CPU each service used from its start to the end of the stage (startup included)."""
    machine_cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds of the whole machine over the pipeline's run, by program, and idle."""

    @property
    def pipeline_seconds(self) -> float:
        """From the first batch recorded to the last event out (published); from the
        services' start if the feed is too small to time that way."""
        first, published = self.timeline.first or 0.0, self.timeline.published or 0.0
        steady = published - first
        return steady if steady >= MIN_STEADY_SECONDS else max(published, 1e-3)

    @property
    def per_second(self) -> float:
        return self.events / self.pipeline_seconds

    @property
    def ratio(self) -> float:
        return self.per_second / self.floor.per_second if self.floor.per_second else 0.0

    def as_dict(self) -> dict[str, Any]:
        line = self.timeline
        return {
            "events": self.events, "produce_seconds": round(self.produce_seconds, 2),
            "raw_floor": {"events": self.floor.events, "seconds": round(self.floor.seconds, 2),
                          "events_per_second": round(self.floor.per_second)},
            "pipeline": {"events_per_second": round(self.per_second),
                         "seconds": round(self.pipeline_seconds, 2),
                         "from_start": {"first_batch": line.first, "recorded": line.recorded,
                                        "published": line.published, "audited": line.audited}},
            "ratio": round(self.ratio, 3),
            "cpu_seconds": {n: round(c, 2) for n, c in self.cpu_seconds.items()},
            "cpu_us_per_event": {n: round(1e6 * c / self.events) for n, c in
                                 self.cpu_seconds.items()},
            "machine_cpu_seconds": self.machine_cpu,
            "progress": line.progress,
        }


@dataclass
class Figures:
    plan: dict[str, Any]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    population: Stage | None = None
    latency: Latency | None = None
    day: Stage | None = None
    rss_bytes: dict[str, int] = field(default_factory=dict)
    profile: dict[str, dict[str, list[tuple[str, float]]]] = field(default_factory=dict)
    full_day: bool = False
    watch: dict[str, WatchStage] = field(default_factory=dict)
    """The watch beside the hot path, by stage ("population", "latency", "card day"); empty
    when it did not run."""

    def full_day_seconds(self) -> float | None:
        """Population and day, each from the services' start to the last event out."""
        if not self.full_day or self.population is None or self.day is None:
            return None
        return sum(s.timeline.published or 0.0 for s in (self.population, self.day))

    def goals(self) -> dict[str, dict[str, Any]]:
        found: dict[str, float | None] = {
            "card_events_per_second": self.day.per_second if self.day else None,
            "ratio_to_raw_floor": self.day.ratio if self.day else None,
            "p99_ms_at_offered_rate": self.latency.to_commit.p99_ms if self.latency else None,
            "full_day_seconds": self.full_day_seconds(),
            "rss_mb_per_service": max(self.rss_bytes.values(), default=0) / MB,
        }
        return {name: {"goal": GOALS[name], "measured": _round(value),
                       "met": None if value is None else _meets(name, value)}
                for name, value in found.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan, "full_day": self.full_day,
            "load_average": {"before": self.load_before, "after": self.load_after},
            "population": self.population.as_dict() if self.population else None,
            "latency": asdict(self.latency) if self.latency else None,
            "day": self.day.as_dict() if self.day else None,
            "full_day_seconds": _round(self.full_day_seconds()),
            "rss_mb": {name: round(n / MB, 1) for name, n in self.rss_bytes.items()},
            "watch": {name: stage.as_dict() for name, stage in self.watch.items()} or None,
            "goals": self.goals(), "profile": self.profile,
        }


def _meets(name: str, value: float) -> bool:
    goal = GOALS[name]
    return value >= goal if name in ("card_events_per_second", "ratio_to_raw_floor") \
        else value <= goal


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def lines(figures: Figures) -> list[str]:
    """The figures as a person reads them."""
    out = [f"load average before {_load(figures.load_before)}, after {_load(figures.load_after)}"]
    for name, stage in (("population", figures.population), ("card day", figures.day)):
        if stage is not None:
            out.append(f"{name}: {stage.events:,} events | raw floor "
                       f"{stage.floor.per_second:,.0f}/s | pipeline {stage.per_second:,.0f}/s "
                       f"({stage.pipeline_seconds:.1f} s) | ratio {stage.ratio:.2f}")
            out.append("  CPU per event: " + ", ".join(
                f"{n} {1e6 * c / stage.events:.0f} µs" for n, c in stage.cpu_seconds.items()))
            out.append("  machine CPU seconds: " + ", ".join(
                f"{n} {c}" for n, c in stage.machine_cpu.items()))
    if (lat := figures.latency) is not None:
        c, r = lat.to_commit, lat.to_recorded_at
        out.append(f"latency at {lat.offered_rate:,}/s offered ({lat.offered:,} swipes, "
                   f"{c.count:,} payouts): p50 {c.p50_ms} ms, p95 {c.p95_ms} ms, "
                   f"p99 {c.p99_ms} ms to commit (p99 {r.p99_ms} ms to recorded_at)")
    out.extend(_watch_lines(figures))
    if (seconds := figures.full_day_seconds()) is not None:
        out.append(f"full day through the pipeline: {seconds:.1f} s")
    out.append("peak RSS: " + ", ".join(f"{n} {b / MB:.0f} MB"
                                       for n, b in figures.rss_bytes.items()))
    for name, goal in figures.goals().items():
        verdict = {True: "met", False: "NOT met", None: "not measured"}[goal["met"]]
        out.append(f"goal {name}: {goal['goal']} → {goal['measured']} ({verdict})")
    return out


def _watch_lines(figures: Figures) -> list[str]:
    if not figures.watch:
        return ["watch: not run (--without-watch)"]
    out = []
    for name, w in figures.watch.items():
        lag = ", ".join(f"{n:,} {topic}" for topic, n in w.lag_at_pipeline_done.items())
        when = "not caught up" if w.caught_up is None else f"caught up at {w.caught_up:.1f} s"
        per = "" if w.cpu_us_per_card_event is None else \
            f" = {w.cpu_us_per_card_event:,.0f} µs per card event"
        out.append(f"watch, {name}: behind by {lag} when the pipeline was done "
                   f"({w.pipeline_done:.1f} s), {when}; CPU {w.cpu_seconds:.1f} s{per}; "
                   f"peak RSS {w.peak_rss_bytes / MB:.0f} MB; nice {_nice(w.nice)}, "
                   f"its session's {w.autogroup_nice}")
    return out


def _nice(values: list[int]) -> str:
    return "/".join(str(n) for n in values) or "?"


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)
