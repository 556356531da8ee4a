"""Putting the shards' chunks back together in input order, with the budgets of one process.

Each shard saw only its own spending, so the budget it checked a payout against was at
least what one process would have left (every shard's spend is its members' payouts less
their clawbacks, never below zero). The merge replays every payout and clawback in input
order against the whole budget: while a payout still fits what is left of it, one process
would have paid the same amount, and only the trace's "budget left" differs, which is
rewritten here. When a payout would not fit (the budget binds), or a shard doubts a line,
`Diverged` says from which line one process must take over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson

from engine.catalogue import Catalogue
from engine.money import yuan
from engine.state import BudgetKey
from puhui.shards.worker import Chunk, Money


class Diverged(Exception):
    """From line `number` on, the shards may not decide as one process would."""

    def __init__(self, number: int, why: str) -> None:
        super().__init__(f"line {number}: {why}")
        self.number = number


def _budget_step(year: int, left: int) -> bytes:
    return b'"rule":"budget","outcome":' + orjson.dumps(f"{year}: {yuan(left)} left")


class Merge:
    def __init__(self, catalogue: Catalogue, write: Callable[[bytes], object],
                 count: Callable[[Money], None], report: Callable[[int, str], None]) -> None:
        self.budgets = {p.name: p.yearly_budget_fen for p in catalogue.programmes}
        self.spent: dict[BudgetKey, int] = {}
        self.write = write
        self.count = count
        self.report = report
        self.merged_to = 0
        """Every line before this number is written."""

    def chunk(self, parts: Sequence[Chunk], bad_here: Sequence[tuple[int, str]],
              end: int) -> None:
        """Write the payouts of lines before `end` (a chunk's parts from every shard, and the
        bad lines the router found in it), or raise `Diverged` at the first doubtful line."""
        doubt = min((n for part in parts for n in part.doubtful), default=end)
        if doubt < self.merged_to:
            raise RuntimeError(f"line {doubt}, already written, was doubted by a shard")
        money = sorted((m for part in parts for m in part.money),
                       key=lambda m: (m.number, m.order))
        bad = sorted([b for part in parts for b in part.bad] + list(bad_here))
        lines: list[bytes] = []
        tallied: list[Money] = []
        number = self.merged_to
        for item in money:
            if item.number >= doubt:
                break
            if item.number != number:  # every payout of the line before fitted
                self._flush(lines, tallied, bad, item.number)
                number = item.number
            try:
                lines.append(self._fitted(item))
            except Diverged:
                self._flush([], [], bad, item.number)  # that line is decided again, whole
                raise
            tallied.append(item)
        self._flush(lines, tallied, bad, min(doubt, end))
        if doubt < end:
            raise Diverged(doubt, "a shard cannot vouch for this line")

    def _fitted(self, item: Money) -> bytes:
        key = (item.programme, item.budget_year)
        spent = self.spent.get(key, 0)
        line = item.line
        if item.budget_left is not None:
            left = max(0, self.budgets[item.programme] - spent)
            if item.exact and left != item.budget_left:  # never, unless the shards disagree
                raise Diverged(item.number, f"the {item.programme} budget read differently")
            if left < item.amount_fen:
                raise Diverged(item.number, f"the {item.programme} budget binds")
            if left != item.budget_left:
                seen = _budget_step(item.budget_year, item.budget_left)
                if line.count(seen) != 1:
                    raise Diverged(item.number, "no single budget step to correct")
                line = line.replace(seen, _budget_step(item.budget_year, left))
        self.spent[key] = spent + item.amount_fen
        return line

    def _flush(self, lines: list[bytes], tallied: list[Money], bad: list[tuple[int, str]],
               upto: int) -> None:
        """Write what was merged, and report the bad lines before `upto`."""
        while bad and bad[0][0] < upto:
            self.report(*bad.pop(0))
        if lines:
            self.write(b"".join(lines))
            lines.clear()
        for item in tallied:
            self.count(item)
        tallied.clear()
        self.merged_to = upto
