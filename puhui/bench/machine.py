"""Where the whole machine's CPU went during a stage: by program (PostgreSQL's backends,
the Java broker, the Python services, the bench itself) and how much stayed idle.

Taken from /proc for every process on the machine, so anything else running (another
engineer's tests) shows up too, under its own program name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSnapshot:
    by_program: dict[str, float]
    busy: float
    idle: float


def snapshot() -> CpuSnapshot:
    by_program: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_bytes()
        except OSError:
            continue
        head, _, tail = raw.rpartition(b")")
        name = head.partition(b"(")[2].decode(errors="replace")
        fields = tail.split()
        program = _program(name)
        by_program[program] = by_program.get(program, 0.0) + \
            (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    with open("/proc/stat") as cpu:
        ticks = [int(x) for x in cpu.readline().split()[1:]]
    idle = (ticks[3] + ticks[4]) / CLOCK_TICKS
    return CpuSnapshot(by_program, sum(ticks) / CLOCK_TICKS - idle, idle)


def _program(name: str) -> str:
    return "python" if name.startswith("python") else name


def spent(before: CpuSnapshot, after: CpuSnapshot, top: int = 8) -> dict[str, float]:
    """CPU seconds between two snapshots: the busiest programs, all busy time and idle time.

    A process that started and ended between the two is missed, one that started after
    `before` counts whole."""
    programs = {name: after.by_program[name] - before.by_program.get(name, 0.0)
                for name in after.by_program}
    busiest = sorted(programs.items(), key=lambda item: -item[1])[:top]
    found = {name: round(seconds, 1) for name, seconds in busiest if seconds > 0.05}
    return {**found, "all busy": round(after.busy - before.busy, 1),
            "idle": round(after.idle - before.idle, 1)}
