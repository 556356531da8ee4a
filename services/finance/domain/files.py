"""CSV files finance hands out: the bank's settlement file and any filtered view.

Every amount is written twice: integer fen (what the bank books) and CNY text. Text that a
spreadsheet would run as a formula (starting with = + - @, tab or CR) is quoted with a leading
apostrophe, so an exported file can be opened safely.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from puhui.engine.periods import SHANGHAI

SETTLEMENT_HEADER = ("batch_id", "line", "payout_id", "member_id", "member_name", "card_id",
                     "direction", "amount_fen", "amount_cny", "programme", "occurred_at")
VIEW_HEADER = ("payout_id", "recorded_at", "occurred_at", "programme", "kind", "member_id",
               "member_name", "merchant_id", "merchant_name", "amount_fen", "amount_cny",
               "status", "batch_id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def safe_cell(value: object) -> str:
    """A value as CSV text that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_line(cells: Sequence[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([safe_cell(c) for c in cells])
    return out.getvalue()


def settlement_file(batch_id: str, lines: Iterable[SettlementLine]) -> str:
    """The bank's file for one approved batch: a credit per payout, a debit per clawback."""
    parts = [csv_line(SETTLEMENT_HEADER)]
    for number, line in enumerate(lines, start=1):
        direction = "credit" if line.amount_fen > 0 else "debit"
        parts.append(csv_line((batch_id, number, line.payout_id, line.member_id,
                               line.member_name, line.card_id, direction,
                               abs(line.amount_fen), cny(abs(line.amount_fen)), line.programme,
                               shanghai_text(line.occurred_at))))
    return "".join(parts)
