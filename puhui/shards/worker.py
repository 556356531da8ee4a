"""One shard: the engine over its own in-memory ledger, deciding the lines routed to it.

For each chunk it reports, in line order, every payout line with what the merge needs to
replay the budgets (`Money`), the bad lines, and the lines where it cannot vouch for the
result (`doubtful`: a budget not read exactly that cut or denied here, a let-go pending line
that paid, a line the router thought bad that was not). At the end: what is still held (with
where one process would have put it first) and the budget spent. A purchase programme's
budget is read exactly across shards from the line where it could bind (`budgets.py`).
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
from puhui.shards.budgets import DONE, Ceiling, SeenSpend, SharedSpend, Spend
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
    exact: bool
    """Whether that was read exactly (the whole budget's figure, not this shard's)."""


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
    def __init__(self, index: int, catalogue: Catalogue, spend: Spend,
                 exact_from: dict[str, int]) -> None:
        self.index = index
        self.catalogue = catalogue
        self.spend = spend
        self.exact_from = exact_from
        self.seen: SeenSpend | None = None
        """The ledger's budget spent once budgets are read across shards (`read_exactly`)."""
        self.ledger = Ledger()
        self.held_since: dict[HeldKey, tuple[int, int]] = {}
        self.at = 0
        """The line being decided in one process's order (a pending line let go before its
        card's issue is decided there, at the issue's place)."""

    def read_exactly(self, number: int) -> None:
        """From line `number` on, a budget could bind: log what this shard spent before it,
        and read the budgets that could bind across the shards."""
        spent = self.ledger.budget_spent
        if not self.spend.log(number - 1, spent):
            raise RuntimeError(f"the shared budget log holds fewer than {len(spent)} budgets")
        budgets = {p.name: p.yearly_budget_fen for p in self.catalogue.programmes}
        self.seen = SeenSpend(self.exact_from, self.spend, budgets)
        self.seen.update(spent)
        self.ledger.budget_spent = self.seen
        self.spend.progress(number)  # only now: what it spent before `number` is logged

    def take(self, done: Chunk, entry: Line) -> None:
        """Decide one line (in one process's order) into the chunk's answer `done`."""
        number, line, how, parsed = entry
        event = parse_line(line) if parsed is None else decode_value(*parsed)
        if isinstance(event, Invalid):
            if how != EVERY or self.index == 0:
                done.bad.append((number, event.reason))
            return
        if how == SUSPECT:
            done.doubtful.append(number)
        self.at = at = max(self.at, number)
        seen = self.seen
        if seen is None:
            outcome = decide(event, self.ledger, self.catalogue, Arrival("", 0, number))
        else:
            seen.reading_at, seen.every, seen.unsure = at, how == EVERY, False
            outcome = decide(event, self.ledger, self.catalogue, Arrival("", 0, number))
            seen.reading_at = None
            if seen.unsure or not self.spend.log(at, outcome.budget):
                done.doubtful.append(number)
        if outcome.holds_added or outcome.holds_released:
            self._track_holds(number, outcome)
        apply(self.ledger, outcome)
        self._report(number, how, outcome, done)

    def final(self) -> Final:
        held = [(self.held_since[key], list(items)) for key, items in self.ledger.held.items()]
        return Final(self.index, held, dict(self.ledger.budget_spent.items()))

    def _report(self, number: int, how: int, outcome: Outcome, done: Chunk) -> None:
        for order, decision in enumerate(outcome.decisions):
            if decision.reason == BUDGET_EXHAUSTED and not self._exact(decision.programme, how):
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
                     budget_year, decision.amount_fen, left,
                     left is not None and self._exact(decision.programme, how))

    def _exact(self, programme: str | None, how: int) -> bool:
        """Whether `programme`'s budget was read exactly for the line being decided."""
        seen = self.seen
        return (seen is not None and how != EVERY and programme is not None
                and seen.exact(programme, self.at))

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
          outbox: Queue[Any], shared: SharedSpend) -> None:
    """A worker process: route every line of `source()`, decide this shard's own, and put
    each chunk's answer on `outbox`, then (unless a conflict ended it) the `Final`."""
    spend, ceiling, router = shared.spend(index), Ceiling(catalogue), Router(shards)
    try:
        _serve(index, Shard(index, catalogue, spend, ceiling.exact_from), router, ceiling,
               source, size, outbox)
    finally:
        spend.progress(DONE)  # no shard waits for this one any more


def _serve(index: int, shard: Shard, router: Router, ceiling: Ceiling,
           source: Callable[[], Iterable[tuple[int, bytes]]], size: int,
           outbox: Queue[Any]) -> None:
    """Lines are decided a chunk at a time until a budget could bind somewhere; from then on
    each as soon as it is routed, so that this shard's progress follows its reading and a
    shard reading a budget exactly waits for as few lines as can be (deciding every line as
    it is routed took 3 % more instructions, so it is not done before it is needed)."""
    chunk = count = read = 0
    done = Chunk(0, index)
    mine: list[Line] = []

    def decide_mine(end: int) -> None:
        for entry in mine:
            shard.take(done, entry)
        mine.clear()
        if shard.seen is not None:  # before budgets are read across shards, none waits
            # every line of this shard before `end` is decided and logged (one waiting for
            # its card's issue pays nothing until then)
            spend.progress(end)

    def answer(end: int, conflict: tuple[int, str] | None = None) -> None:
        nonlocal chunk, done
        decide_mine(end)
        done.end, done.read, done.conflict = end, read, conflict
        if index == 0:
            done.routed_bad = router.bad
        router.bad = []
        outbox.put(done)
        chunk += 1
        done = Chunk(chunk, index)

    spend = shard.spend
    exact_from = ceiling.exact_from
    end = 1
    with rarer_collections():
        for number, line in source():
            try:
                routed = router.route(number, line)
            except Conflict as conflict:
                answer(number, (number, str(conflict)))
                return
            read += len(line)
            end = number + 1
            if routed is not None:
                for entry in routed.before:
                    ceiling.count(number, entry[3])
                ceiling.count(number, routed.line[3])
                if exact_from and shard.seen is None:  # the first line a budget could bind
                    decide_mine(number)
                    shard.read_exactly(number)
                if routed.shard not in (index, ALL) and _refund(routed.line):
                    spend.refund_routed(routed.shard, number)
                if routed.shard == index or routed.shard == ALL:
                    mine.extend(routed.before)
                    mine.append(routed.line)
            if exact_from:
                decide_mine(end)
            count += 1
            if count == size:
                answer(end)
                count = 0
        leftovers = router.leftovers()
        if index == 0:
            mine.extend(leftovers)
        if count or leftovers:
            answer(end)
        outbox.put(shard.final())


def _refund(entry: Line) -> bool:
    """Whether a line may be a refund or reversal (one the router could not read may)."""
    parsed = entry[3]
    return parsed is None or parsed[1].get("type") in _REFUNDS


_REFUNDS = frozenset({"refund", "reversal"})
