"""What the engine decides about an event, as frozen values.

Every decision names its source event, member, programme, time and period, an amount (fen;
0 unless money moves), a reason code where one applies, and the `trace` that explains it.
`Paid` and `ClawedBack` become payouts (`to_payout()`); every decision becomes an audit
record (`to_audit()`). Ids are derived from the source event, so the same input always gives
the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, ClassVar, Literal, TypeAlias

from engine.ids import derived_id
from engine.money import Fen
from engine.trace import Trace, to_schema
from schemas.audit import AuditDecision, AuditRecord
from schemas.payouts import Payout, PayoutKind

WaitingFor: TypeAlias = Literal["card", "member", "purchase"]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Decision:
    source_event_id: str
    source_topic: str
    member_id: str | None
    programme: str | None
    occurred_at: datetime
    period: str | None
    card_id: str | None = None
    transaction_id: str | None = None
    amount_fen: Fen = 0
    reason: str | None = None
    trace: Trace = ()

    audit_decision: ClassVar[AuditDecision]

    @property
    def decision(self) -> AuditDecision:
        """The audit name of this decision (`paid`, `cut`, `denied`, ...)."""
        return self.audit_decision

    @property
    def audit_id(self) -> str:
        kind = f"audit:{self.decision}"
        return derived_id(self.source_event_id, self.programme, self.member_id, kind)

    def to_audit(self) -> AuditRecord:
        return AuditRecord(**audit_fields(self), trace=to_schema(self.trace))


AUDIT_FIELDS: tuple[str, ...] = tuple(
    name for name in AuditRecord.model_fields if name != "trace" and hasattr(_Decision, name))
"""The audit record's fields a decision gives, by the same names (the trace aside, which
has its own form); a field the contract has and a decision does not (`actor`) is left to
the contract's default."""
_AUDIT_FIELDS = attrgetter(*AUDIT_FIELDS)


def audit_fields(decision: _Decision) -> dict[str, Any]:
    """The values of `AUDIT_FIELDS` of `decision`, by name."""
    return dict(zip(AUDIT_FIELDS, _AUDIT_FIELDS(decision), strict=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Money(_Decision):
    """A decision that moves money: it is published as a payout."""

    payout_kind: ClassVar[PayoutKind]

    @property
    def payout_id(self) -> str:
        return derived_id(self.source_event_id, self.programme, self.member_id, self.payout_kind)

    def to_payout(self) -> Payout:
        if self.member_id is None or self.programme is None or self.period is None:
            raise ValueError(f"a {self.payout_kind} needs a member, a programme and a period")
        return Payout(
            payout_id=self.payout_id,
            member_id=self.member_id,
            programme=self.programme,
            amount_fen=self.amount_fen,
            kind=self.payout_kind,
            source_event_id=self.source_event_id,
            transaction_id=self.transaction_id,
            period=self.period,
            occurred_at=self.occurred_at,
            trace=to_schema(self.trace),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Paid(_Money):
    """A payout (amount > 0). When a limit or the budget cut it below `base_fen`, `reason`
    names what cut it and the audit calls it `cut`."""

    base_fen: Fen

    payout_kind: ClassVar[PayoutKind] = "payout"
    audit_decision: ClassVar[AuditDecision] = "paid"

    @property
    def decision(self) -> AuditDecision:
        return "paid" if self.reason is None else "cut"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClawedBack(_Money):
    """Money taken back by a refund or reversal (amount < 0).

    `transaction_id` is the purchase clawed back; `refund_transaction_id` the refund's own.
    """

    refund_transaction_id: str

    payout_kind: ClassVar[PayoutKind] = "clawback"
    audit_decision: ClassVar[AuditDecision] = "clawed_back"


@dataclass(frozen=True, slots=True, kw_only=True)
class Denied(_Decision):
    """Nothing paid; `reason` is the code (`card_blocked`, `limit_reached:daily_rides`, ...)."""

    audit_decision: ClassVar[AuditDecision] = "denied"


@dataclass(frozen=True, slots=True, kw_only=True)
class Held(_Decision):
    """Put aside until the card, member or purchase it waits for (`key`) is known."""

    waiting_for: WaitingFor
    key: str

    audit_decision: ClassVar[AuditDecision] = "held"


@dataclass(frozen=True, slots=True, kw_only=True)
class Released(_Decision):
    """A held event taken up again: `released_by` made what it waited for known."""

    waiting_for: WaitingFor
    key: str
    released_by: str

    audit_decision: ClassVar[AuditDecision] = "released"


@dataclass(frozen=True, slots=True, kw_only=True)
class NoChange(_Decision):
    """Looked at and deliberately left alone (audited), e.g. `purchase_earned_nothing`."""

    audit_decision: ClassVar[AuditDecision] = "no_change"


Decision: TypeAlias = Paid | ClawedBack | Denied | Held | Released | NoChange
