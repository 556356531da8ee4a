"""Topic `clock.days` (key = the date): drives what is due on a calendar day (birthday gifts).

A replay or a test injects it like any other event.
"""

from __future__ import annotations

from typing import Literal

from schemas.common import CalendarDate, EventId, InboundModel

TOPIC = "clock.days"


class DayStarted(InboundModel):
    """The calendar day `date` (Asia/Shanghai) has started."""

    event_id: EventId
    type: Literal["day_started"]
    date: CalendarDate
