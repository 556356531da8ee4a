"""Exports in the reader's language: the filtered view and the bank's file, as CSV or .xlsx.

Headings, programme titles, kinds and statuses come from the page's message catalogues; ids,
codes and amounts are written as they are. See `domain.files` for the rule of each format.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from fastapi import Response
from fastapi.responses import StreamingResponse

from engine.catalogue import Catalogue
from engine.periods import SHANGHAI
from services.finance.adapters.workbook import Column, Kind, workbook
from services.finance.api.messages import Language, text
from services.finance.domain.files import (
    BOM,
    SETTLEMENT_HEADER,
    VIEW_COLUMNS,
    Encoding,
    SettlementLine,
    cny,
    settlement_cells,
    view_line,
)

Format = Literal["csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_VIEW_KINDS = {"recorded_at": Kind.TIME, "occurred_at": Kind.TIME, "amount_fen": Kind.FEN,
               "amount_cny": Kind.YUAN}
_BANK_KINDS = {"line": Kind.COUNT, "amount_fen": Kind.FEN, "amount_cny": Kind.YUAN}


def programme_title(catalogue: Catalogue, name: str, language: Language) -> str:
    """The programme's title in `language` (the Chinese title where it has no English one)."""
    try:
        programme = catalogue.programme(name)
    except KeyError:
        return name
    english = programme.title_en
    return (english or programme.title) if language == "en" else (programme.title or english)


def local_time(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def view_values(row: dict[str, Any], name: str | None, catalogue: Catalogue,
                language: Language) -> tuple[object, ...]:
    """One payout of a view, typed: times as datetimes, amounts as fen."""
    return (row["payout_id"], row["recorded_at"], row["occurred_at"], row["programme"],
            programme_title(catalogue, row["programme"], language),
            text(language, f"kind.{row['kind']}"), row["member_id"], name, row["merchant_id"],
            row["merchant_name"], row["amount_fen"], row["amount_fen"],
            text(language, f"status.{row['status']}"), row["batch_id"])


def _as_csv(values: Sequence[object]) -> str:
    """A typed view row as CSV cells: times in Shanghai, fen as int, CNY as decimal text."""
    cells: list[object] = []
    for column, value in zip(VIEW_COLUMNS, values, strict=True):
        if isinstance(value, datetime):
            cells.append(local_time(value))
        elif column == "amount_cny" and isinstance(value, int):
            cells.append(cny(value))
        else:
            cells.append(value)
    return view_line(cells)


def headings(language: Language, columns: Iterable[str]) -> list[str]:
    return [text(language, f"export.col.{c}") for c in columns]


def view_csv(rows: AsyncIterator[tuple[object, ...]], language: Language) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        yield BOM + view_line(headings(language, VIEW_COLUMNS))
        async for values in rows:
            yield _as_csv(values)

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="payouts.csv"'})


def view_xlsx(rows: Iterable[Sequence[object]], language: Language) -> Response:
    columns = [Column(h, _VIEW_KINDS.get(c, Kind.TEXT), 22 if c.endswith("_at") else 16)
               for c, h in zip(VIEW_COLUMNS, headings(language, VIEW_COLUMNS), strict=True)]
    body = workbook(text(language, "export.sheet.payouts"), columns, rows,
                    text(language, "export.total"))
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="payouts.xlsx"'})


def settlement(name: str, lines: Sequence[SettlementLine], csv_text: str, fmt: Format,
               encoding: Encoding, language: Language) -> Response:
    """The bank's file as CSV in `encoding`, or its .xlsx twin for people."""
    if fmt == "csv":
        return Response(encoding.bytes_of(csv_text),
                        media_type=f"text/csv; charset={encoding.value}",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    batch = name.removeprefix("settlement_")
    columns = [Column(h, _BANK_KINDS.get(c, Kind.TEXT), 18) for c, h in
               zip(SETTLEMENT_HEADER, headings(language, SETTLEMENT_HEADER), strict=True)]
    rows = [_bank_row(settlement_cells(batch, n, line))
            for n, line in enumerate(lines, start=1)]
    body = workbook(batch, columns, rows, text(language, "export.total"))
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def _bank_row(cells: tuple[object, ...]) -> tuple[object, ...]:
    """The bank's cells for a workbook: amounts signed (a debit negative), so the totals row
    is the batch's net; the yuan column takes the fen (the workbook shows it in yuan)."""
    fen = cells[SETTLEMENT_HEADER.index("amount_fen")]
    debit = cells[SETTLEMENT_HEADER.index("direction")] == "debit"
    signed = -fen if debit and isinstance(fen, int) else fen
    return tuple(signed if column in ("amount_fen", "amount_cny") else cell
                 for column, cell in zip(SETTLEMENT_HEADER, cells, strict=True))
