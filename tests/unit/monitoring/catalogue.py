"""The metrics catalogue as docs/metrics.md documents it and as a service exposes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from services.runtime.metrics import ServiceMetrics

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "metrics.md"


@dataclass(frozen=True, order=True)
class Entry:
    name: str
    type: str
    labels: tuple[str, ...]


def documented() -> set[Entry]:
    """The rows of the table under `## The catalogue`."""
    section = DOC.read_text().split("## The catalogue", 1)[1].split("\n## ", 1)[0]
    found = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        name, kind, labels = (cell.strip() for cell in line.strip("|").split("|")[:3])
        found.add(Entry(name.strip("`"), kind, tuple(sorted(re.findall(r"[a-z_]+", labels)))))
    return found


def exposed(registry: CollectorRegistry | None = None) -> set[Entry]:
    """Every family a freshly built bundle serves on /metrics, by the name one queries."""
    metrics = ServiceMetrics.create("disbursement", registry or CollectorRegistry())
    # prometheus_client keeps a metric's label names only in `_labelnames` (no public getter)
    declared = {m._name: m._labelnames for m in vars(metrics).values()
                if isinstance(m, MetricWrapperBase)}
    found = set()
    for family in metrics.registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        labels = declared.get(family.name) or {k for s in family.samples for k in s.labels}
        found.add(Entry(name, family.type, tuple(sorted(set(labels) - {"le"}))))
    return found
