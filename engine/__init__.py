"""The pure rules engine: events in, decisions and state effects out.

No I/O, no clock, no environment: `decide(event, ledger, catalogue)` returns an `Outcome`
(decisions and the state changes they make, as data) and `apply(ledger, outcome)` writes
those changes into a `Ledger`. `Simulator` chains the two over an in-memory ledger.
"""

from engine.apply import apply
from engine.catalogue import Catalogue, CatalogueError, load_catalogue
from engine.decide import decide
from engine.decisions import ClawedBack, Decision, Denied, Held, NoChange, Paid, Released
from engine.outcome import Outcome
from engine.simulator import Simulator
from engine.state import HeldItem, Ledger

__all__ = [
    "Catalogue",
    "CatalogueError",
    "ClawedBack",
    "Decision",
    "Denied",
    "Held",
    "HeldItem",
    "Ledger",
    "NoChange",
    "Outcome",
    "Paid",
    "Released",
    "Simulator",
    "apply",
    "decide",
    "load_catalogue",
]
