"""A payout or clawback as one JSON line of the `payouts` contract, for `puhui simulate`.

`payout_line` writes the bytes the validated `Payout` model would write, without building it
(about a fifth of a simulation's time went to the model and its trace steps). Whatever the
fast path cannot vouch for (a zero or wrongly signed amount, a missing member, programme or
period, an offset with seconds) goes through the model, which refuses or writes it.
`tests/unit/test_simulate_output.py` holds the two byte-equal.
"""

from __future__ import annotations

import orjson

from puhui.engine.decisions import ClawedBack, Paid
from schemas.payouts import Payout

_PAYOUT_JSON = Payout.__pydantic_serializer__
_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE  # pydantic writes UTC as Z too


def payout_line(decision: Paid | ClawedBack) -> bytes:
    """One payout or clawback as a JSON line in the `payouts` format."""
    if not _plain(decision):
        return validated_line(decision)
    return orjson.dumps({
        "payout_id": decision.payout_id,
        "member_id": decision.member_id,
        "programme": decision.programme,
        "amount_fen": decision.amount_fen,
        "kind": decision.payout_kind,
        "source_event_id": decision.source_event_id,
        "transaction_id": decision.transaction_id,
        "period": decision.period,
        "occurred_at": decision.occurred_at,
        "trace": [{"rule": rule, "outcome": outcome, "amount_fen": amount}
                  for rule, outcome, amount in (step.parts() for step in decision.trace)],
    }, option=_OPTIONS)


def validated_line(decision: Paid | ClawedBack) -> bytes:
    """The same line through the `Payout` model (it validates, then writes)."""
    return _PAYOUT_JSON.to_json(decision.to_payout()) + b"\n"


def _plain(decision: Paid | ClawedBack) -> bool:
    """Whether the fast path writes exactly what the model would."""
    offset = decision.occurred_at.utcoffset()
    amount = decision.amount_fen
    return (bool(decision.member_id) and bool(decision.programme) and bool(decision.period)
            and bool(decision.source_event_id) and type(amount) is int
            and (amount > 0 if decision.payout_kind == "payout" else amount < 0)
            # pydantic cuts an offset's seconds (+08:05:43 -> +08:05), orjson rounds them
            and offset is not None and offset.seconds % 60 == 0 and not offset.microseconds)
