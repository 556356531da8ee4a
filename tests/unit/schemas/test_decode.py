"""`decode` returns the event, or `Invalid` with a reason naming the field and the problem."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas.card_transactions import CardTransaction
from schemas.clock_days import DayStarted
from schemas.decode import Invalid, decode, decode_value
from schemas.member_enrolment import MemberCertified, MemberRegistered

CARD = "card.transactions"
ENROLMENT = "member.enrolment"
CLOCK = "clock.days"
EVENT_ID = "0b7f1c3e-9a51-4d0c-8f7e-2d7c1e5b9a10"

PURCHASE: dict[str, Any] = {
    "event_id": EVENT_ID,
    "type": "purchase",
    "transaction_id": "tx-1",
    "card_id": "card-1",
    "amount_fen": 400,
    "currency": "CNY",
    "merchant_id": "m-1",
    "merchant_name": "Metro",
    "mcc": "4111",
    "occurred_at": "2027-03-02T08:15:30+08:00",
}

REGISTERED: dict[str, Any] = {
    "event_id": EVENT_ID,
    "type": "member_registered",
    "member_id": "mem-1",
    "occurred_at": "2027-01-15T09:30:00+08:00",
    "birth_date": "1988-02-29",
    "union_branch": "metro",
    "name": "王小明",
}


def _decode(topic: str, value: object) -> CardTransaction | Invalid | object:
    return decode(topic, orjson.dumps(value))


def _reason(topic: str, value: object) -> str:
    result = _decode(topic, value)
    assert isinstance(result, Invalid), f"expected Invalid, got {result!r}"
    return result.reason


class TestValidEvents:
    def test_purchase_is_decoded_with_aware_time(self) -> None:
        event = _decode(CARD, PURCHASE)
        assert isinstance(event, CardTransaction)
        assert event.amount_fen == 400
        assert event.occurred_at == datetime(2027, 3, 2, 0, 15, 30, tzinfo=UTC)

    def test_unknown_extra_fields_are_kept(self) -> None:
        event = _decode(CARD, PURCHASE | {"terminal_id": "T-9"})
        assert isinstance(event, CardTransaction)
        assert event.model_extra == {"terminal_id": "T-9"}
        assert event.model_dump()["terminal_id"] == "T-9"

    def test_utc_z_suffix_is_an_offset(self) -> None:
        event = _decode(CARD, PURCHASE | {"occurred_at": "2027-03-02T00:15:30Z"})
        assert isinstance(event, CardTransaction)
        assert event.occurred_at.utcoffset() == timedelta(0)

    def test_enrolment_type_selects_the_model(self) -> None:
        certified = REGISTERED | {"type": "member_certified", "level": "technician"}
        event = _decode(ENROLMENT, certified)
        assert isinstance(event, MemberCertified)
        assert event.level == "technician"

    def test_leap_day_birth_date(self) -> None:
        event = _decode(ENROLMENT, REGISTERED)
        assert isinstance(event, MemberRegistered)
        assert event.birth_date == date(1988, 2, 29)

    def test_day_started(self) -> None:
        event = _decode(CLOCK, {"event_id": EVENT_ID, "type": "day_started", "date": "2027-02-28"})
        assert isinstance(event, DayStarted)
        assert event.date == date(2027, 2, 28)

    def test_events_are_frozen(self) -> None:
        event = _decode(CARD, PURCHASE)
        assert isinstance(event, CardTransaction)
        with pytest.raises(ValidationError):
            event.amount_fen = 1  # type: ignore[misc]  # the point: frozen refuses it

    def test_models_can_be_built_in_python_with_datetimes(self) -> None:
        shanghai = timezone(timedelta(hours=8))
        at = datetime(2027, 3, 2, 8, 0, tzinfo=shanghai)
        event = CardTransaction.model_validate(PURCHASE | {"occurred_at": at})
        assert event.occurred_at == at


class TestReasons:
    def test_unknown_topic(self) -> None:
        assert _reason("card.transaction", PURCHASE) == "unknown topic 'card.transaction'"

    def test_not_valid_json(self) -> None:
        result = decode(CARD, b'{"event_id": ')
        assert isinstance(result, Invalid)
        assert result.reason.startswith("not valid JSON: ")

    def test_not_utf8(self) -> None:
        result = decode(CARD, b'{"name": "\xff"}')
        assert isinstance(result, Invalid)
        assert result.reason.startswith("not valid JSON")

    @pytest.mark.parametrize(
        ("raw", "kind"),
        [(b"[1, 2]", "an array"), (b'"text"', "a string"), (b"5", "a number"), (b"null", "null")],
    )
    def test_not_an_object(self, raw: bytes, kind: str) -> None:
        result = decode(CARD, raw)
        assert result == Invalid(f"not a JSON object (got {kind})", "not_object")

    def test_missing_field(self) -> None:
        value = {k: v for k, v in PURCHASE.items() if k != "mcc"}
        assert _reason(CARD, value) == "missing field mcc"

    def test_several_missing_fields_are_named_together(self) -> None:
        value = {k: v for k, v in PURCHASE.items() if k not in ("mcc", "card_id")}
        assert _reason(CARD, value) == "missing fields card_id, mcc"

    @pytest.mark.parametrize(
        ("amount", "reason"),
        [
            (-5, "amount_fen: must be > 0, got -5"),
            (0, "amount_fen: must be > 0, got 0"),
            (4.0, "amount_fen: must be an integer, got 4.0"),
            (True, "amount_fen: must be an integer, got true"),
            ("400", "amount_fen: must be an integer, got '400'"),
            (None, "amount_fen: must be an integer, got null"),
        ],
    )
    def test_money_is_a_strict_positive_integer(self, amount: object, reason: str) -> None:
        assert _reason(CARD, PURCHASE | {"amount_fen": amount}) == reason

    @pytest.mark.parametrize("mcc", ["411", "41111", "41a1", 4111])
    def test_mcc_is_four_digits(self, mcc: object) -> None:
        assert _reason(CARD, PURCHASE | {"mcc": mcc}).startswith("mcc: must be")

    def test_mcc_reason_says_four_digits(self) -> None:
        assert _reason(CARD, PURCHASE | {"mcc": "411"}) == (
            "mcc: must be a string of 4 digits, got '411'"
        )

    def test_event_id_is_a_uuid(self) -> None:
        assert _reason(CARD, PURCHASE | {"event_id": "evt-1"}) == (
            "event_id: must be a UUID string, got 'evt-1'"
        )

    def test_naive_timestamp_is_refused(self) -> None:
        reason = _reason(CARD, PURCHASE | {"occurred_at": "2027-03-02T08:15:30"})
        assert reason.startswith("occurred_at: must be an RFC 3339 timestamp with offset")
        assert "no offset" in reason

    @pytest.mark.parametrize("occurred_at", [1_800_000_000, "yesterday", "2027-03-02"])
    def test_timestamp_must_be_rfc3339_text(self, occurred_at: object) -> None:
        reason = _reason(CARD, PURCHASE | {"occurred_at": occurred_at})
        assert reason.startswith("occurred_at: must be an RFC 3339 timestamp with offset")

    def test_wrong_currency(self) -> None:
        assert _reason(CARD, PURCHASE | {"currency": "USD"}) == (
            "currency: must be 'CNY', got 'USD'"
        )

    def test_unknown_card_transaction_type(self) -> None:
        assert _reason(CARD, PURCHASE | {"type": "chargeback"}) == (
            "unknown type 'chargeback' (known: 'purchase', 'refund' or 'reversal')"
        )

    def test_unknown_enrolment_type(self) -> None:
        reason = _reason(ENROLMENT, REGISTERED | {"type": "member_promoted"})
        assert reason.startswith("unknown type 'member_promoted' (known: 'member_registered'")

    def test_enrolment_without_type(self) -> None:
        value = {k: v for k, v in REGISTERED.items() if k != "type"}
        assert _reason(ENROLMENT, value) == "missing field type"

    def test_refund_must_name_its_purchase(self) -> None:
        assert _reason(CARD, PURCHASE | {"type": "refund"}) == (
            "original_transaction_id: required for a refund"
        )

    def test_member_updated_must_change_something(self) -> None:
        value = {k: REGISTERED[k] for k in ("event_id", "member_id", "occurred_at")}
        reason = _reason(ENROLMENT, value | {"type": "member_updated"})
        assert reason == "member_updated: needs one of birth_date, union_branch, name"

    @pytest.mark.parametrize("birth_date", ["1989-02-29", "1989/02/28", 19890228])
    def test_birth_date_is_a_real_calendar_date(self, birth_date: object) -> None:
        reason = _reason(ENROLMENT, REGISTERED | {"birth_date": birth_date})
        assert reason.startswith("birth_date: must be a real date as YYYY-MM-DD")

    def test_wrong_level(self) -> None:
        value = REGISTERED | {"type": "member_certified", "level": "master"}
        assert _reason(ENROLMENT, value) == (
            "level: must be 'technician' or 'senior_technician', got 'master'"
        )

    def test_name_is_never_repeated_in_a_reason(self) -> None:
        reason = _reason(ENROLMENT, REGISTERED | {"name": ["王小明"]})
        assert reason == "name: must be a string"
        assert "王" not in reason

    def test_many_problems_are_cut_short(self) -> None:
        bad = PURCHASE | {"amount_fen": -1, "mcc": "1", "currency": "X", "event_id": "e"}
        assert _reason(CARD, bad).endswith("; and 1 more")


class TestPersonalData:
    def test_repr_and_str_mask_the_name(self) -> None:
        event = _decode(ENROLMENT, REGISTERED)
        assert isinstance(event, MemberRegistered)
        assert "王小明" not in repr(event)
        assert "王小明" not in str(event)
        assert "name='<personal>'" in repr(event)
        assert event.name == "王小明"

    def test_validation_error_text_hides_the_name(self) -> None:
        with pytest.raises(ValidationError) as raised:
            MemberRegistered.model_validate(REGISTERED | {"name": ["王小明"]})
        assert "王小明" not in str(raised.value)


class TestDecodeValue:
    """`decode_value` reads a value already parsed from JSON, with the same reasons."""

    def test_valid_value(self) -> None:
        event = decode_value(CARD, dict(PURCHASE))
        assert isinstance(event, CardTransaction)
        assert event.transaction_id == "tx-1"

    def test_same_reason_as_decode(self) -> None:
        bad = PURCHASE | {"amount_fen": -5}
        assert decode_value(CARD, bad) == decode(CARD, orjson.dumps(bad))

    def test_not_an_object(self) -> None:
        assert decode_value(CLOCK, [1]) == Invalid("not a JSON object (got an array)", "not_object")

    def test_unknown_topic(self) -> None:
        assert decode_value("payouts", {}) == Invalid("unknown topic 'payouts'", "unknown_topic")
