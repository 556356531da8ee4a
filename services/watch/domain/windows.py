"""Windows of the event's own time, aligned to Asia/Shanghai, and what a window keeps.

Times are seconds since the epoch *in Shanghai wall time* (UTC + 8 h, the offset Asia/Shanghai
has kept all year since 1991), so a window of a day starts at Shanghai midnight; the windows
are faust's own (start, start + size - 0.1), so the faust tables' expiry reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SHANGHAI_SECONDS = 8 * 3600
DAY = 86_400.0


def local_seconds(at: datetime) -> float:
    """`at` as seconds since the epoch in Shanghai wall time."""
    return at.timestamp() + SHANGHAI_SECONDS


@dataclass(frozen=True, slots=True, order=True)
class Window:
    start: float
    """Shanghai wall-time seconds."""
    size: float

    @property
    def key(self) -> tuple[float, float]:
        """The window as faust keys it: (start, end), end = start + size - 0.1."""
        return (self.start, self.start + self.size - 0.1)

    def starts_at(self) -> datetime:
        return datetime.fromtimestamp(self.start - SHANGHAI_SECONDS, UTC)

    def ends_at(self) -> datetime:
        return self.starts_at() + timedelta(seconds=self.size)

    def shifted(self, windows: int) -> Window:
        """The window `windows` sizes later (earlier when negative)."""
        return Window(self.start + windows * self.size, self.size)


def tumbling(at: float, size: float) -> Window:
    """The one window of `size` seconds holding `at`."""
    return Window((at // size) * size, size)


def hopping(at: float, size: float, step: float) -> list[Window]:
    """Every window of `size`, starting each `step`, holding `at`, earliest first."""
    last = (at // step) * step
    first = last - size + step
    return [Window(first + i * step, size) for i in range(int(size // step))
            if first + i * step <= at]


@dataclass(frozen=True, slots=True)
class Tally:
    """What one window keeps for one key.

    `seen` is the highest source (partition, offset) applied to this very window: a replay
    after a crash (faust delivers at least once) finds it and counts nothing twice.
    """

    purchases: int = 0
    hits: int = 0
    """Rule-specific: purchases at the maximising amount, or refunds and reversals."""
    merchants: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    seen: dict[str, int] = field(default_factory=dict)
    raised: bool = False

    def has_seen(self, lane: str, offset: int) -> bool:
        """`lane`: the source partition as `Swipe.lane` names it."""
        return self.seen.get(lane, -1) >= offset

    def saw(self, lane: str, offset: int) -> Tally:
        return Tally(self.purchases, self.hits, self.merchants, self.examples,
                     {**self.seen, lane: offset}, self.raised)

    def counted(self, lane: str, offset: int, purchases: int = 0, hits: int = 0) -> Tally:
        """`purchases` and `hits` more, from the swipe at (`lane`, `offset`)."""
        return Tally(self.purchases + purchases, self.hits + hits, self.merchants,
                     self.examples, {**self.seen, lane: offset}, self.raised)

    def with_merchant(self, merchant_id: str) -> Tally:
        return Tally(self.purchases, self.hits, (*self.merchants, merchant_id), self.examples,
                     self.seen, self.raised)

    def with_example(self, transaction_id: str, limit: int) -> Tally:
        if len(self.examples) >= limit or transaction_id in self.examples:
            return self
        return Tally(self.purchases, self.hits, self.merchants,
                     (*self.examples, transaction_id), self.seen, self.raised)

    def marked_raised(self) -> Tally:
        return Tally(self.purchases, self.hits, self.merchants, self.examples, self.seen, True)

    def as_json(self) -> list[Any]:
        """Positional, as the changelog keeps it."""
        return [self.purchases, self.hits, self.merchants, self.examples, self.seen,
                self.raised]

    @classmethod
    def from_json(cls, value: Any) -> Tally:
        if not isinstance(value, list):
            return cls()
        purchases, hits, merchants, examples, seen, raised = value
        return cls(purchases, hits, tuple(merchants), tuple(examples), seen, raised)
