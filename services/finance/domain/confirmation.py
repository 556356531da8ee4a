"""The bank's confirmation file: one line per payout, settled or failed.

    batch_id,payout_id,result,bank_reference,reason
    bat_green_commute_2027-03-10_1,pay_...,settled,BK20270311000123,
    bat_green_commute_2027-03-10_1,pay_...,failed,,account closed

UTF-8 (a byte-order mark is allowed) or GB18030 (what many Chinese banks' batch systems
write: a file that is not UTF-8 is read as GB18030), comma-separated, the header line first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.finance.domain.settlement import SettlementState

HEADER = ("batch_id", "payout_id", "result", "bank_reference", "reason")
MAX_LINES = 2_000_000


class Result(StrEnum):
    SETTLED = "settled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Confirmation:
    line: int
    batch_id: str
    payout_id: str
    result: Result
    bank_reference: str | None
    reason: str | None


class UnreadableFile(ValueError):
    """The file is not a confirmation file; the message names the first problem and its line."""


def parse(raw: bytes) -> list[Confirmation]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise UnreadableFile("the file is neither UTF-8 nor GB18030 text") from None
    if "\x00" in text:
        raise UnreadableFile("the file holds a NUL character")
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            raise UnreadableFile(f"line 1: the header must be {','.join(HEADER)}")
        return [_line(number, row) for number, row in enumerate(rows, start=2) if any(row)]
    except csv.Error as error:
        raise UnreadableFile(f"not CSV: {error}") from None


def _line(number: int, row: list[str]) -> Confirmation:
    if number > MAX_LINES:
        raise UnreadableFile(f"more than {MAX_LINES} lines")
    if len(row) != len(HEADER):
        raise UnreadableFile(f"line {number}: {len(row)} fields, {len(HEADER)} expected")
    batch_id, payout_id, result, reference, reason = (field.strip() for field in row)
    if not batch_id or not payout_id:
        raise UnreadableFile(f"line {number}: batch_id and payout_id are required")
    if result not in {r.value for r in Result}:
        raise UnreadableFile(f"line {number}: result must be settled or failed, not {result!r}")
    if result == Result.SETTLED and not reference:
        raise UnreadableFile(f"line {number}: a settled payout needs its bank_reference")
    return Confirmation(number, batch_id, payout_id, Result(result), reference or None,
                        reason or None)


@dataclass(frozen=True, slots=True)
class Standing:
    """A payout named in a confirmation file, as it stands before the file is applied."""

    payout_id: str
    batch_id: str | None
    state: SettlementState
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Change:
    payout_id: str
    batch_id: str
    state: SettlementState
    bank_reference: str | None
    reason: str | None
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What a confirmation file changes; a file with any problem changes nothing."""

    changes: tuple[Change, ...]
    unchanged: int
    problems: tuple[str, ...]

    def total(self, state: SettlementState) -> tuple[int, int]:
        """(count, fen) of the changes to `state`."""
        picked = [c.amount_fen for c in self.changes if c.state is state]
        return len(picked), sum(picked)


def plan(lines: Sequence[Confirmation], standing: Mapping[str, Standing]) -> Plan:
    """Check every line against where its payout stands; a repeated file changes nothing."""
    changes: list[Change] = []
    problems: list[str] = []
    unchanged = 0
    seen: set[str] = set()
    for line in lines:
        now = standing.get(line.payout_id)
        target = SettlementState(line.result.value)
        if line.payout_id in seen:
            problems.append(f"line {line.line}: payout {line.payout_id} is named twice")
        elif now is None or now.batch_id != line.batch_id:
            problems.append(f"line {line.line}: payout {line.payout_id} is not in batch "
                            f"{line.batch_id}")
        elif now.state is target:
            unchanged += 1
        elif now.state is SettlementState.EXPORTED:
            changes.append(Change(line.payout_id, line.batch_id, target, line.bank_reference,
                                  line.reason, now.amount_fen))
        elif now.state in (SettlementState.SETTLED, SettlementState.FAILED):
            problems.append(f"line {line.line}: payout {line.payout_id} was already "
                            f"{now.state}")
        else:
            problems.append(f"line {line.line}: payout {line.payout_id} was not exported to "
                            "the bank")
        seen.add(line.payout_id)
    return Plan(tuple(changes), unchanged, tuple(problems))
