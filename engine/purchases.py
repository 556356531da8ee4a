"""A purchase: the first programme that takes it, whether its card and member may be paid,
and how much. Every purchase decided is recorded, so its refunds can be judged later; one
whose card is not known yet waits for the card."""

from __future__ import annotations

from datetime import date

from engine.catalogue import Catalogue
from engine.draft import Draft
from engine.eligibility import CARD_NOT_ISSUED, card_holder, membership_problem
from engine.grant import grant, period_of
from engine.holds import hold
from engine.origin import of_transaction
from engine.payments import deny, settle
from engine.periods import local_date
from engine.programme import Programme
from engine.state import Purchase
from engine.trace import Checked, Matched
from schemas.card_transactions import CardTransaction

DUPLICATE_TRANSACTION = "duplicate_transaction"
NO_PROGRAMME_MATCHED = "no_programme_matched"


def first_programme(catalogue: Catalogue, tx: CardTransaction, day: date) -> Programme | None:
    """The programme that funds `tx`: the first that takes it, in catalogue order."""
    for programme in catalogue.for_mcc(tx.mcc):
        if programme.pays_on.takes_purchase(tx.mcc, tx.amount_fen, day):
            return programme
    return None


def judge_purchase(tx: CardTransaction, draft: Draft, catalogue: Catalogue) -> None:
    seen = draft.purchase(tx.transaction_id)
    if seen is not None:
        _duplicate(tx, seen, draft)
        return
    holdings = draft.holdings(tx.card_id)
    if holdings is None:
        hold(draft, tx, "card", tx.card_id)
        return
    member_id, problem = card_holder(holdings, tx.occurred_at)
    day = local_date(tx.occurred_at)
    programme = first_programme(catalogue, tx, day)
    if programme is None:
        _unfunded(tx, member_id, draft)
        return
    if problem is None and member_id is not None:
        problem = membership_problem(draft.member(member_id), tx.occurred_at)
    if problem is not None or member_id is None:
        _ineligible(tx, member_id, programme, day, problem or CARD_NOT_ISSUED, draft)
        return
    _fund(tx, member_id, programme, day, draft)


def _fund(
    tx: CardTransaction, member_id: str, programme: Programme, day: date, draft: Draft
) -> None:
    matched = Matched(programme.name, f"purchase at mcc {tx.mcc}")
    base = programme.amount.base_fen(tx.amount_fen, None)
    granted = grant(programme, member_id, "", base, day, draft.used, draft.spent)
    steps = (matched, *granted.steps)
    earned = settle(draft, of_transaction(tx), member_id, programme.name, steps, granted)
    counted = earned.amount_fen > 0
    _record(
        draft,
        Purchase(
            transaction_id=tx.transaction_id,
            event_id=tx.event_id,
            member_id=member_id,
            programme=programme.name,
            period=granted.period,
            amount_fen=tx.amount_fen,
            earned_fen=earned.amount_fen,
            usage_keys=granted.usage_keys if counted else (),
            budget_year=granted.budget_key[1] if counted else None,
            counted=counted,
        ),
    )


def _ineligible(
    tx: CardTransaction,
    member_id: str | None,
    programme: Programme,
    day: date,
    reason: str,
    draft: Draft,
) -> None:
    period = period_of(programme, day)
    steps = (Matched(programme.name, f"purchase at mcc {tx.mcc}"), Checked("eligibility", reason))
    deny(draft, of_transaction(tx), member_id, programme.name, period, reason, steps)
    _record(draft, _earned_nothing(tx, member_id, programme.name, period))


def _unfunded(tx: CardTransaction, member_id: str | None, draft: Draft) -> None:
    step = Checked("programmes", f"none pays on a purchase at mcc {tx.mcc}")
    deny(draft, of_transaction(tx), member_id, None, None, NO_PROGRAMME_MATCHED, (step,))
    _record(draft, _earned_nothing(tx, member_id, None, None))


def _duplicate(tx: CardTransaction, seen: Purchase, draft: Draft) -> None:
    step = Checked("transaction_id", f"{tx.transaction_id} already decided ({seen.event_id})")
    reason = DUPLICATE_TRANSACTION
    origin = of_transaction(tx)
    deny(draft, origin, seen.member_id, seen.programme, seen.period, reason, (step,))


def _earned_nothing(
    tx: CardTransaction, member_id: str | None, programme: str | None, period: str | None
) -> Purchase:
    return Purchase(tx.transaction_id, tx.event_id, member_id, programme, period, tx.amount_fen)


def _record(draft: Draft, purchase: Purchase) -> None:
    """Keep the purchase for its refunds, and take up any refund already waiting for it."""
    draft.put_purchase(purchase)
    draft.arrived("purchase", purchase.transaction_id, purchase.event_id)
