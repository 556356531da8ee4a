"""The one retry layer, with a stated give-up time.

A transient failure (Kafka or PostgreSQL did not answer) is retried with backoff: a batch in
place (`services.runtime.consumer`), the service's whole loop once its consumer or producer
is gone (`services.bootstrap`). Both ask the process's one `Retrying`, so their waits add up
to one clock: once transient failures have lasted `GIVE_UP_SECONDS` in a row with nothing
recorded or published between them, `GaveUp` is raised, the process exits 1, and its
supervisor (`puhui run`, Kubernetes) starts it afresh. A batch recorded or published ends
the run of failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

GIVE_UP_SECONDS = 120.0
"""How long transient failures may last in a row before the process gives up (docs/services.md)."""
FIRST_DELAY_SECONDS = 0.2
MAX_DELAY_SECONDS = 10.0


class GaveUp(Exception):
    """Transient failures lasted the give-up time: exit, and let the supervisor restart."""


@dataclass
class Retrying:
    """One process's run of transient failures: how long to wait before the next try."""

    give_up_after: float = GIVE_UP_SECONDS
    clock: Callable[[], float] = time.monotonic
    failing_since: float | None = None
    failures: int = 0

    def recovered(self) -> None:
        """Something was recorded or published: the run of failures is over."""
        self.failing_since = None
        self.failures = 0

    def delay_after(self, failure: BaseException) -> float:
        """Seconds to wait before trying again after `failure`; `GaveUp` once failures have
        lasted `give_up_after` seconds in a row."""
        now = self.clock()
        if self.failing_since is None:
            self.failing_since = now
        self.failures += 1
        failing_for = now - self.failing_since
        if failing_for >= self.give_up_after:
            raise GaveUp(f"transient failures for {failing_for:.0f}s in a row (giving up after "
                         f"{self.give_up_after:g}s): {failure}") from failure
        doubled = FIRST_DELAY_SECONDS * 2.0 ** min(self.failures - 1, 16)
        return min(doubled, MAX_DELAY_SECONDS)
