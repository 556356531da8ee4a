"""What the API answers, as its OpenAPI schema documents it. Money is integer fen."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.audit import AuditRecord
from services.finance.domain.stream import FIRST_DAY, LAST_DAY

RoleName = Literal["viewer", "preparer", "approver", "admin"]
Status = Literal["pending", "batched", "exported", "settled", "failed"]
BatchStatusName = Literal["prepared", "approved", "exported", "closed"]


class Problem(BaseModel):
    """Why a request was refused: `detail` in words, `code` naming the rule."""

    detail: str
    code: str
    """Stable: the page words its message by it (`not_signed_in`, `forbidden_role`,
    `same_person`, `cross_site`, ...; docs/finance.md lists them)."""
    problems: list[str] = Field(default_factory=list)


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    username: str
    role: RoleName
    permissions: list[str]
    csrf_token: str | None = None
    """Send it back as the X-CSRF-Token header with every request that changes anything
    (a signed-in session; null for an API token, which needs none)."""


class TraceStep(BaseModel):
    """One step as the engine recorded it (`rule`, `outcome` in words), and the same step as
    a message key of the page's catalogues with its arguments (money in fen)."""

    rule: str
    outcome: str
    amount_fen: int | None = None
    key: str = "trace.raw"
    args: dict[str, str | int] = Field(default_factory=dict)


class PayoutRow(BaseModel):
    payout_id: str
    kind: Literal["payout", "clawback"]
    member_id: str
    member_name: str | None
    programme: str
    amount_fen: int
    needs_own_approval: bool
    source_event_id: str
    transaction_id: str | None
    period: str
    occurred_at: datetime
    recorded_at: datetime
    merchant_id: str | None
    merchant_name: str | None
    status: Status
    batch_id: str | None
    approved_by: str | None
    approved_at: datetime | None
    bank_reference: str | None
    failure_reason: str | None


class PayoutPage(BaseModel):
    items: list[PayoutRow]
    next: str | None
    """Cursor of the next (older) page, or null at the end."""
    newest: str | None
    """Cursor of the newest row shown: pass it as `since` to poll for new payouts."""


class Decision(AuditRecord):
    """A decision in the audit trail: the contract's record (schemas/audit.py, whose fields
    these are), its place in the chain, when the trail took it, and its steps explained."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    seq: int
    recorded_at: datetime
    # the contract's steps, each with its message key and arguments (TraceStep above)
    trace: list[TraceStep]  # type: ignore[assignment]


class PayoutDetail(BaseModel):
    payout: PayoutRow
    trace: list[TraceStep]
    """The rules and limits that decided this payout, as the ledger recorded it."""
    trail: list[Decision]
    """The audit trail of its source event and of its purchase (payouts, refunds, clawbacks)."""


class DecisionDetail(BaseModel):
    decision: Decision
    member_name: str | None
    payouts: list[str]
    """The payouts recorded for the same source event."""


class MemberDecisions(BaseModel):
    member_id: str
    member_name: str | None
    decisions: list[Decision]


class DayTotal(BaseModel):
    programme: str
    day: date
    payouts: int
    paid_fen: int
    clawbacks: int
    clawed_back_fen: int


class MonthTotal(BaseModel):
    programme: str
    month: date
    payouts: int
    paid_fen: int
    clawbacks: int
    clawed_back_fen: int


class Budget(BaseModel):
    programme: str
    title: str
    title_en: str
    budget_fen: int
    used_fen: int
    left_fen: int


class Totals(BaseModel):
    year: int
    month: int
    daily: list[DayTotal]
    monthly: list[MonthTotal]
    budgets: list[Budget]


class Programme(BaseModel):
    name: str
    title: str
    """In Chinese, as the catalogue names it."""
    title_en: str
    """In English (the Chinese title where the catalogue gives none)."""
    yearly_budget_fen: int


class AgeCount(BaseModel):
    count: int
    oldest: datetime
    newest: datetime
    oldest_age_seconds: float


class HeldCount(AgeCount):
    waiting_for: str


class HeldEvent(BaseModel):
    event_id: str
    waiting_for: str
    waiting_key: str
    source_topic: str
    type: str | None
    card_id: str | None
    transaction_id: str | None
    original_transaction_id: str | None
    merchant_name: str | None
    amount_fen: int | None
    occurred_at: datetime
    held_at: datetime
    age_seconds: float


class Held(BaseModel):
    counts: list[HeldCount]
    items: list[HeldEvent]


class DeadLetterCount(AgeCount):
    consumer: str
    source_topic: str


class DeadLetter(BaseModel):
    id: int
    consumer: str
    source_topic: str
    partition: int
    offset: int
    reason: str
    size: int
    received_at: datetime
    age_seconds: float


class DeadLetters(BaseModel):
    counts: list[DeadLetterCount]
    items: list[DeadLetter]


class BatchRow(BaseModel):
    batch_id: str
    programme: str
    business_day: date
    status: BatchStatusName
    payout_count: int
    total_fen: int
    prepared_by: str
    prepared_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    exported_by: str | None
    exported_at: datetime | None


class BatchDetail(BaseModel):
    batch: BatchRow
    payouts: list[PayoutRow]
    """The batch's payouts, largest first (at most `limit`)."""
    awaiting_own_approval: list[str]
    """Payouts over 1,000 CNY in the batch that still need their own approval."""


class BatchableDay(BaseModel):
    programme: str
    day: date
    recorded: int
    batched: int


class PrepareBatch(BaseModel):
    programme: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    day: date = Field(ge=FIRST_DAY, le=LAST_DAY)


class Imported(BaseModel):
    settled: int
    settled_fen: int
    failed: int
    failed_fen: int
    unchanged: int


class FinanceAction(BaseModel):
    seq: int
    audit_id: str
    decision: str
    actor: str | None
    programme: str | None
    amount_fen: int
    occurred_at: datetime
    recorded_at: datetime
    details: list[TraceStep]


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for refusals."""
    words = {400: "A body that cannot be read", 401: "Not signed in",
             403: "Not allowed for this role, four eyes, or sent by another site's page",
             404: "Not found", 409: "Refused by a settlement rule",
             413: "Too large", 415: "A body that is not JSON (or, for an upload, multipart)",
             422: "Invalid request", 429: "Too many wrong passwords: try again later",
             431: "Request headers too large"}
    return {code: {"model": Problem, "description": words[code]} for code in codes}


class SpentDay(BaseModel):
    day: date
    spent_fen: int
    """Spent from 1 January through this day, net of clawbacks."""


class BurnDown(BaseModel):
    programme: str
    title: str
    title_en: str
    budget_fen: int
    as_of: date
    spent: list[SpentDay]
    exhausted_on: date | None
    projected_exhaustion: date | None
    """At the pace so far, the day the budget runs out (null: not this year)."""
