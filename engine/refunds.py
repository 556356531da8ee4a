"""Refunds and reversals claw back what their purchase earned.

After refunds totalling R of a purchase of A that earned P, the member keeps
P - floor(P x R / A); R counts at most A and a reversal means R = A. Each refund claws back
the increase of floor(P x R / A), giving that money back to the purchase's limits and budget
in the period it counted in; a reversal also gives back its count.
"""

from __future__ import annotations

from engine.catalogue import Catalogue
from engine.decisions import ClawedBack, Denied, NoChange
from engine.draft import Draft
from engine.holds import hold
from engine.money import share_of
from engine.origin import of_transaction
from engine.state import Purchase
from engine.trace import Checked, Clawback, Step
from schemas.card_transactions import CardTransaction

DUPLICATE_TRANSACTION = "duplicate_transaction"
PURCHASE_EARNED_NOTHING = "purchase_earned_nothing"
ALREADY_FULLY_CLAWED_BACK = "already_fully_clawed_back"
NOTHING_TO_CLAW_BACK = "nothing_to_claw_back"


def judge_refund(tx: CardTransaction, draft: Draft, catalogue: Catalogue) -> None:
    original_id = tx.original_transaction_id or ""
    purchase = draft.purchase(original_id)
    if purchase is None:
        hold(draft, tx, "purchase", original_id)
        return
    if tx.transaction_id in purchase.refund_ids:
        seen = Checked("transaction_id", f"refund {tx.transaction_id} already decided")
        _record(draft, tx, purchase, Denied, DUPLICATE_TRANSACTION, (seen,))
        return
    after = refunded(purchase, tx)
    clawback = after.clawed_back_fen - purchase.clawed_back_fen
    returns_count = after.count_returned and not purchase.count_returned
    draft.put_purchase(after)
    _give_back(draft, purchase, -1 if returns_count else 0, clawback)
    step = Clawback(
        purchase.amount_fen,
        purchase.earned_fen,
        after.refunded_fen,
        purchase.clawed_back_fen,
        -clawback,
    )
    if clawback == 0:
        _record(draft, tx, purchase, NoChange, _why_nothing(purchase), (step,))
        return
    draft.decide(
        ClawedBack(
            **of_transaction(tx),
            member_id=purchase.member_id,
            programme=purchase.programme,
            period=purchase.period,
            amount_fen=-clawback,
            trace=(step,),
            refund_transaction_id=tx.transaction_id,
        )
    )


def refunded(purchase: Purchase, tx: CardTransaction) -> Purchase:
    """`purchase` once refund (or reversal) `tx` is taken into account."""
    total = _refunded_after(tx, purchase)
    return purchase._replace(
        refunded_fen=total,
        clawed_back_fen=share_of(purchase.earned_fen, total, purchase.amount_fen),
        count_returned=purchase.count_returned or (purchase.counted and tx.type == "reversal"),
        refund_ids=(*purchase.refund_ids, tx.transaction_id),
    )


def _refunded_after(tx: CardTransaction, purchase: Purchase) -> int:
    if tx.type == "reversal":
        return purchase.amount_fen
    return min(purchase.amount_fen, purchase.refunded_fen + tx.amount_fen)


def _give_back(draft: Draft, purchase: Purchase, count: int, fen: int) -> None:
    """Free room in the limits and budget where the purchase counted (later events use it)."""
    if count == 0 and fen == 0:
        return
    for key in purchase.usage_keys:
        draft.count_usage(key, count, -fen)
    if fen and purchase.programme is not None and purchase.budget_year is not None:
        draft.spend((purchase.programme, purchase.budget_year), -fen)


def _why_nothing(purchase: Purchase) -> str:
    if purchase.earned_fen == 0:
        return PURCHASE_EARNED_NOTHING
    if purchase.clawed_back_fen == purchase.earned_fen:
        return ALREADY_FULLY_CLAWED_BACK
    return NOTHING_TO_CLAW_BACK


def _record(
    draft: Draft,
    tx: CardTransaction,
    purchase: Purchase,
    decision: type[Denied] | type[NoChange],
    reason: str,
    steps: tuple[Step, ...],
) -> None:
    draft.decide(
        decision(
            **of_transaction(tx),
            member_id=purchase.member_id,
            programme=purchase.programme,
            period=purchase.period,
            reason=reason,
            trace=steps,
        )
    )
