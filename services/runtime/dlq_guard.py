"""Stop a service when most of what it reads is invalid, rather than drain the feed."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from services.runtime.errors import DeadLetterLimitExceeded


@dataclass
class DeadLetterGuard:
    """Over the last `window` messages, more than `max_ratio` invalid (and at least
    `min_invalid` of them) means the feed is broken: raise instead of dead-lettering it all."""

    window: int = 2000
    max_ratio: float = 0.5
    min_invalid: int = 200
    _recent: deque[bool] = field(default_factory=deque)
    _invalid: int = 0

    def observe(self, valid: int, invalid: int) -> None:
        for flag in [False] * valid + [True] * invalid:
            self._recent.append(flag)
            self._invalid += flag
            if len(self._recent) > self.window:
                self._invalid -= self._recent.popleft()
        ratio = self._invalid / max(len(self._recent), 1)
        if self._invalid >= self.min_invalid and ratio > self.max_ratio:
            raise DeadLetterLimitExceeded(
                f"{self._invalid} of the last {len(self._recent)} messages were invalid "
                f"(limit {self.max_ratio:.0%}): stopping instead of dead-lettering the feed")
