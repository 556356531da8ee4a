"""Topic `puhui.signals` (key = the signal's `key`): the watch's advice to people.

A signal says that a merchant or a card crossed one of the watch's rules in one window of
the event's own time. It never stops or changes a payout: finance reviews it. Card keys are
the bank's tokens; no member's name or id is in a signal.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from schemas.common import Identifier, OutboundModel

TOPIC = "puhui.signals"

RuleName = Literal["merchant_burst", "subsidy_maximising", "refund_ratio", "card_velocity"]
KeyKind = Literal["merchant", "card"]
Figure = Annotated[float, Field(allow_inf_nan=False)]


class Signal(OutboundModel):
    """One rule crossed by one key in one window, with the figures that crossed it.

    Raised once per (`rule`, `key`, `window_start`); `observed_at` is the `occurred_at` of the
    transaction that crossed the threshold, so a replay raises the very same signal.
    """

    signal_id: Identifier
    """`sig_` and a hash of (rule, key, window start): the same signal has the same id."""
    rule: RuleName
    key_kind: KeyKind
    key: Identifier
    """A merchant id, or a card's token (never a member)."""
    window_start: AwareDatetime
    window_end: AwareDatetime
    observed_at: AwareDatetime
    figures: dict[str, Figure]
    """What crossed, e.g. `{"purchases": 61, "baseline_per_hour": 4.2}`."""
    thresholds: dict[str, Figure]
    """The rule's thresholds it crossed, e.g. `{"times_baseline": 3, "min_purchases": 30}`."""
    examples: Annotated[list[Identifier], Field(max_length=10)]
    """A few of the window's transaction ids."""
