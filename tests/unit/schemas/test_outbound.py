"""What we produce is strict: exact types, no extra fields, amounts that agree with their kind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.payouts import Payout, TraceStep

PAYOUT: dict[str, Any] = {
    "payout_id": "pay-1",
    "member_id": "mem-1",
    "programme": "green_commute",
    "amount_fen": 100,
    "kind": "payout",
    "source_event_id": "0b7f1c3e-9a51-4d0c-8f7e-2d7c1e5b9a10",
    "transaction_id": "tx-1",
    "period": "2027-03",
    "occurred_at": datetime(2027, 3, 2, 0, 15, tzinfo=UTC),
    "trace": [TraceStep(rule="matched", outcome="mcc 4111 purchase", amount_fen=200)],
}


def test_a_valid_payout_round_trips_through_json() -> None:
    payout = Payout(**PAYOUT)
    assert Payout.model_validate_json(payout.model_dump_json()) == payout


def test_extra_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        Payout.model_validate(PAYOUT | {"note": "x"})


@pytest.mark.parametrize("amount", [100.0, "100", True])
def test_amount_must_be_an_integer(amount: object) -> None:
    with pytest.raises(ValidationError, match="amount_fen"):
        Payout(**PAYOUT | {"amount_fen": amount})


@pytest.mark.parametrize(
    ("kind", "amount"), [("payout", -100), ("clawback", 100), ("payout", 0), ("clawback", 0)]
)
def test_sign_must_match_the_kind(kind: str, amount: int) -> None:
    with pytest.raises(ValidationError, match="clawback"):
        Payout(**PAYOUT | {"kind": kind, "amount_fen": amount})


def test_a_clawback_is_negative() -> None:
    clawback = Payout(**PAYOUT | {"kind": "clawback", "amount_fen": -40})
    assert clawback.amount_fen == -40


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="occurred_at"):
        Payout(**PAYOUT | {"occurred_at": datetime(2027, 3, 2, 8, 15)})  # noqa: DTZ001  # the point
