"""The steps that explain a decision: which rule matched, what each limit and the budget left.

Steps are plain tuples on the hot path. `to_value()` gives a step as the JSON of the payout
and audit contract's `TraceStep` (what the ledger publishes, `engine.wire`);
`to_schema()` gives the `TraceStep` itself, validated, from that same value.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeAlias

from engine.money import Fen, yuan
from schemas.payouts import TraceStep


class Matched(NamedTuple):
    """The programme that takes the event, and what about the event made it match."""

    programme: str
    on: str

    def to_value(self) -> dict[str, Any]:
        return {"rule": "matched", "outcome": f"{self.programme}: {self.on}", "amount_fen": None}


class Checked(NamedTuple):
    """A check that decided the event without money (eligibility, duplicates, holds)."""

    rule: str
    outcome: str

    def to_value(self) -> dict[str, Any]:
        return {"rule": self.rule, "outcome": self.outcome, "amount_fen": None}


class BaseAmount(NamedTuple):
    """The amount the programme's amount rule gives, before limits and budget."""

    rule: str
    amount_fen: Fen

    def to_value(self) -> dict[str, Any]:
        rule = f"amount_{self.rule}"
        return {"rule": rule, "outcome": yuan(self.amount_fen), "amount_fen": self.amount_fen}


class LimitCheck(NamedTuple):
    """One limit: what the member had used of it in the period, and what it left."""

    name: str
    kind: str
    period: str
    used: int
    max: int
    left: int
    amount_fen: Fen

    def to_value(self) -> dict[str, Any]:
        show = yuan if self.kind == "money" else str
        outcome = (
            f"{self.kind} {self.period}: used {show(self.used)} of {show(self.max)},"
            f" {show(self.left)} left"
        )
        return {"rule": self.name, "outcome": outcome, "amount_fen": self.amount_fen}


class BudgetCheck(NamedTuple):
    """The programme's yearly budget: what was left before this payout."""

    year: int
    left: Fen
    amount_fen: Fen

    def to_value(self) -> dict[str, Any]:
        outcome = f"{self.year}: {yuan(self.left)} left"
        return {"rule": "budget", "outcome": outcome, "amount_fen": self.amount_fen}


class Clawback(NamedTuple):
    """A refund of a purchase of `purchase_fen` that earned `earned_fen`, now refunded in all
    `refunded_fen`: the member keeps earned - floor(earned x refunded / purchase)."""

    purchase_fen: Fen
    earned_fen: Fen
    refunded_fen: Fen
    clawed_before_fen: Fen
    amount_fen: Fen

    def to_value(self) -> dict[str, Any]:
        outcome = (
            f"refunded {yuan(self.refunded_fen)} of {yuan(self.purchase_fen)} that earned"
            f" {yuan(self.earned_fen)}; clawed back before {yuan(self.clawed_before_fen)}"
        )
        return {"rule": "clawback", "outcome": outcome, "amount_fen": self.amount_fen}


class Final(NamedTuple):
    """The amount decided."""

    amount_fen: Fen

    def to_value(self) -> dict[str, Any]:
        return {"rule": "final", "outcome": yuan(self.amount_fen), "amount_fen": self.amount_fen}


Step: TypeAlias = Matched | Checked | BaseAmount | LimitCheck | BudgetCheck | Clawback | Final
Trace: TypeAlias = tuple[Step, ...]


def to_schema(trace: Trace) -> list[TraceStep]:
    return [TraceStep(**step.to_value()) for step in trace]
