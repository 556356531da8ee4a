"""A purchase: the first programme that takes it, whether its card and member may be paid,
and how much. Every purchase decided is recorded, so its refunds can be judged later."""

from __future__ import annotations

from datetime import date

from puhui.engine.catalogue import Catalogue
from puhui.engine.decisions import Paid
from puhui.engine.draft import Draft
from puhui.engine.eligibility import card_holder, membership_problem
from puhui.engine.grant import grant, period_of
from puhui.engine.holds import hold
from puhui.engine.origin import of_transaction
from puhui.engine.payments import deny, settle
from puhui.engine.periods import local_date
from puhui.engine.programme import Programme
from puhui.engine.state import Purchase
from puhui.engine.trace import Checked, Matched
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
    origin = of_transaction(tx)
    seen = draft.purchase(tx.transaction_id)
    if seen is not None:
        step = Checked(
            "transaction_id", f"{tx.transaction_id} already decided (event {seen.event_id})"
        )
        deny(
            draft,
            origin,
            seen.member_id,
            seen.programme,
            seen.period,
            DUPLICATE_TRANSACTION,
            (step,),
        )
        return
    day = local_date(tx.occurred_at)
    programme = first_programme(catalogue, tx, day)
    if programme is None:
        step = Checked("programmes", f"none pays on a purchase at mcc {tx.mcc}")
        deny(draft, origin, None, None, None, NO_PROGRAMME_MATCHED, (step,))
        _record(
            draft, tx, Purchase(tx.transaction_id, tx.event_id, None, None, None, tx.amount_fen)
        )
        return
    holdings = draft.holdings(tx.card_id)
    if holdings is None:
        hold(draft, tx, "card", tx.card_id)
        return
    matched = Matched(programme.name, f"purchase at mcc {tx.mcc}")
    member_id, problem = card_holder(holdings, tx.occurred_at)
    if problem is None and member_id is not None:
        problem = membership_problem(draft.member(member_id), tx.occurred_at)
    if problem is not None or member_id is None:
        reason, period = problem or "card_not_issued", period_of(programme, day)
        deny(
            draft,
            origin,
            member_id,
            programme.name,
            period,
            reason,
            (matched, Checked("eligibility", reason)),
        )
        _record(
            draft,
            tx,
            Purchase(
                tx.transaction_id, tx.event_id, member_id, programme.name, period, tx.amount_fen
            ),
        )
        return
    base = programme.amount.base_fen(tx.amount_fen, None)
    granted = grant(programme, member_id, "", base, day, draft.used, draft.spent)
    decided = settle(draft, origin, member_id, programme.name, (matched, *granted.steps), granted)
    earned = decided.amount_fen if isinstance(decided, Paid) else 0
    _record(
        draft,
        tx,
        Purchase(
            transaction_id=tx.transaction_id,
            event_id=tx.event_id,
            member_id=member_id,
            programme=programme.name,
            period=granted.period,
            amount_fen=tx.amount_fen,
            earned_fen=earned,
            usage_keys=granted.usage_keys if earned else (),
            budget_year=granted.budget_key[1] if earned else None,
            counted=earned > 0,
        ),
    )


def _record(draft: Draft, tx: CardTransaction, purchase: Purchase) -> None:
    """Keep the purchase for its refunds, and take up any refund already waiting for it."""
    draft.put_purchase(purchase)
    draft.arrived("purchase", tx.transaction_id, tx.event_id)
