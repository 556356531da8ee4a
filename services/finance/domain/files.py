"""The files finance hands out: the bank's settlement file and any filtered view, as CSV.

One rule per format (docs/finance.md, "Files"):

- **A view for people** (`payouts.csv`): UTF-8 with a byte-order mark, so Excel and WPS on a
  Chinese Windows read the names. A text cell that a spreadsheet would run as a formula
  (starting with = + - @, tab or CR) gets a leading apostrophe; numbers are numbers and are
  never touched (`-100` stays `-100`).
- **The bank's settlement file**: for a machine, so no cell is ever altered (an apostrophe
  would become part of the account holder's name at the bank). It is checked instead: a line
  whose text would run as a formula is refused before anything is exported. UTF-8 with a
  byte-order mark, or GB18030 (no mark) for banks whose batch systems read that; people open
  its .xlsx twin, whose cells are typed text and never formulas.

Every amount is written twice: integer fen (what the bank books) and CNY.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from engine.periods import SHANGHAI
from services.finance.domain.settlement import Refused

BOM = "\ufeff"
SETTLEMENT_HEADER = ("batch_id", "line", "payout_id", "member_id", "member_name", "card_id",
                     "direction", "amount_fen", "amount_cny", "programme", "occurred_at")
VIEW_COLUMNS = ("payout_id", "recorded_at", "occurred_at", "programme", "programme_title",
                "kind", "member_id", "member_name", "merchant_id", "merchant_name",
                "amount_fen", "amount_cny", "status", "batch_id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class Encoding(StrEnum):
    """What the bank's batch system reads."""

    UTF8 = "utf-8"
    GB18030 = "gb18030"

    def bytes_of(self, text: str) -> bytes:
        return (BOM + text).encode("utf-8") if self is Encoding.UTF8 else text.encode("gb18030")


class UnsafeLine(Refused):
    """A settlement line whose text a spreadsheet would run; the bank file is not altered."""

    code = "unsafe_cell"


@dataclass(frozen=True, slots=True)
class SettlementLine:
    payout_id: str
    member_id: str
    member_name: str | None
    card_id: str | None
    amount_fen: int
    programme: str
    occurred_at: datetime


def cny(amount_fen: int) -> str:
    """`-12345` -> `-123.45` (no thousands separator: a file, not a page)."""
    sign = "-" if amount_fen < 0 else ""
    whole, cents = divmod(abs(amount_fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def shanghai_text(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def runs_as_formula(text: str) -> bool:
    """Would a spreadsheet run this text cell? A plain decimal number is a number, not text."""
    return text.startswith(_FORMULA_START) and _NUMBER.fullmatch(text) is None


def view_cell(value: object) -> str:
    """A value of a view for people: text that would run as a formula gets an apostrophe."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    return "'" + value if runs_as_formula(value) else value


def _row(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def view_line(cells: Sequence[object]) -> str:
    return _row([view_cell(c) for c in cells])


def settlement_cells(batch_id: str, number: int, line: SettlementLine) -> tuple[object, ...]:
    """One line of the bank's file, as typed values (fen as int)."""
    return (batch_id, number, line.payout_id, line.member_id, line.member_name or "",
            line.card_id or "", "credit" if line.amount_fen > 0 else "debit",
            abs(line.amount_fen), cny(abs(line.amount_fen)), line.programme,
            shanghai_text(line.occurred_at))


def settlement_file(batch_id: str, lines: Iterable[SettlementLine]) -> str:
    """The bank's file for one approved batch: a credit per payout, a debit per clawback.

    Written verbatim; a text cell that would run as a formula raises `UnsafeLine`."""
    parts = [_row(SETTLEMENT_HEADER)]
    for number, line in enumerate(lines, start=1):
        cells = settlement_cells(batch_id, number, line)
        bad = [str(c) for c in cells if isinstance(c, str) and runs_as_formula(c)]
        if bad:
            raise UnsafeLine(f"line {number} ({line.payout_id}): {bad[0]!r} would run as a "
                             "formula in a spreadsheet")
        parts.append(_row([str(c) for c in cells]))
    return "".join(parts)
