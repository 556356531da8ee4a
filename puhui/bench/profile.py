"""Where a service's time went, from py-spy's collapsed stacks (`frame;frame;... count`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

TOP = 25
_LINE_NUMBER = re.compile(r":\d+\)$")
"""py-spy names a frame `function (file.py:123)`; the same function at any line counts once."""


def _frame(raw: str) -> str:
    return _LINE_NUMBER.sub(")", raw.strip())


def read(paths: Iterable[Path]) -> tuple[Counter[str], Counter[str], int]:
    """Self and inclusive samples per function, and the number of samples."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n, frames = int(count), [_frame(f) for f in stack.split(";")]
            samples += n
            own[frames[-1]] += n
            for frame in set(frames):
                total[frame] += n
    return own, total, samples


def by_service(paths: Iterable[Path]) -> dict[str, dict[str, list[tuple[str, float]]]]:
    """`summary` for each service, from files named `<service>.<n>.collapsed.txt`."""
    named: dict[str, list[Path]] = {}
    for path in paths:
        named.setdefault(path.name.split(".")[0], []).append(path)
    return {name: found for name, files in named.items() if (found := summary(files))}


def summary(paths: Iterable[Path]) -> dict[str, list[tuple[str, float]]]:
    """The top functions by their own time and by time spent in them or below, in %."""
    own, total, samples = read(paths)
    if not samples:
        return {}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / samples, 1)) for name, n in counter.most_common(TOP)]

    return {"self_percent": share(own), "inclusive_percent": share(total),
            "samples": [("all", float(samples))]}
