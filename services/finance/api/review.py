"""Review: the payout stream (live, filtered, paged by keyset), trails, totals, holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse

from engine.periods import SHANGHAI
from services.finance.api import exports, models, shape
from services.finance.api.messages import DEFAULT, Language, LanguageQuery
from services.finance.api.security import FinanceDep, Refusal, Reviewer, RoleFirst
from services.finance.bootstrap import Finance
from services.finance.domain.burndown import burn
from services.finance.domain.dead_letters import mask_reason
from services.finance.domain.masking import shown_name
from services.finance.domain.staff import Staff
from services.finance.domain.stream import MAX_PAGE, BadCursor, Cursor, PayoutFilter
from services.finance.service_layer.audit import finance_action

router = APIRouter(prefix="/api", tags=["review"], route_class=RoleFirst,
                   responses=models.problem_responses(400, 401, 403, 422))

NO_NUL = r"^[^\x00]+$"
Id = Annotated[str, Path(max_length=200, pattern=NO_NUL)]
Fen = Annotated[int | None, Query(ge=-(2**62), le=2**62)]
ProgrammeName = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_]+$")]
Text = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]
StatusName = Annotated[models.Status | None, Query()]
CursorText = Annotated[str | None, Query(max_length=400, pattern=r"^[A-Za-z0-9_-]+$")]


def _filter(programme: str | None, member_id: str | None, merchant_id: str | None,
            date_from: date | None, date_to: date | None, status: str | None,
            min_fen: int | None, max_fen: int | None) -> PayoutFilter:
    return PayoutFilter(programme, member_id, merchant_id, date_from, date_to, status, min_fen,
                        max_fen)


def _cursor(text: str | None) -> Cursor | None:
    try:
        return None if text is None else Cursor.parse(text)
    except BadCursor as error:
        raise Refusal(422, f"cursor: {error}", "bad_cursor") from None


@router.get("/payouts", response_model=models.PayoutPage)
async def payouts(
    staff: Reviewer, fin: FinanceDep, programme: ProgrammeName = None, member_id: Text = None,
    merchant_id: Text = None, date_from: date | None = None, date_to: date | None = None,
    status: StatusName = None, min_fen: Fen = None, max_fen: Fen = None,
    after: CursorText = None, since: CursorText = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> models.PayoutPage:
    """The payout stream, newest first (by when it was recorded), filtered.

    Dates are Shanghai days of `occurred_at`, inclusive; a view with dates is ordered by when
    its payouts occurred. Page with `after` (the `next` cursor of the page before); poll for
    new payouts with `since` (the `newest` cursor shown): the answer then holds the payouts
    recorded since, with a little overlap (drop the ones already shown).
    """
    where = _filter(programme, member_id, merchant_id, date_from, date_to, status, min_fen,
                    max_fen)
    newer = _cursor(since)
    if newer is not None:
        rows = await fin.views.newer_payouts(where, newer, limit)
    else:
        rows = await fin.views.payouts(where, _cursor(after), limit + 1)
    more = newer is None and len(rows) > limit
    rows = rows[:limit]
    order = "occurred_at" if where.dated else "recorded_at"
    latest = max(((row["recorded_at"], row["payout_id"]) for row in rows), default=None)
    return models.PayoutPage(
        items=[shape.payout(row, staff) for row in rows],
        next=Cursor(rows[-1][order], rows[-1]["payout_id"]).text() if more else None,
        newest=Cursor(*latest).text() if latest else since)


@router.get("/payouts.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "Every payout of the view, as CSV (UTF-8, BOM)"}})
async def payouts_csv(
    staff: Reviewer, fin: FinanceDep, programme: ProgrammeName = None, member_id: Text = None,
    merchant_id: Text = None, date_from: date | None = None, date_to: date | None = None,
    status: StatusName = None, min_fen: Fen = None, max_fen: Fen = None,
    lang: LanguageQuery = DEFAULT,
) -> StreamingResponse:
    """The whole filtered view as a CSV file (UTF-8 with a byte-order mark, headings in
    `lang`, names masked for a viewer); the export is recorded in the audit trail."""
    where = _filter(programme, member_id, merchant_id, date_from, date_to, status, min_fen,
                    max_fen)
    await _record_export(staff, fin, where, programme)
    return exports.view_csv(_view_rows(staff, fin, where, lang), lang)


@router.get("/payouts.xlsx", response_class=Response,
            responses={200: {"content": {exports.XLSX: {"schema": {"type": "string"}}},
                             "description": "Every payout of the view, as a workbook"}})
async def payouts_xlsx(
    staff: Reviewer, fin: FinanceDep, programme: ProgrammeName = None, member_id: Text = None,
    merchant_id: Text = None, date_from: date | None = None, date_to: date | None = None,
    status: StatusName = None, min_fen: Fen = None, max_fen: Fen = None,
    lang: LanguageQuery = DEFAULT,
) -> Response:
    """The same view as an .xlsx workbook: typed cells, fen and yuan, frozen headings, a row
    of totals; recorded in the audit trail like the CSV."""
    where = _filter(programme, member_id, merchant_id, date_from, date_to, status, min_fen,
                    max_fen)
    await _record_export(staff, fin, where, programme)
    rows = [values async for values in _view_rows(staff, fin, where, lang)]
    return exports.view_xlsx(rows, lang)


async def _record_export(staff: Staff, fin: Finance, where: PayoutFilter,
                         programme: str | None) -> None:
    shown = ", ".join(f"{k}={v}" for k, v in vars_of(where).items()) or "everything"
    async with fin.settlement.store.transaction("record a view export") as unit:
        await unit.record([finance_action("view_exported", staff, fin.now(),
                                          programme=programme,
                                          details=[("view", f"payouts: {shown}")])])


async def _view_rows(staff: Staff, fin: Finance, where: PayoutFilter,
                     lang: Language) -> AsyncIterator[tuple[object, ...]]:
    async for row in fin.views.payout_rows(where):
        name = shown_name(row["member_name"], staff.sees_personal_data)
        yield exports.view_values(row, name, fin.catalogue, lang)


def vars_of(where: PayoutFilter) -> dict[str, object]:
    return {k: v for k in where.__slots__ if (v := getattr(where, k)) is not None}


@router.get("/payouts/{payout_id}", response_model=models.PayoutDetail,
            responses=models.problem_responses(404))
async def payout(payout_id: Id, staff: Reviewer, fin: FinanceDep) -> models.PayoutDetail:
    """One payout, the rules that decided it, and the audit trail of its event and purchase."""
    row = await fin.views.payout(payout_id)
    if row is None:
        raise Refusal(404, f"no payout {payout_id}", "not_found")
    trail = await fin.views.payout_trail(row["source_event_id"], row["transaction_id"])
    return models.PayoutDetail(payout=shape.payout(row, staff),
                               trace=shape.trace(row["trace"], staff),
                               trail=[shape.decision(r, staff) for r in trail])


@router.get("/decisions/{audit_id}", response_model=models.DecisionDetail,
            responses=models.problem_responses(404))
async def decision(audit_id: Id, staff: Reviewer, fin: FinanceDep) -> models.DecisionDetail:
    """One decision of the audit trail (a payout, a cut, a denial, a hold...) and why."""
    row = await fin.views.decision(audit_id)
    if row is None:
        raise Refusal(404, f"no decision {audit_id}", "not_found")
    name = await fin.views.member_name(row["member_id"]) if row["member_id"] else None
    return models.DecisionDetail(
        decision=shape.decision(row, staff),
        member_name=shown_name(name, staff.sees_personal_data),
        payouts=await fin.views.payouts_of_event(row["source_event_id"]))


@router.get("/members/{member_id}/decisions", response_model=models.MemberDecisions)
async def member_decisions(
    member_id: Id, staff: Reviewer, fin: FinanceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 200,
) -> models.MemberDecisions:
    """Every decision about a member, newest first: why they got, or did not get, an amount."""
    rows = await fin.views.member_decisions(member_id, limit)
    name = await fin.views.member_name(member_id)
    return models.MemberDecisions(member_id=member_id,
                                  member_name=shown_name(name, staff.sees_personal_data),
                                  decisions=[shape.decision(r, staff) for r in rows])


@router.get("/programmes", response_model=list[models.Programme])
async def programmes(_: Reviewer, fin: FinanceDep) -> list[models.Programme]:
    return [models.Programme(name=p.name, title=p.title, title_en=p.title_en or p.title,
                             yearly_budget_fen=p.yearly_budget_fen)
            for p in fin.catalogue.programmes]


@router.get("/totals", response_model=models.Totals)
async def totals(
    _: Reviewer, fin: FinanceDep,
    year: Annotated[int | None, Query(ge=2000, le=2999)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
) -> models.Totals:
    """Totals per programme per day (of `month`) and per month (of `year`), and each
    programme's budget of `year`: used and left. Default: the current Shanghai month."""
    today = fin.now().astimezone(SHANGHAI).date()
    year, month = year or today.year, month or today.month
    first = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    daily = await fin.views.daily_totals(first, end)
    monthly = await fin.views.monthly_totals(date(year, 1, 1), date(year + 1, 1, 1))
    spent = await fin.views.budget_spent(year)
    budgets = [models.Budget(programme=p.name, title=p.title, title_en=p.title_en or p.title,
                             budget_fen=p.yearly_budget_fen,
                             used_fen=spent.get(p.name, 0),
                             left_fen=max(0, p.yearly_budget_fen - spent.get(p.name, 0)))
               for p in fin.catalogue.programmes]
    return models.Totals(year=year, month=month,
                         daily=[models.DayTotal(**row) for row in daily],
                         monthly=[models.MonthTotal(**row) for row in monthly], budgets=budgets)


