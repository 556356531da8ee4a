"""`Simulator`: the engine over an in-memory `Ledger`, one event at a time.

This is what `puhui simulate` runs; the services do the same with a ledger loaded from
PostgreSQL and each `Outcome` persisted before it is applied.
"""

from __future__ import annotations

from engine.apply import apply
from engine.catalogue import Catalogue, load_catalogue
from engine.decide import decide
from engine.decisions import Decision
from engine.state import Arrival, HeldItem, Ledger
from schemas.decode import InboundEvent


class Simulator:
    def __init__(self, catalogue: Catalogue | None = None, ledger: Ledger | None = None) -> None:
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self.ledger = ledger if ledger is not None else Ledger()
        self._fed = 0

    def feed(self, event: InboundEvent, arrival: Arrival | None = None) -> list[Decision]:
        """Decide `event` and remember its effects: its decisions, then those it released.

        `arrival` is where it arrived (topic, partition, offset); by default its position in
        the feed, which orders a file the way one partition orders its messages.
        """
        self._fed += 1
        outcome = decide(event, self.ledger, self.catalogue, arrival or Arrival("", 0, self._fed))
        apply(self.ledger, outcome)
        return list(outcome.decisions)

    def held(self) -> list[HeldItem]:
        """Every event still held, grouped by what it waits for, in the order held."""
        return [item for items in self.ledger.held.values() for item in items]

    def budget_left(self, programme: str, year: int) -> int:
        """Fen left of `programme`'s budget for calendar `year`."""
        budget = self.catalogue.programme(programme).yearly_budget_fen
        return budget - self.ledger.budget_spent.get((programme, year), 0)
