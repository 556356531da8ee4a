"""A payout or clawback as one JSON line of the `payouts` contract, for `puhui simulate`.

`payout_line` writes the bytes the validated `Payout` model would write, without building it
(about a fifth of a simulation's time went to the model and its trace steps), through the
engine's wire format (`engine.wire`, which the ledger publishes with too). A payout the
contract refuses (a zero or wrongly signed amount, a missing member, programme or period)
is refused here too. `tests/unit/test_simulate_output.py` holds the two byte-equal.
"""

from __future__ import annotations

import orjson

from engine import wire
from engine.decisions import ClawedBack, Paid
from schemas.payouts import Payout

_PAYOUT_JSON = Payout.__pydantic_serializer__


def payout_line(decision: Paid | ClawedBack) -> bytes:
    """One payout or clawback as a JSON line in the `payouts` format."""
    value = wire.payout_value(decision, orjson.Fragment(wire.trace_json(decision.trace)))
    return wire.dumps(value) + b"\n"


def validated_line(decision: Paid | ClawedBack) -> bytes:
    """The same line through the `Payout` model (it validates, then writes)."""
    return _PAYOUT_JSON.to_json(decision.to_payout()) + b"\n"
