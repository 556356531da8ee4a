"""The settlement file, CSV safety, masking, the stream's cursor and filters, credentials."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.finance.domain.credentials import (
    WeakPassword,
    hash_password,
    token_digest,
    verify_password,
)
from services.finance.domain.files import (
    BOM,
    Encoding,
    SettlementLine,
    UnsafeLine,
    cny,
    settlement_file,
    view_line,
)
from services.finance.domain.masking import mask_name, mask_outcome, shown_name
from services.finance.domain.roles import Permission, Role, may
from services.finance.domain.stream import BadCursor, Cursor, PayoutFilter

AT = datetime(2027, 3, 10, 1, 30, tzinfo=UTC)


def test_the_settlement_file_has_a_credit_per_payout_and_a_debit_per_clawback() -> None:
    text = settlement_file("b1", [
        SettlementLine("p1", "m1", "张三", "card1", 150_000, "skill_upgrade", AT),
        SettlementLine("p2", "m2", None, None, -40, "books", AT)])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["line"], r["direction"], r["amount_fen"], r["amount_cny"]) for r in rows] == [
        ("1", "credit", "150000", "1500.00"), ("2", "debit", "40", "0.40")]
    assert rows[0]["member_name"] == "张三"
    assert rows[0]["occurred_at"] == "2027-03-10T09:30:00+08:00"


@pytest.mark.parametrize(("fen", "text"), [(0, "0.00"), (5, "0.05"), (-12345, "-123.45"),
                                           (100_000, "1000.00")])
def test_cny(fen: int, text: str) -> None:
    assert cny(fen) == text


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1+2", "'+1+2"), ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("-100", "-100"), (-100, "-100"),
    ("-1.50", "-1.50"), ("张三", "张三"), (None, "")])
def test_only_text_a_spreadsheet_would_run_is_defused(cell: object, written: str) -> None:
    assert next(csv.reader(io.StringIO(view_line([cell, "ok"])))) == [written, "ok"]


def test_the_bank_file_is_verbatim_and_refuses_a_formula() -> None:
    line = SettlementLine("p1", "m1", "-王五", "c1", -300, "books", AT)
    with pytest.raises(UnsafeLine, match="line 1 \\(p1\\)"):
        settlement_file("b1", [line])
    text = settlement_file("b1", [SettlementLine("p2", "m2", "王五", "c2", -300, "books", AT)])
    assert "'" not in text
    assert ",debit,300,3.00," in text


def test_the_bank_file_in_either_encoding() -> None:
    text = settlement_file("b1", [SettlementLine("p1", "m1", "张三", "c1", 100, "books", AT)])
    assert Encoding.UTF8.bytes_of(text).startswith(BOM.encode("utf-8"))
    gb = Encoding.GB18030.bytes_of(text)
    assert "张三".encode("gb18030") in gb
    assert gb.decode("gb18030") == text


@pytest.mark.parametrize(("name", "masked"), [("张三丰", "张*丰"), ("李四", "李*"),
                                              ("欧阳娜娜", "欧**娜"), ("王", "*"),
                                              ("Li Wei", "L****i"), ("", ""), (None, None)])
def test_names_are_masked_for_a_viewer(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked
    assert shown_name(name, sees_personal_data=False) == masked
    assert shown_name(name, sees_personal_data=True) == name


def test_a_birth_date_in_a_trace_is_masked() -> None:
    assert mask_outcome("birthday on 1990-03-05") == "birthday on ****-**-**"
    assert mask_outcome("ride 2 of 4 on 2027-03-02") == "ride 2 of 4 on 2027-03-02"


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1),  # noqa: DTZ001  # hypothesis bounds are naive
                    timezones=st.just(UTC)), st.text(min_size=1).filter(lambda t: "\x00" not in t))
def test_a_cursor_reads_back_as_itself(recorded_at: datetime, payout_id: str) -> None:
    cursor = Cursor(recorded_at, payout_id)
    assert Cursor.parse(cursor.text()) == cursor


@pytest.mark.parametrize("text", ["", "xyz", "bm90IGEgY3Vyc29y", "MjAyNy0wMy0xMHxw",
                                  Cursor(datetime(1, 1, 1, tzinfo=UTC), "p").text()])
def test_a_foreign_cursor_is_refused(text: str) -> None:
    with pytest.raises(BadCursor):
        Cursor.parse(text)


def test_a_date_range_is_inclusive_in_shanghai() -> None:
    where = PayoutFilter(date_from=date(2027, 3, 10), date_to=date(2027, 3, 10))
    assert where.occurred_from() == datetime(2027, 3, 9, 16, tzinfo=UTC)
    assert where.occurred_before() == datetime(2027, 3, 10, 16, tzinfo=UTC)


def test_far_dates_bound_nothing() -> None:
    where = PayoutFilter(date_from=date(1, 1, 1), date_to=date(9999, 12, 31))
    assert (where.occurred_from(), where.occurred_before()) == (None, None)


def test_a_password_is_kept_only_as_its_scrypt_hash() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$")
    assert "correct" not in stored
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("correct horse", "plain text")
    with pytest.raises(WeakPassword):
        hash_password("short")


def test_a_session_token_is_kept_as_its_digest() -> None:
    assert len(token_digest("abc")) == 32
    assert token_digest("abc") != token_digest("abd")


def test_roles() -> None:
    assert may(Role.VIEWER, Permission.REVIEW)
    assert not may(Role.VIEWER, Permission.SEE_PERSONAL_DATA)
    assert not may(Role.PREPARER, Permission.APPROVE)
    assert not may(Role.APPROVER, Permission.PREPARE)
    assert all(may(Role.ADMIN, p) for p in Permission)
