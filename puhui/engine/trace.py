"""The steps that explain a decision: which rule matched, what each limit and the budget left.

Steps are plain tuples on the hot path; a step's `parts()` are the rule, the outcome in words
and the amount of the `TraceStep` of the payout and audit contract, which `to_schema()` makes
only when a decision is published (and `puhui simulate` writes as JSON directly).
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from puhui.engine.money import Fen, yuan
from schemas.payouts import TraceStep

Part: TypeAlias = tuple[str, str, Fen | None]
"""A trace step's rule, its outcome in words, and the amount after it (None: unchanged)."""


class Matched(NamedTuple):
    """The programme that takes the event, and what about the event made it match."""

    programme: str
    on: str

    def parts(self) -> Part:
        return "matched", f"{self.programme}: {self.on}", None


class Checked(NamedTuple):
    """A check that decided the event without money (eligibility, duplicates, holds)."""

    rule: str
    outcome: str

    def parts(self) -> Part:
        return self.rule, self.outcome, None


class BaseAmount(NamedTuple):
    """The amount the programme's amount rule gives, before limits and budget."""

    rule: str
    amount_fen: Fen

    def parts(self) -> Part:
        return f"amount_{self.rule}", yuan(self.amount_fen), self.amount_fen


class LimitCheck(NamedTuple):
    """One limit: what the member had used of it in the period, and what it left."""

    name: str
    kind: str
    period: str
    used: int
    max: int
    left: int
    amount_fen: Fen

    def parts(self) -> Part:
        show = yuan if self.kind == "money" else str
        outcome = (
            f"{self.kind} {self.period}: used {show(self.used)} of {show(self.max)},"
            f" {show(self.left)} left"
        )
        return self.name, outcome, self.amount_fen


class BudgetCheck(NamedTuple):
    """The programme's yearly budget: what was left before this payout."""

    year: int
    left: Fen
    amount_fen: Fen

    def parts(self) -> Part:
        outcome = f"{self.year}: {yuan(self.left)} left"
        return "budget", outcome, self.amount_fen


class Clawback(NamedTuple):
    """A refund of a purchase of `purchase_fen` that earned `earned_fen`, now refunded in all
    `refunded_fen`: the member keeps earned - floor(earned x refunded / purchase)."""

    purchase_fen: Fen
    earned_fen: Fen
    refunded_fen: Fen
    clawed_before_fen: Fen
    amount_fen: Fen

    def parts(self) -> Part:
        outcome = (
            f"refunded {yuan(self.refunded_fen)} of {yuan(self.purchase_fen)} that earned"
            f" {yuan(self.earned_fen)}; clawed back before {yuan(self.clawed_before_fen)}"
        )
        return "clawback", outcome, self.amount_fen


class Final(NamedTuple):
    """The amount decided."""

    amount_fen: Fen

    def parts(self) -> Part:
        return "final", yuan(self.amount_fen), self.amount_fen


Step: TypeAlias = Matched | Checked | BaseAmount | LimitCheck | BudgetCheck | Clawback | Final
Trace: TypeAlias = tuple[Step, ...]


def to_schema(trace: Trace) -> list[TraceStep]:
    return [TraceStep(rule=rule, outcome=outcome, amount_fen=amount)
            for rule, outcome, amount in (step.parts() for step in trace)]
