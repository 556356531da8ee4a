"""Settlement: batches prepared and approved by two people, exported, confirmed by the bank."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, UploadFile

from engine.periods import SHANGHAI
from services.finance.api import exports, models, shape
from services.finance.api.messages import DEFAULT, LanguageQuery
from services.finance.api.review import Id
from services.finance.api.security import (
    Approver,
    FinanceDep,
    Preparer,
    Refusal,
    Reviewer,
    RoleFirst,
    Settler,
)
from services.finance.domain.files import Encoding
from services.finance.domain.stream import MAX_PAGE

router = APIRouter(prefix="/api", tags=["settlement"], route_class=RoleFirst,
                   responses=models.problem_responses(400, 401, 403, 422))
MAX_FILE = 64 * 1024 * 1024


@router.get("/batches", response_model=list[models.BatchRow])
async def batches(
    _: Reviewer, fin: FinanceDep, status: models.BatchStatusName | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[models.BatchRow]:
    """Settlement batches, newest first."""
    return [models.BatchRow(**row) for row in await fin.views.batches(status, limit)]


@router.get("/settlement/days", response_model=list[models.BatchableDay])
async def batchable_days(
    _: Reviewer, fin: FinanceDep, days: Annotated[int, Query(ge=1, le=366)] = 14,
) -> list[models.BatchableDay]:
    """Per programme and day (the last `days` days): payouts recorded, and how many are in
    batches: what is left to prepare."""
    today = fin.now().astimezone(SHANGHAI).date()
    rows = await fin.views.batchable_days(today - timedelta(days=days - 1),
                                          today + timedelta(days=1))
    return [models.BatchableDay(**row) for row in rows]


@router.post("/batches", response_model=models.BatchRow, status_code=201,
             responses=models.problem_responses(409))
async def prepare(body: models.PrepareBatch, staff: Preparer,
                  fin: FinanceDep) -> models.BatchRow:
    """Gather one programme's pending payouts of one Shanghai day into a new batch."""
    if body.programme not in {p.name for p in fin.catalogue.programmes}:
        raise Refusal(422, f"programme: no programme {body.programme}", "unknown_programme")
    made = await fin.settlement.prepare(staff, body.programme, body.day)
    return await _batch_row(fin, made)


@router.get("/batches/{batch_id}", response_model=models.BatchDetail,
            responses=models.problem_responses(404))
async def batch(batch_id: Id, staff: Reviewer, fin: FinanceDep,
                limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> models.BatchDetail:
    """A batch, its payouts (largest first), and those still awaiting their own approval."""
    row = await _batch_row(fin, batch_id)
    payouts = [shape.payout(p, staff) for p in await fin.views.batch_payouts(batch_id, limit)]
    waiting = [p.payout_id for p in payouts if p.needs_own_approval and p.approved_by is None]
    return models.BatchDetail(batch=row, payouts=payouts, awaiting_own_approval=waiting)


@router.post("/batches/{batch_id}/approve", response_model=models.BatchRow,
             responses=models.problem_responses(404, 409))
async def approve_batch(batch_id: Id, staff: Approver, fin: FinanceDep) -> models.BatchRow:
    """Approve a prepared batch. Refused (403, code `same_person`) to whoever prepared it,
    and (409) while a payout over 1,000 CNY in it lacks its own approval."""
    await fin.settlement.approve_batch(staff, batch_id)
    return await _batch_row(fin, batch_id)


@router.post("/batches/{batch_id}/export", response_class=Response,
             responses={200: {"content": {"text/csv": {"schema": {"type": "string"}},
                                          exports.XLSX: {"schema": {"type": "string"}}},
                              "description": "The bank's settlement file"},
                        **models.problem_responses(404, 409)})
async def export(
    batch_id: Id, staff: Settler, fin: FinanceDep,
    format: Annotated[exports.Format, Query(description="csv for the bank, xlsx for people")]
    = "csv",
    encoding: Annotated[Encoding | None, Query(
        description="the CSV's encoding (default: the server's --settlement-encoding)")] = None,
    lang: LanguageQuery = DEFAULT,
) -> Response:
    """The settlement file of an approved batch: CSV for the bank (UTF-8 with a byte-order
    mark, or GB18030), or its .xlsx twin. The first export marks the batch and its payouts
    exported; every export is recorded in the audit trail."""
    made = await fin.settlement.export(staff, batch_id)
    return exports.settlement(made.name, made.lines, made.text, format,
                              encoding or fin.settlement_encoding, lang)


@router.post("/confirmations", response_model=models.Imported,
             responses=models.problem_responses(413))
async def import_confirmation(file: UploadFile, staff: Settler,
                              fin: FinanceDep) -> models.Imported:
    """Import the bank's confirmation file (CSV: batch_id,payout_id,result,bank_reference,
    reason): payouts become settled or failed; failed ones come back for review. A file with
    any line that does not fit is refused whole (422, each problem named)."""
    raw = await file.read(MAX_FILE + 1)
    if len(raw) > MAX_FILE:
        raise Refusal(413, "the file is larger than 64 MiB", "too_large")
    done = await fin.settlement.import_confirmation(staff, raw)
    return models.Imported(settled=done.settled, settled_fen=done.settled_fen,
                           failed=done.failed, failed_fen=done.failed_fen,
                           unchanged=done.unchanged)


@router.post("/payouts/{payout_id}/approve", response_model=models.PayoutRow,
             responses=models.problem_responses(404, 409))
async def approve_payout(payout_id: Id, staff: Approver, fin: FinanceDep) -> models.PayoutRow:
    """Approve one payout over 1,000 CNY (needed before its batch can be approved); refused
    to whoever prepared its batch."""
    await fin.settlement.approve_payout(staff, payout_id)
    return await _payout_row(fin, payout_id, staff)


@router.post("/payouts/{payout_id}/requeue", response_model=models.PayoutRow,
             responses=models.problem_responses(404, 409))
async def requeue(payout_id: Id, staff: Settler, fin: FinanceDep) -> models.PayoutRow:
    """Send a payout the bank failed back to pending, to be gathered into a later batch."""
    await fin.settlement.requeue(staff, payout_id)
    return await _payout_row(fin, payout_id, staff)


async def _batch_row(fin: FinanceDep, batch_id: str) -> models.BatchRow:
    row = await fin.views.batch(batch_id)
    if row is None:
        raise Refusal(404, f"no batch {batch_id}", "not_found")
    return models.BatchRow(**row)


async def _payout_row(fin: FinanceDep, payout_id: str,
                      staff: Reviewer) -> models.PayoutRow:
    row = await fin.views.payout(payout_id)
    if row is None:
        raise Refusal(404, f"no payout {payout_id}", "not_found")
    return shape.payout(row, staff)
