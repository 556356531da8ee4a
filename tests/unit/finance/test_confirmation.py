"""The bank's confirmation file: read strictly, applied all or nothing, repeatable."""

from __future__ import annotations

import pytest

from services.finance.domain.confirmation import (
    Confirmation,
    Result,
    Standing,
    UnreadableFile,
    parse,
    plan,
)
from services.finance.domain.settlement import SettlementState

HEADER = b"batch_id,payout_id,result,bank_reference,reason\r\n"


def test_a_file_is_read_line_by_line() -> None:
    raw = "\ufeff".encode() + HEADER + b"b1,p1,settled,BK1,\r\nb1,p2,failed,,account closed\r\n\r\n"
    assert parse(raw) == [Confirmation(2, "b1", "p1", Result.SETTLED, "BK1", None),
                          Confirmation(3, "b1", "p2", Result.FAILED, None, "account closed")]


@pytest.mark.parametrize(("raw", "problem"), [
    (b"", "line 1: the header"),
    (b"payout_id,result\r\n", "line 1: the header"),
    (HEADER + b"b1,p1,paid,BK1,\r\n", "line 2: result must be settled or failed"),
    (HEADER + b"b1,p1,settled,,\r\n", "line 2: a settled payout needs its bank_reference"),
    (HEADER + b"b1,p1,settled\r\n", "line 2: 3 fields, 5 expected"),
    (HEADER + b",p1,settled,BK,\r\n", "line 2: batch_id and payout_id are required"),
    (b"\xff\xfe", "neither UTF-8 nor GB18030"),
    (HEADER + b"b1,p\x00,settled,BK,\r\n", "NUL"),
])
def test_an_unreadable_file_names_its_first_problem(raw: bytes, problem: str) -> None:
    with pytest.raises(UnreadableFile, match=problem):
        parse(raw)


def _standing(state: SettlementState, batch: str = "b1") -> dict[str, Standing]:
    return {"p1": Standing("p1", batch, state, 500)}


def _line(result: Result, payout: str = "p1", batch: str = "b1", line: int = 2) -> Confirmation:
    return Confirmation(line, batch, payout, result, "BK" if result is Result.SETTLED else None,
                        None)


def test_an_exported_payout_becomes_settled_or_failed() -> None:
    for result in Result:
        done = plan([_line(result)], _standing(SettlementState.EXPORTED))
        assert not done.problems
        assert [c.state.value for c in done.changes] == [result.value]
        assert done.total(SettlementState(result.value)) == (1, 500)


def test_the_same_file_again_changes_nothing() -> None:
    done = plan([_line(Result.SETTLED)], _standing(SettlementState.SETTLED))
    assert (done.changes, done.unchanged, done.problems) == ((), 1, ())


@pytest.mark.parametrize(("standing", "line", "problem"), [
    ({}, _line(Result.SETTLED), "not in batch b1"),
    (_standing(SettlementState.EXPORTED, "b2"), _line(Result.SETTLED), "not in batch b1"),
    (_standing(SettlementState.SETTLED), _line(Result.FAILED), "already settled"),
    (_standing(SettlementState.BATCHED), _line(Result.SETTLED), "not exported"),
])
def test_a_line_that_does_not_fit_is_a_problem(standing: dict[str, Standing],
                                               line: Confirmation, problem: str) -> None:
    done = plan([line], standing)
    assert not done.changes
    assert problem in done.problems[0]


def test_a_payout_named_twice_is_a_problem() -> None:
    lines = [_line(Result.SETTLED), _line(Result.FAILED, line=3)]
    assert "named twice" in plan(lines, _standing(SettlementState.EXPORTED)).problems[0]
