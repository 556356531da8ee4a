"""The payout stream: its filters and its keyset cursor, newest first.

The stream is ordered by (recorded_at, payout_id) descending, or, for a view with a date
range, by (occurred_at, payout_id): the days it names are then an index range. A cursor is
that pair of the last row shown, as opaque URL-safe text; the next page is what comes
strictly after it. A live poll's cursor is always the newest (recorded_at, payout_id) shown.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from engine.periods import start_of_day

STATUSES = ("pending", "batched", "exported", "settled", "failed")
MAX_PAGE = 500
# Outside these days no payout can be: a bound there is no bound (and stays inside the range
# PostgreSQL's timestamptz and every timezone conversion can hold).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9000, 12, 31)


class BadCursor(ValueError):
    """A cursor this service did not make."""


@dataclass(frozen=True, slots=True)
class Cursor:
    moment: datetime
    """recorded_at, or occurred_at in a view ordered by it."""
    payout_id: str

    def text(self) -> str:
        raw = f"{self.moment.astimezone(UTC).isoformat()}|{self.payout_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor `text()` wrote; BadCursor for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, payout_id = raw.split("|", 1)
            recorded_at = datetime.fromisoformat(moment)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise BadCursor("not a cursor of this stream") from None
        if recorded_at.tzinfo is None or not payout_id or "\x00" in payout_id \
                or not FIRST_DAY <= recorded_at.date() <= LAST_DAY:
            raise BadCursor("not a cursor of this stream")
        return cls(recorded_at, payout_id)


@dataclass(frozen=True, slots=True)
class PayoutFilter:
    """What the stream shows: every field is optional; dates are Shanghai days, inclusive."""

    programme: str | None = None
    member_id: str | None = None
    merchant_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    min_fen: int | None = None
    max_fen: int | None = None

    @property
    def dated(self) -> bool:
        """Does the view name a range of days (and so is ordered by when payouts occurred)?"""
        return self.occurred_from() is not None or self.occurred_before() is not None

    def occurred_from(self) -> datetime | None:
        """00:00 of `date_from`; a day before `FIRST_DAY` bounds nothing."""
        if self.date_from is None or self.date_from < FIRST_DAY:
            return None
        return start_of_day(self.date_from)

    def occurred_before(self) -> datetime | None:
        """00:00 of the day after `date_to` (inclusive); a day after `LAST_DAY` bounds nothing."""
        if self.date_to is None or self.date_to > LAST_DAY:
            return None
        return start_of_day(self.date_to + timedelta(days=1))
