"""One shard: the engine over its own in-memory ledger, deciding the lines routed to it.

For each chunk it reports, in line order, every payout line with what the merge needs to
replay the budgets (`Money`), the bad lines, and the lines where it cannot vouch for the
result (`doubtful`: a budget that cut or denied here, a let-go pending line that paid, a line
the router thought bad that was not). At the end: what is still held (with where one process
would have put it first) and the budget spent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from typing import Any, NamedTuple

from engine.apply import apply
from engine.catalogue import Catalogue
from engine.decide import decide
from engine.decisions import ClawedBack, Paid
from engine.grant import BUDGET_EXHAUSTED
from engine.outcome import Outcome
from engine.periods import local_date
from engine.state import Arrival, BudgetKey, HeldItem, HeldKey, Ledger
from engine.trace import BudgetCheck
from puhui.shards.route import ALL, EVERY, LATE, SUSPECT, Conflict, Line, Router
from puhui.simulate import parse_line, rarer_collections
from puhui.simulate_output import payout_line
from schemas.decode import Invalid, decode_value


class Money(NamedTuple):
    """One payout or clawback line and what the merge replays of it."""

    number: int
    order: int | str
    """Its place among the line's payouts: its index, or for a day tick the member id."""
    line: bytes
    member_id: str
    programme: str
    year: int
    """The calendar year of the payout's time (the summary's year)."""
    budget_year: int
    amount_fen: int
    budget_left: int | None
    """For a payout: the budget left before it, as this shard saw it."""


@dataclass
class Chunk:
    index: int
    shard: int
    money: list[Money] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    doubtful: list[int] = field(default_factory=list)
    end: int = 0
    """The number after the chunk's last line (or the conflict's line)."""
    read: int = 0
    """Bytes of input routed so far."""
    routed_bad: list[tuple[int, str]] = field(default_factory=list)
    """Lines the router found bad in this chunk (shard 0 says; every router finds the same)."""
    conflict: tuple[int, str] | None = None
    """The line that ended the routing, and why (every router finds the same)."""


@dataclass
class Final:
    shard: int
    held: list[tuple[tuple[int, int], list[HeldItem]]]
    """Every key still held, with (line number, index) of when one process added it."""
    budget_spent: dict[BudgetKey, int]


class Shard:
    def __init__(self, index: int, catalogue: Catalogue) -> None:
        self.index = index
        self.catalogue = catalogue
        self.ledger = Ledger()
        self.held_since: dict[HeldKey, tuple[int, int]] = {}

    def take(self, chunk: int, lines: list[Line]) -> Chunk:
        done = Chunk(chunk, self.index)
        for number, line, how, parsed in lines:
            event = parse_line(line) if parsed is None else decode_value(*parsed)
            if isinstance(event, Invalid):
                if how != EVERY or self.index == 0:
                    done.bad.append((number, event.reason))
                continue
            if how == SUSPECT:
                done.doubtful.append(number)
            outcome = decide(event, self.ledger, self.catalogue, Arrival("", 0, number))
            if outcome.holds_added or outcome.holds_released:
                self._track_holds(number, outcome)
            apply(self.ledger, outcome)
            self._report(number, how, outcome, done)
        return done

    def final(self) -> Final:
        held = [(self.held_since[key], list(items)) for key, items in self.ledger.held.items()]
        return Final(self.index, held, dict(self.ledger.budget_spent))

    def _report(self, number: int, how: int, outcome: Outcome, done: Chunk) -> None:
        for order, decision in enumerate(outcome.decisions):
            if decision.reason == BUDGET_EXHAUSTED:
                done.doubtful.append(number)
            if isinstance(decision, Paid | ClawedBack):
                if how == LATE:
                    done.doubtful.append(number)
                done.money.append(self._money(number, how, order, decision))

    def _money(self, number: int, how: int, order: int, decision: Paid | ClawedBack) -> Money:
        assert decision.member_id is not None
        assert decision.programme is not None
        year = local_date(decision.occurred_at).year
        left: int | None = None
        if isinstance(decision, Paid):
            budget_year = year
            for step in decision.trace:
                if type(step) is BudgetCheck:
                    budget_year, left = step.year, step.left
        else:
            purchase = self.ledger.purchases[decision.transaction_id or ""]
            assert purchase.budget_year is not None
            budget_year = purchase.budget_year
        return Money(number, decision.member_id if how == EVERY else order,
                     payout_line(decision), decision.member_id, decision.programme, year,
                     budget_year, decision.amount_fen, left)

    def _track_holds(self, number: int, outcome: Outcome) -> None:
        """Keep when each held key was (last) added, as `apply` orders `ledger.held`."""
        held = self.ledger.held
        gone = {item.event_id for item in outcome.holds_released}
        for key in {item.held_key for item in outcome.holds_released}:
            if all(item.event_id in gone for item in held.get(key, ())):
                self.held_since.pop(key, None)
        for position, item in enumerate(outcome.holds_added):
            self.held_since.setdefault(item.held_key, (number, position))


def serve(index: int, shards: int, catalogue: Catalogue,
          source: Callable[[], Iterable[tuple[int, bytes]]], size: int,
          outbox: Queue[Any]) -> None:
    """A worker process: route every line of `source()`, decide this shard's own, and put
    each chunk's answer on `outbox`, then (unless a conflict ended it) the `Final`."""
    shard, router = Shard(index, catalogue), Router(shards)
    mine: list[Line] = []
    chunk = count = read = 0
    end = 1

    def answer(lines: list[Line], conflict: tuple[int, str] | None = None) -> None:
        nonlocal chunk
        done = shard.take(chunk, lines)
        done.end, done.read, done.conflict = end, read, conflict
        if index == 0:
            done.routed_bad = router.bad
        router.bad = []
        outbox.put(done)
        lines.clear()
        chunk += 1

    with rarer_collections():
        for number, line in source():
            try:
                routed = router.route(number, line)
            except Conflict as conflict:
                end = number
                answer(mine, (number, str(conflict)))
                return
            read += len(line)
            end = number + 1
            if routed is not None and (routed.shard == index or routed.shard == ALL):
                mine.extend(routed.before)
                mine.append(routed.line)
            count += 1
            if count == size:
                answer(mine)
                count = 0
        leftovers = router.leftovers()
        if count or leftovers:
            answer(mine + leftovers if index == 0 else mine)
        outbox.put(shard.final())
