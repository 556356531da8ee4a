"""The watch's rules and their thresholds, as declared in `watch_rules.toml`.

Each rule has a section of its own; a missing or wrong key fails fast, naming it
(`card_velocity.min_merchants: must be an integer >= 2`). Signals are advice to people: no
threshold here stops or changes a payout.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

Minutes = Annotated[int, Field(strict=True, ge=1, le=1440)]
Count = Annotated[int, Field(strict=True, ge=1)]
Share = Annotated[float, Field(gt=0, lt=1)]


class _Rule(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)


class MerchantBurst(_Rule):
    """A merchant's subsidised purchases in one window exceed `times_baseline` times its
    mean hourly count over the `baseline_days` before, and are at least `min_purchases`.

    The mean is over the days of those with any purchase; a merchant with fewer than
    `min_history_days` such days has no baseline yet and is not judged by this rule."""

    window_minutes: Minutes = 10
    baseline_days: Annotated[int, Field(strict=True, ge=1, le=28)] = 7
    min_history_days: Annotated[int, Field(strict=True, ge=1, le=28)] = 1
    times_baseline: Annotated[float, Field(gt=0)] = 3.0
    min_purchases: Count = 30


class SubsidyMaximising(_Rule):
    """Over a window, the share of a merchant's purchases at exactly the amount that earns a
    programme's largest payout is above `share_above`, over at least `min_purchases`."""

    window_minutes: Minutes = 60
    share_above: Share = 0.5
    min_purchases: Count = 20
    amounts: Annotated[dict[str, Annotated[int, Field(strict=True, gt=0)]],
                       Field(min_length=1)]
    """Programme name -> the amount (fen) that earns its largest payout, e.g. cinema = 3990."""


class RefundRatio(_Rule):
    """In one Shanghai day, a merchant's refunds and reversals over its purchases are above
    `ratio_above`, with at least `min_refunds` of them.

    The purchases are the day's so far, or the merchant's usual day (its mean over the
    `baseline_days` before, the days with any purchase) if that is more: in the morning a
    cinema refunds yesterday's tickets before it sells today's first."""

    ratio_above: Annotated[float, Field(gt=0)] = 0.5
    min_refunds: Count = 10
    baseline_days: Annotated[int, Field(strict=True, ge=1, le=28)] = 7


class CardVelocity(_Rule):
    """One card at `min_merchants` or more distinct subsidised merchants within a window
    (hopping by `hop_minutes`)."""

    window_minutes: Minutes = 10
    hop_minutes: Minutes = 5
    min_merchants: Annotated[int, Field(strict=True, ge=2)] = 4


class WatchRules(_Rule):
    merchant_burst: MerchantBurst
    subsidy_maximising: SubsidyMaximising
    refund_ratio: RefundRatio
    card_velocity: CardVelocity
    examples: Annotated[int, Field(strict=True, ge=1, le=10)] = 5
    """How many transaction ids a signal carries as examples."""
