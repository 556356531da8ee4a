"""Settlement actions: prepare, approve (a batch, a large payout), export, import, send back.

Each runs in one transaction that also writes its audit record to the outbox, so an action
and its record of who did it and when commit together or not at all. Rules live in
`domain.settlement`; this module loads, decides with them, and records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from engine.money import yuan
from engine.periods import start_of_day
from services.finance.adapters.settlement import SettlementStore
from services.finance.domain import confirmation
from services.finance.domain.files import SettlementLine, settlement_file
from services.finance.domain.settlement import (
    Batch,
    BatchStatus,
    NotFound,
    NothingToSettle,
    Refused,
    SettlementState,
    batch_id,
    check_batch_approval,
    check_export,
    check_payout_approval,
    check_preparation,
    check_requeue,
)
from services.finance.domain.staff import Staff
from services.finance.service_layer.audit import finance_action


class FileRefused(Refused):
    """A confirmation file that cannot be applied; `problems` names each line."""

    code = "file_refused"

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Exported:
    """A settlement file: its name without extension, its lines, the CSV text for the bank."""

    name: str
    lines: tuple[SettlementLine, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Imported:
    settled: int
    settled_fen: int
    failed: int
    failed_fen: int
    unchanged: int


class Settlement:
    def __init__(self, store: SettlementStore, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now

    async def prepare(self, staff: Staff, programme: str, day: date) -> str:
        """Gather the programme's pending payouts of `day` into a new batch; its id."""
        now = self.now()
        async with self.store.transaction("prepare a batch") as unit:
            made = await unit.open_batch(programme, day, staff.username, now, batch_id)
            count, total = await unit.gather(made, programme, start_of_day(day),
                                             start_of_day(day + timedelta(days=1)), now)
            if count == 0:
                raise NothingToSettle(f"no pending {programme} payouts on {day}: nothing to "
                                      "gather into a batch")
            check_preparation(staff.username, await unit.approved_by(made, staff.username))
            await unit.record([finance_action(
                "batch_prepared", staff, now, programme=programme, amount_fen=total,
                details=[("batch", f"{made}: {count} payouts, {yuan(total)} CNY, day {day}")])])
        return made

    async def approve_batch(self, staff: Staff, batch: str) -> Batch:
        now = self.now()
        async with self.store.transaction("approve a batch") as unit:
            found = _found(await unit.lock_batch(batch), batch)
            check_batch_approval(found, staff.username, await unit.unapproved_large(batch))
            await unit.approve_batch(batch, staff.username, now)
            await unit.record([finance_action(
                "batch_approved", staff, now, programme=found.programme,
                amount_fen=found.total_fen,
                details=[("batch", f"{batch}: {found.payout_count} payouts prepared by "
                                   f"{found.prepared_by}")])])
        return found

    async def approve_payout(self, staff: Staff, payout_id: str) -> None:
        """Approve one payout over 1,000 CNY, so its batch can be approved."""
        now = self.now()
        async with self.store.transaction("approve a payout") as unit:
            payout = await unit.lock_payout(payout_id)
            if payout is None:
                raise NotFound(f"no payout {payout_id}")
            check_payout_approval(payout_id, payout.amount_fen, staff.username,
                                  payout.preparer, payout.approved_by)
            await unit.approve_payout(payout_id, staff.username, now)
            await unit.record([finance_action(
                "payout_approved", staff, now, programme=payout.programme,
                member_id=payout.member_id, amount_fen=payout.amount_fen,
                details=[("payout", f"{payout_id}: {yuan(payout.amount_fen)} CNY")])])

    async def export(self, staff: Staff, batch: str) -> Exported:
        """The bank's settlement file of an approved batch: its lines and its CSV text. A
        line the file cannot carry verbatim refuses the export (`UnsafeLine`), changing
        nothing."""
        now = self.now()
        async with self.store.transaction("export a batch") as unit:
            found = _found(await unit.lock_batch(batch), batch)
            check_export(found)
            if found.status is BatchStatus.APPROVED:
                await unit.mark_exported(batch, staff.username, now)
            lines = await unit.settlement_lines(batch)
            text = settlement_file(batch, lines)
            await unit.record([finance_action(
                "settlement_exported", staff, now, programme=found.programme,
                amount_fen=sum(line.amount_fen for line in lines),
                details=[("batch", f"{batch}: {len(lines)} lines for the bank")])])
        return Exported(f"settlement_{batch}", tuple(lines), text)

    async def import_confirmation(self, staff: Staff, raw: bytes) -> Imported:
        """Apply the bank's confirmation: payouts settled or failed, all lines or none."""
        try:
            lines = confirmation.parse(raw)
        except confirmation.UnreadableFile as error:
            raise FileRefused(str(error)) from None
        if not lines:
            raise FileRefused("the file confirms no payout")
        now = self.now()
        async with self.store.transaction("import a confirmation") as unit:
            standing = await unit.lock_confirmed(sorted({line.payout_id for line in lines}))
            plan = confirmation.plan(lines, standing)
            if plan.problems:
                raise FileRefused(f"{len(plan.problems)} line(s) cannot be applied; nothing "
                                  "was changed", plan.problems[:50])
            await unit.confirm(plan.changes, now)
            await unit.close_batches(sorted({change.batch_id for change in plan.changes}))
            settled = plan.total(SettlementState.SETTLED)
            failed = plan.total(SettlementState.FAILED)
            await unit.record([finance_action(
                "confirmation_imported", staff, now, amount_fen=settled[1],
                details=[("confirmation", f"{settled[0]} settled ({yuan(settled[1])} CNY), "
                                          f"{failed[0]} failed ({yuan(failed[1])} CNY), "
                                          f"{plan.unchanged} unchanged")])])
        return Imported(settled[0], settled[1], failed[0], failed[1], plan.unchanged)

    async def requeue(self, staff: Staff, payout_id: str) -> None:
        """Send a payout the bank failed back to pending, for a later batch."""
        now = self.now()
        async with self.store.transaction("send a payout back") as unit:
            payout = await unit.lock_payout(payout_id)
            if payout is None:
                raise NotFound(f"no payout {payout_id}")
            check_requeue(payout_id, payout.state)
            await unit.requeue(payout_id, now)
            await unit.record([finance_action(
                "payout_requeued", staff, now, programme=payout.programme,
                member_id=payout.member_id, amount_fen=payout.amount_fen,
                details=[("payout", f"{payout_id} back to pending after failing in "
                                    f"{payout.batch_id}")])])


def _found(batch: Batch | None, wanted: str) -> Batch:
    if batch is None:
        raise NotFound(f"no batch {wanted}")
    return batch
