"""Settlement rules: four eyes on every batch, a payout over 1,000 CNY approved on its own.

A batch is one programme's payouts of one Shanghai day. It is `prepared` by one person,
`approved` by another (never the same person), `exported` as the bank's settlement file, and
`closed` when the bank's confirmation has settled or failed every payout in it. A payout whose
amount is over 1,000 CNY (100,000 fen; a clawback by its size) needs its own approval, by
someone other than whoever prepared its batch, before the batch can be approved; whichever
comes first (the payout's approval or its batch), the other step is refused to that person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

LARGE_PAYOUT_FEN = 100_000
"""1,000 CNY: a payout above this needs its own approval first."""


class BatchStatus(StrEnum):
    PREPARED = "prepared"
    APPROVED = "approved"
    EXPORTED = "exported"
    CLOSED = "closed"


class SettlementState(StrEnum):
    """Where one payout is on its way to the bank (`pending`: in no batch yet)."""

    PENDING = "pending"
    BATCHED = "batched"
    EXPORTED = "exported"
    SETTLED = "settled"
    FAILED = "failed"


class Refused(Exception):
    """An action the settlement rules do not allow; `code` names the rule."""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SamePerson(Refused):
    """Four eyes: whoever prepared a batch cannot approve it (nor its large payouts)."""

    code = "same_person"


class AwaitingOwnApproval(Refused):
    code = "awaiting_own_approval"


class WrongState(Refused):
    code = "wrong_state"


class NothingToSettle(Refused):
    code = "nothing_to_settle"


class NotFound(Refused):
    code = "not_found"


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: str
    programme: str
    business_day: date
    status: BatchStatus
    payout_count: int
    total_fen: int
    prepared_by: str
    prepared_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    exported_by: str | None
    exported_at: datetime | None


def needs_own_approval(amount_fen: int) -> bool:
    """Over 1,000 CNY, either way: 100,000 fen needs none, 100,001 does."""
    return abs(amount_fen) > LARGE_PAYOUT_FEN


def batch_id(programme: str, day: date, number: int) -> str:
    """`bat_green_commute_2027-03-10_2`: the day's second batch of green_commute."""
    return f"bat_{programme}_{day.isoformat()}_{number}"


def check_batch_approval(batch: Batch, approver: str, unapproved_large: Sequence[str]) -> None:
    """Raise unless `approver` may approve `batch` now."""
    if batch.status is not BatchStatus.PREPARED:
        raise WrongState(f"batch {batch.batch_id} is {batch.status}, not prepared: "
                         "only a prepared batch can be approved")
    if approver == batch.prepared_by:
        raise SamePerson(f"you prepared batch {batch.batch_id}; another person must approve it "
                         "(four eyes)")
    if unapproved_large:
        shown = ", ".join(unapproved_large[:5]) + (" ..." if len(unapproved_large) > 5 else "")
        raise AwaitingOwnApproval(
            f"{len(unapproved_large)} payout(s) over 1,000 CNY in batch {batch.batch_id} need "
            f"their own approval first: {shown}")


def check_payout_approval(payout_id: str, amount_fen: int, approver: str,
                          preparer: str | None, approved_by: str | None) -> None:
    """Raise unless `approver` may approve this large payout (`preparer`: of its batch, if any)."""
    if not needs_own_approval(amount_fen):
        raise WrongState(f"payout {payout_id} is not over 1,000 CNY: it needs no approval "
                         "of its own")
    if approved_by is not None:
        raise WrongState(f"payout {payout_id} was already approved by {approved_by}")
    if approver == preparer:
        raise SamePerson(f"you prepared the batch of payout {payout_id}; another person must "
                         "approve it (four eyes)")


def check_preparation(preparer: str, approved_by_preparer: Sequence[str]) -> None:
    """Raise if `preparer` approved a payout of the batch they are preparing: one person
    would then have both approved that payout and prepared its batch. Four eyes hold at
    every step, whichever comes first."""
    if approved_by_preparer:
        shown = ", ".join(approved_by_preparer[:5]) + \
            (" ..." if len(approved_by_preparer) > 5 else "")
        raise SamePerson(f"you approved payout(s) {shown} of this day; another person must "
                         "prepare their batch (four eyes)")


def check_export(batch: Batch) -> None:
    if batch.status not in (BatchStatus.APPROVED, BatchStatus.EXPORTED, BatchStatus.CLOSED):
        raise WrongState(f"batch {batch.batch_id} is {batch.status}: only an approved batch "
                         "can be exported for the bank")


def check_requeue(payout_id: str, state: SettlementState | None) -> None:
    if state is not SettlementState.FAILED:
        raise WrongState(f"payout {payout_id} is {state or 'pending'}: only a payout the bank "
                         "failed can be sent back for settlement")
