"""Rows into API models, with members' personal data masked for whoever may not see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.finance.api import models
from services.finance.domain.explain import explain
from services.finance.domain.masking import mask_outcome, shown_name
from services.finance.domain.settlement import needs_own_approval
from services.finance.domain.staff import Staff

Row = dict[str, Any]


def payout(row: Row, staff: Staff) -> models.PayoutRow:
    return models.PayoutRow(
        **{name: row[name] for name in models.PayoutRow.model_fields
           if name not in ("member_name", "needs_own_approval")},
        member_name=shown_name(row["member_name"], staff.sees_personal_data),
        needs_own_approval=needs_own_approval(row["amount_fen"]))


def trace(steps: list[dict[str, Any]], staff: Staff) -> list[models.TraceStep]:
    """The steps as recorded (a birth date masked for a viewer), each with the message key
    and arguments that say it in the reader's language."""
    clear = staff.sees_personal_data
    shown = [{**step, "outcome": step.get("outcome", "") if clear
              else mask_outcome(str(step.get("outcome", "")))} for step in steps]
    return [models.TraceStep(rule=s.rule, outcome=s.outcome, amount_fen=s.amount_fen, key=s.key,
                             args=s.args) for s in explain(shown)]


def decision(row: Row, staff: Staff) -> models.Decision:
    fields = {name: row[name] for name in models.Decision.model_fields if name != "trace"}
    return models.Decision(**fields, trace=trace(row["trace"], staff))


def age(now: datetime, then: datetime) -> float:
    return max(0.0, (now - then).total_seconds())
