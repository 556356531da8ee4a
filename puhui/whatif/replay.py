"""Feed the recorded events to the engine and keep what it would pay in the window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.decisions import ClawedBack, Paid
from engine.periods import local_date
from engine.simulator import Simulator
from puhui.whatif.compare import Payouts
from puhui.whatif.kafka_source import Counts, RecordedEvents
from puhui.whatif.window import Window
from services.runtime.progress import Advance

PROGRESS_EVERY = 4_096
Money = Paid | ClawedBack


@dataclass
class Replayed:
    """What a replay paid in its reported window (for members with the prefix), and what it
    read."""

    counts: Counts
    payouts: Payouts = field(default_factory=Payouts)


async def replay(source: RecordedEvents, simulator: Simulator, member_prefix: str,
                 on_money: Callable[[Money], None], advance: Advance) -> Replayed:
    """Decide every recorded event in replay order; `on_money` sees each reported payout."""
    done = Replayed(source.counts)
    window = source.window
    async for event, arrival in source.events():
        for decision in simulator.feed(event, arrival):
            if isinstance(decision, Paid | ClawedBack) and _reported(decision, window,
                                                                      member_prefix):
                done.payouts.add(decision.programme or "", decision.member_id or "",
                                 local_date(decision.occurred_at), decision.amount_fen)
                on_money(decision)
        if source.counts.fed % PROGRESS_EVERY == 0:
            advance(source.counts.read)
    advance(source.counts.read)
    return done


def _reported(decision: Money, window: Window, member_prefix: str) -> bool:
    return (window.reports(local_date(decision.occurred_at))
            and (decision.member_id or "").startswith(member_prefix))
