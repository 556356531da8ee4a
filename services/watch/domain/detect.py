"""The four rules as pure functions: (the window's tally, the swipe, thresholds) -> the new
tally and the signal it raises, if any.

A tally that has already seen the swipe comes back unchanged and raises nothing (a replay).
A window raises at most once: at the swipe that crosses its threshold, with the figures of
that moment; the tally then remembers it raised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.signals import KeyKind, RuleName, Signal
from services.watch.domain.rules import CardVelocity, MerchantBurst, RefundRatio, SubsidyMaximising
from services.watch.domain.swipe import Swipe
from services.watch.domain.windows import SHANGHAI_SECONDS, Tally, Window


@dataclass(frozen=True, slots=True)
class Step:
    """A window's tally after one swipe, and the signal it raised (if it raised one)."""

    window: Window
    tally: Tally
    signal: Signal | None = None
    changed: bool = True
    """False when the swipe left the tally as it was (a replay, or a rule it has no part in)."""


def signal_id(rule: str, key: str, window: Window) -> str:
    digest = hashlib.sha256(f"{rule}\x00{key}\x00{window.start}".encode()).hexdigest()
    return f"sig_{digest[:20]}"


def _signal(rule: RuleName, kind: KeyKind, key: str, window: Window, swipe: Swipe,
            figures: dict[str, float], thresholds: dict[str, float],
            examples: Sequence[str]) -> Signal:
    return Signal(signal_id=signal_id(rule, key, window), rule=rule, key_kind=kind, key=key,
                  window_start=window.starts_at(), window_end=window.ends_at(),
                  observed_at=datetime.fromtimestamp(swipe.at - SHANGHAI_SECONDS, UTC),
                  figures=figures, thresholds=thresholds, examples=list(examples))


def tallied(window: Window, tally: Tally, swipe: Swipe) -> Step:
    """One more purchase in `window` (the subsidised purchases of a day: the burst's
    baseline)."""
    if swipe.kind != "purchase" or tally.has_seen(swipe.lane, swipe.offset):
        return Step(window, tally, changed=False)
    return Step(window, tally.counted(swipe.lane, swipe.offset, purchases=1))


def merchant_burst(window: Window, tally: Tally, baseline: Sequence[Tally], swipe: Swipe,
                   rule: MerchantBurst, examples: int) -> Step:
    """Subsidised purchases in `window` against the mean per hour of the `baseline` days'
    tallies (of subsidised purchases too)."""
    if swipe.kind != "purchase" or tally.has_seen(swipe.lane, swipe.offset):
        return Step(window, tally, changed=False)
    now = tally.counted(swipe.lane, swipe.offset, purchases=1)
    now = now.with_example(swipe.transaction_id, examples)
    days = sum(1 for day in baseline if day.purchases)
    per_hour = sum(day.purchases for day in baseline) / (24 * max(days, 1))
    if now.raised or days < rule.min_history_days or now.purchases < rule.min_purchases or \
            now.purchases <= rule.times_baseline * per_hour:
        return Step(window, now)
    signal = _signal("merchant_burst", "merchant", swipe.merchant_id, window, swipe,
                     {"purchases": now.purchases, "baseline_per_hour": round(per_hour, 2),
                      "baseline_days": days},
                     {"times_baseline": rule.times_baseline,
                      "min_purchases": rule.min_purchases}, now.examples)
    return Step(window, now.marked_raised(), signal)


def subsidy_maximising(window: Window, tally: Tally, swipe: Swipe, amount_fen: int,
                       rule: SubsidyMaximising, examples: int) -> Step:
    """The share of the window's purchases at exactly `amount_fen`."""
    if swipe.kind != "purchase" or tally.has_seen(swipe.lane, swipe.offset):
        return Step(window, tally, changed=False)
    hit = swipe.amount_fen == amount_fen
    now = tally.counted(swipe.lane, swipe.offset, purchases=1, hits=hit)
    if hit:
        now = now.with_example(swipe.transaction_id, examples)
    share = now.hits / now.purchases
    if now.raised or now.purchases < rule.min_purchases or share <= rule.share_above:
        return Step(window, now)
    signal = _signal("subsidy_maximising", "merchant", swipe.merchant_id, window, swipe,
                     {"purchases": now.purchases, "at_amount": now.hits,
                      "share": round(share, 4), "amount_fen": amount_fen},
                     {"share_above": rule.share_above, "min_purchases": rule.min_purchases},
                     now.examples)
    return Step(window, now.marked_raised(), signal)


def refund_ratio(window: Window, tally: Tally, baseline: Sequence[Tally], swipe: Swipe,
                 rule: RefundRatio, examples: int) -> Step:
    """Refunds and reversals against purchases in the Shanghai day `window`, or against the
    merchant's usual day (the `baseline` days' mean) when that is more."""
    if tally.has_seen(swipe.lane, swipe.offset):
        return Step(window, tally, changed=False)
    if swipe.kind == "purchase":
        return Step(window, tally.counted(swipe.lane, swipe.offset, purchases=1))
    now = tally.counted(swipe.lane, swipe.offset, hits=1)
    now = now.with_example(swipe.transaction_id, examples)
    days = [day.purchases for day in baseline if day.purchases]
    usual = sum(days) / len(days) if days else 0.0
    against = max(now.purchases, usual)
    if now.raised or now.hits < rule.min_refunds or now.hits <= rule.ratio_above * against:
        return Step(window, now)
    ratio = now.hits / max(against, 1)
    signal = _signal("refund_ratio", "merchant", swipe.merchant_id, window, swipe,
                     {"refunds": now.hits, "purchases": now.purchases,
                      "usual_purchases_per_day": round(usual, 2), "ratio": round(ratio, 4)},
                     {"ratio_above": rule.ratio_above, "min_refunds": rule.min_refunds},
                     now.examples)
    return Step(window, now.marked_raised(), signal)


def card_velocity(windows: Sequence[tuple[Window, Tally]], earlier_raised: bool, swipe: Swipe,
                  rule: CardVelocity) -> list[Step]:
    """Distinct merchants of one card in each hopping window holding the swipe (earliest
    first). Overlapping windows see the same run of swipes: only the first to cross raises;
    the others, and any window overlapping one that already raised (`earlier_raised`), are
    marked raised without a signal of their own."""
    steps = []
    covered = earlier_raised
    for window, tally in windows:
        if swipe.kind != "purchase" or tally.has_seen(swipe.lane, swipe.offset):
            steps.append(Step(window, tally, changed=False))
            covered = covered or tally.raised
            continue
        now = tally.saw(swipe.lane, swipe.offset)
        if swipe.merchant_id not in now.merchants:
            now = now.with_merchant(swipe.merchant_id)
            now = now.with_example(swipe.transaction_id, rule.min_merchants)
        if now.raised or len(now.merchants) < rule.min_merchants:
            covered = covered or now.raised
            steps.append(Step(window, now))
            continue
        signal = None if covered else _signal(
            "card_velocity", "card", swipe.card_id, window, swipe,
            {"merchants": len(now.merchants)}, {"min_merchants": rule.min_merchants},
            now.examples)
        covered = True
        steps.append(Step(window, now.marked_raised(), signal))
    return steps
