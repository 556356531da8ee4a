"""Four eyes, the 1,000 CNY rule, and which state allows which action."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.finance.domain.settlement import (
    AwaitingOwnApproval,
    Batch,
    BatchStatus,
    SamePerson,
    SettlementState,
    WrongState,
    batch_id,
    check_batch_approval,
    check_export,
    check_payout_approval,
    check_requeue,
    needs_own_approval,
)

NOW = datetime(2027, 3, 11, 2, 0, tzinfo=UTC)


def batch(status: BatchStatus = BatchStatus.PREPARED, prepared_by: str = "zhao") -> Batch:
    return Batch("bat_books_2027-03-10_1", "books", date(2027, 3, 10), status, 3, 12_000,
                 prepared_by, NOW, None, None, None, None)


@pytest.mark.parametrize(("amount", "needs"), [
    (100_000, False), (100_001, True), (99_999, False), (-100_000, False), (-100_001, True),
    (200_000, True), (1, False)])
def test_over_1000_cny_needs_its_own_approval(amount: int, needs: bool) -> None:
    assert needs_own_approval(amount) is needs


def test_another_person_approves_a_prepared_batch() -> None:
    check_batch_approval(batch(), "wang", [])


def test_whoever_prepared_a_batch_cannot_approve_it() -> None:
    with pytest.raises(SamePerson, match=r"you prepared batch .* another person must approve"):
        check_batch_approval(batch(prepared_by="wang"), "wang", [])


def test_four_eyes_comes_before_the_large_payouts() -> None:
    with pytest.raises(SamePerson):
        check_batch_approval(batch(prepared_by="wang"), "wang", ["pay-1"])


def test_a_batch_waits_for_its_large_payouts() -> None:
    with pytest.raises(AwaitingOwnApproval, match=r"2 payout.*pay-1, pay-2"):
        check_batch_approval(batch(), "wang", ["pay-1", "pay-2"])


@pytest.mark.parametrize("status", [BatchStatus.APPROVED, BatchStatus.EXPORTED,
                                    BatchStatus.CLOSED])
def test_only_a_prepared_batch_is_approved(status: BatchStatus) -> None:
    with pytest.raises(WrongState):
        check_batch_approval(batch(status), "wang", [])


def test_a_large_payout_is_approved_once_by_someone_other_than_its_preparer() -> None:
    check_payout_approval("pay-1", 200_000, "wang", "zhao", None)
    check_payout_approval("pay-1", 200_000, "wang", None, None)
    with pytest.raises(SamePerson):
        check_payout_approval("pay-1", 200_000, "zhao", "zhao", None)
    with pytest.raises(WrongState, match="already approved by li"):
        check_payout_approval("pay-1", 200_000, "wang", "zhao", "li")


def test_a_small_payout_needs_no_approval_of_its_own() -> None:
    with pytest.raises(WrongState, match="not over 1,000 CNY"):
        check_payout_approval("pay-1", 100_000, "wang", "zhao", None)


def test_only_an_approved_batch_is_exported() -> None:
    with pytest.raises(WrongState, match="only an approved batch"):
        check_export(batch(BatchStatus.PREPARED))
    for status in (BatchStatus.APPROVED, BatchStatus.EXPORTED, BatchStatus.CLOSED):
        check_export(batch(status))


def test_only_a_failed_payout_is_sent_back() -> None:
    check_requeue("pay-1", SettlementState.FAILED)
    for state in (None, SettlementState.PENDING, SettlementState.SETTLED,
                  SettlementState.EXPORTED):
        with pytest.raises(WrongState):
            check_requeue("pay-1", state)


def test_batch_ids_name_programme_day_and_number() -> None:
    assert batch_id("green_commute", date(2027, 3, 10), 2) == "bat_green_commute_2027-03-10_2"
