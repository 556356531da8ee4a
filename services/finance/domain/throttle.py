"""Sign-in back-off: a few wrong passwords are free, then each one doubles the wait.

Counted per user name and per address; failures older than `FORGET_AFTER` are forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST_WAIT = timedelta(seconds=1)
LONGEST_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)
FREE_PER_USER = 4
"""Wrong passwords for one name before the first wait."""
FREE_PER_ADDRESS = 19
"""Wrong passwords from one address (any names) before the first wait."""


@dataclass(frozen=True, slots=True)
class Failures:
    failures: int
    last_failed_at: datetime
    locked_until: datetime


def user_key(username: str) -> str:
    return f"user:{username}"


def address_key(address: str) -> str:
    return f"address:{address}"


def wait_after(failures: int, free: int) -> timedelta:
    """How long to refuse sign-ins after the `failures`-th wrong password in a row."""
    if failures <= free:
        return timedelta(0)
    return min(LONGEST_WAIT, FIRST_WAIT * (1 << min(failures - free - 1, 20)))


def after_failure(before: Failures | None, now: datetime, free: int) -> Failures:
    """The count after one more wrong password at `now`."""
    fresh = before is None or now - before.last_failed_at > FORGET_AFTER
    failures = 1 if fresh or before is None else before.failures + 1
    return Failures(failures, now, now + wait_after(failures, free))


def retry_after(standing: list[Failures], now: datetime) -> timedelta:
    """How long until a sign-in may be tried again (zero: now)."""
    return max((f.locked_until - now for f in standing), default=timedelta(0)) \
        if any(f.locked_until > now for f in standing) else timedelta(0)
