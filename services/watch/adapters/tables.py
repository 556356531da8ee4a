"""The watch's windowed faust tables, behind the service layer's `Tallies`.

Each is a faust windowed table (tumbling or hopping) in memory, backed by its changelog topic
on the broker: a restarted watch reads the changelog back before it consumes again. Windows
are addressed by their own range (domain.windows), which is the key faust gives them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import faust

from services.watch.domain.paid import Pairing
from services.watch.domain.windows import Tally, Window


class FaustTallies:
    """One windowed table; writes go to the changelog partition of the event being handled
    (the table is partitioned like the stream that writes it)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: str, window: Window) -> Tally:
        return Tally.from_json(self.table.get((key, window.key)))

    def put(self, key: str, window: Window, tally: Tally) -> None:
        self.table[(key, window.key)] = tally.as_json()


def tumbling_table(app: faust.App, name: str, size: timedelta, expires: timedelta,
                   partitions: int) -> FaustTallies:
    wrapper = app.Table(name, default=dict, partitions=partitions).tumbling(size,
                                                                             expires=expires)
    return FaustTallies(wrapper.table)


def hopping_table(app: faust.App, name: str, size: timedelta, step: timedelta,
                  expires: timedelta, partitions: int) -> FaustTallies:
    wrapper = app.Table(name, default=dict, partitions=partitions).hopping(size, step,
                                                                            expires=expires)
    return FaustTallies(wrapper.table)


class FaustPairings:
    """The purchase-payout join's windowed table (by transaction id and day)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, key: str, window: Window) -> Pairing:
        return Pairing.from_json(self.table.get((key, window.key)))

    def put(self, key: str, window: Window, pairing: Pairing) -> None:
        self.table[(key, window.key)] = pairing.as_json()


def pairing_table(app: faust.App, name: str, size: timedelta, expires: timedelta,
                  partitions: int) -> FaustPairings:
    wrapper = app.Table(name, default=dict, partitions=partitions).tumbling(size,
                                                                             expires=expires)
    return FaustPairings(wrapper.table)
