"""The contract refuses what the engine and PostgreSQL cannot hold, with a readable reason.

Each of these once decoded, then crashed the ledger on every restart (issue #15): a NUL
PostgreSQL text refuses, an amount over bigint, a time `datetime` cannot turn into a
Shanghai date.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.common import MAX_FEN, MAX_ID_LENGTH, MAX_TEXT_LENGTH
from schemas.decode import Invalid, decode

EXAMPLES = Path(__file__).parents[3] / "schemas" / "examples"


def _example(topic: str, name: str) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads((EXAMPLES / topic / f"{name}.json").read_bytes())
    return value


def _refused(topic: str, value: dict[str, Any]) -> Invalid:
    result = decode(topic, orjson.dumps(value))
    assert isinstance(result, Invalid), result
    return result


REGISTERED = _example("member.enrolment", "member_registered")
PURCHASE = _example("card.transactions", "purchase")


@pytest.mark.parametrize(("topic", "base", "field", "value", "reason"), [
    ("member.enrolment", REGISTERED, "name", "王\x00明",
     "name: must not contain a NUL character (\\u0000)"),
    ("card.transactions", PURCHASE, "merchant_name", "郑州\x00",
     "merchant_name: must not contain a NUL character (\\u0000), got '郑州\\x00'"),
    ("card.transactions", PURCHASE, "amount_fen", 2**63,
     f"amount_fen: must be <= {MAX_FEN}, got 9223372036854775808"),
    ("card.transactions", PURCHASE, "occurred_at", "9999-12-31T23:59:59-08:00",
     "occurred_at: must be in the years 2000 to 2099, got '9999-12-31T23:59:59-08:00'"),
    ("member.enrolment", REGISTERED, "occurred_at", "0001-01-01T00:00:00+08:00",
     "occurred_at: must be in the years 2000 to 2099, got '0001-01-01T00:00:00+08:00'"),
    ("member.enrolment", REGISTERED, "birth_date", "0001-01-01",
     "birth_date: must be in the years 1900 to 2099, got '0001-01-01'"),
    ("clock.days", {"event_id": REGISTERED["event_id"], "type": "day_started"}, "date",
     "9999-12-31", "date: must be in the years 1900 to 2099, got '9999-12-31'"),
    ("card.transactions", PURCHASE, "card_id", "c" * (MAX_ID_LENGTH + 1),
     f"card_id: must be at most {MAX_ID_LENGTH} characters"),
    ("member.enrolment", REGISTERED, "member_id", "m\x00",
     "member_id: must not contain a NUL character (\\u0000)"),
    ("member.enrolment", REGISTERED, "union_branch", "b" * (MAX_TEXT_LENGTH + 1),
     f"union_branch: must be at most {MAX_TEXT_LENGTH} characters"),
    ("card.transactions", PURCHASE, "terminal", {"note": ["ok", "\x00"]},
     "extra fields: must not contain a NUL character (\\u0000)"),
    ("card.transactions", PURCHASE, "a\x00b", 1,
     "extra fields: must not contain a NUL character (\\u0000)"),
])
def test_what_the_system_cannot_hold_is_refused_readably(
        topic: str, base: dict[str, Any], field: str, value: object, reason: str) -> None:
    refused = _refused(topic, {**base, field: value})
    assert refused.reason.startswith(reason)
    assert refused.kind == "invalid_value"


def test_a_name_is_never_shown_even_when_refused() -> None:
    refused = _refused("member.enrolment", {**REGISTERED, "name": "王小明\x00"})
    assert "王小明" not in refused.reason


@pytest.mark.parametrize(("field", "value"), [
    ("amount_fen", MAX_FEN), ("occurred_at", "2000-01-01T00:00:00+08:00"),
    ("occurred_at", "2099-12-31T23:59:59-08:00"), ("card_id", "c" * MAX_ID_LENGTH),
    ("merchant_name", "m" * MAX_TEXT_LENGTH), ("merchant_name", ""),
    ("note", {"deep": [1.5, None, "文字"]}),
])
def test_the_bounds_themselves_are_accepted(field: str, value: object) -> None:
    assert not isinstance(decode("card.transactions", orjson.dumps({**PURCHASE, field: value})),
                          Invalid)
