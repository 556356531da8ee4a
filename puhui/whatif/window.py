"""Which recorded events a replay takes, and which of its payouts it reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Window:
    """Card events and days from `first_day` (1 January: limits and budgets are yearly) to
    `last_day` (None: everything recorded); payouts reported from `report_from` on."""

    first_day: date
    report_from: date
    last_day: date | None = None

    @classmethod
    def year(cls, year: int) -> Window:
        return cls(date(year, 1, 1), date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def since(cls, day: date) -> Window:
        return cls(date(day.year, 1, 1), day)

    def takes(self, day: date) -> bool:
        """Whether a card event or a day of this date is replayed."""
        return self.first_day <= day and (self.last_day is None or day <= self.last_day)

    def reports(self, day: date) -> bool:
        """Whether a payout of this date is reported (and compared)."""
        return self.report_from <= day and (self.last_day is None or day <= self.last_day)

    def describe(self) -> str:
        end = self.last_day.isoformat() if self.last_day else "the end of the record"
        return f"{self.report_from.isoformat()} to {end}"