@router.get("/burndown", response_model=list[models.BurnDown])
async def burndown(
    _: Reviewer, fin: FinanceDep,
    year: Annotated[int | None, Query(ge=2000, le=2999)] = None,
) -> list[models.BurnDown]:
    """Each programme's budget of `year` (default: this Shanghai year): spent by day, and
    the projected day it runs out at the pace so far."""
    today = fin.now().astimezone(SHANGHAI).date()
    year = year or today.year
    net: dict[str, dict[date, int]] = {}
    for row in await fin.views.daily_totals(date(year, 1, 1), date(year + 1, 1, 1)):
        net.setdefault(row["programme"], {})[row["day"]] = \
            row["paid_fen"] - row["clawed_back_fen"]
    out = []
    for p in fin.catalogue.programmes:
        made = burn(year, p.yearly_budget_fen, net.get(p.name, {}), today)
        out.append(models.BurnDown(
            programme=p.name, title=p.title, title_en=p.title_en or p.title,
            budget_fen=made.budget_fen, as_of=made.as_of,
            spent=[models.SpentDay(day=d, spent_fen=f) for d, f in made.spent],
            exhausted_on=made.exhausted_on, projected_exhaustion=made.projected_exhaustion))
    return out


@router.get("/held", response_model=models.Held)
async def held(
    _: Reviewer, fin: FinanceDep, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> models.Held:
    """What is held: swipes of cards not known yet, refunds before their purchase, awards
    before their member; counts and ages, oldest first."""
    now = fin.now()
    counts = [models.HeldCount(**row, oldest_age_seconds=shape.age(now, row["oldest"]))
              for row in await fin.views.held_counts()]
    items = [models.HeldEvent(**{**row, "amount_fen": _whole(row["amount_fen"])},
                              age_seconds=shape.age(now, row["held_at"]))
             for row in await fin.views.held(limit)]
    return models.Held(counts=counts, items=items)


@router.get("/dead-letters", response_model=models.DeadLetters)
async def dead_letters(
    staff: Reviewer, fin: FinanceDep, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> models.DeadLetters:
    """Messages no service could take, with the reason; counts and ages per source, newest
    first. The raw bytes are not shown: they may hold personal data; for a viewer, neither is
    the value of a personal-data field that a reason quotes (a name, a birth date)."""
    now = fin.now()
    counts = [models.DeadLetterCount(**row, oldest_age_seconds=shape.age(now, row["oldest"]))
              for row in await fin.views.dead_letter_counts()]
    shown = (lambda reason: reason) if staff.sees_personal_data else mask_reason
    items = [models.DeadLetter(**{**row, "reason": shown(row["reason"])},
                               age_seconds=shape.age(now, row["received_at"]))
             for row in await fin.views.dead_letters(limit)]
    return models.DeadLetters(counts=counts, items=items)


@router.get("/audit", response_model=list[models.FinanceAction])
async def audit(
    staff: Reviewer, fin: FinanceDep, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[models.FinanceAction]:
    """What finance staff did (approvals, exports, imports), newest first, from the trail."""
    actions = []
    for row in await fin.views.finance_actions(limit):
        steps = shape.trace(row["trace"], staff)
        actor = next((s.outcome for s in steps if s.rule == "actor"), None)
        actions.append(models.FinanceAction(
            **{k: row[k] for k in ("seq", "audit_id", "decision", "programme", "amount_fen",
                                   "occurred_at", "recorded_at")},
            actor=actor, details=[s for s in steps if s.rule != "actor"]))
    return actions


def _whole(amount: object) -> int | None:
    """A held payload's amount, if it is a whole number that fits (it may be anything)."""
    try:
        value = int(str(amount))
    except ValueError:
        return None
    return value if -(2**63) <= value < 2**63 else None
