"""`python -m puhui.watch_replay`: the watch's rules over a generated federation, in memory.

A generated federation feed (puhui/synthetic), its payouts decided by the rules engine as the
ledger would (each right after its event), through `services.watch.replay`; prints the
signals per rule of each day: with nothing planted, every one of them is a false positive.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from datetime import date
from itertools import chain

from engine.periods import SHANGHAI
from puhui.synthetic.feed import FeedPlan, daily_feed, population_feed
from services.watch.replay import replay, with_payouts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--members", type=int, default=1_750_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2027, 3, 3))
    args = parser.parse_args(argv)
    plan = FeedPlan(members=args.members, cards=args.members * 4 // 5, days=args.days,
                    start_date=args.start)
    # the population is registered before the days (the ledger's state); the watch sees only
    # the days' card transactions and the payouts the engine decides on them
    ran = replay(with_payouts(chain(population_feed(plan), daily_feed(plan))))
    signals, seen = ran.signals, ran.seen
    per_day = Counter((s.window_start.astimezone(SHANGHAI).date().isoformat(), s.rule)
                      for s in signals)
    print(f"{len(signals)} signals over {args.days} days of {plan.cards:,} cards: "
          f"{seen['swipes']:,} transactions at subsidised categories, {seen['payouts']:,} "
          f"payouts on purchases, {seen['subsidised']:,} subsidised purchases paired")
    for (day, rule), n in sorted(per_day.items()):
        print(f"  {day} {rule}: {n}")


if __name__ == "__main__":
    main()
