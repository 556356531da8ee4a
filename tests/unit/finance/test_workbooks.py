"""Exports as .xlsx, read back with openpyxl (an independent reader): typed cells, totals,
a frozen header; CSV views with a byte-order mark."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl

from services.finance.adapters.workbook import Column, Kind, workbook
from services.finance.api.exports import _bank_row
from services.finance.domain.files import SETTLEMENT_HEADER, SettlementLine, settlement_cells

AT = datetime(2027, 3, 12, 15, 59, tzinfo=UTC)


def _open(body: bytes) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(io.BytesIO(body)).active


def test_a_workbook_has_typed_cells_totals_and_a_frozen_header() -> None:
    columns = [Column("姓名"), Column("时间", Kind.TIME), Column("金额（分）", Kind.FEN),
               Column("金额（元）", Kind.YUAN)]
    rows = [("=1+1", AT, 123_456, 123_456), ("-王五", AT, -40, -40), ("李*", None, 1, 1)]
    sheet = _open(workbook("发放", columns, rows, "合计"))
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["姓名", "时间", "金额（分）", "金额（元）"]
    assert sheet["A2"].value == "=1+1"
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == datetime(2027, 3, 12, 23, 59)  # noqa: DTZ001  # a workbook time is naive Shanghai time
    assert sheet["C2"].value == 123_456
    assert sheet["C2"].number_format == "#,##0"
    assert sheet["D2"].value == 1234.56
    assert sheet["D2"].number_format.startswith("¥#,##0.00")
    assert [c.value for c in sheet[5]] == ["合计", None, 123_417, 1234.17]


def test_the_bank_workbook_signs_debits_so_its_total_is_the_net() -> None:
    lines = [SettlementLine("p1", "m1", "张三", "c1", 150_000, "skill_upgrade", AT),
             SettlementLine("p2", "m2", "李四", "c2", -4_000, "books", AT)]
    rows = [_bank_row(settlement_cells("b1", n, line)) for n, line in enumerate(lines, 1)]
    columns = [Column(h, {"amount_fen": Kind.FEN, "amount_cny": Kind.YUAN}.get(h, Kind.TEXT))
               for h in SETTLEMENT_HEADER]
    sheet = _open(workbook("b1", columns, rows, "Total"))
    fen = SETTLEMENT_HEADER.index("amount_fen") + 1
    assert [sheet.cell(r, fen).value for r in (2, 3, 4)] == [150_000, -4_000, 146_000]
    assert sheet.cell(3, SETTLEMENT_HEADER.index("direction") + 1).value == "debit"
