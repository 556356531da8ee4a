"""Budgets read exactly across shards, from the line where one could start to bind.

A shard sees only its own members' spending. While a purchase programme's budget cannot
run out, that is enough: every payout fits what is left of the whole budget, so one process
pays the same amount, and the merge rewrites the trace's "budget left". `Ceiling` knows
from which line a budget could run out: it adds up, over every purchase routed so far (all
shards' lines: every worker routes the whole input), the most each could earn (its
programme's base amount, before limits and budget cut it, clawbacks not taken off). Before
the line where that sum first exceeds the yearly budget, no payout of the programme can be
cut by it; from that line on, a shard reads the programme's budget exactly.

Reading it exactly is `Spend.others_before`: what every other shard spent on that budget
in the lines before this one, in the order one process decides them. From the first line
where any budget could bind (every shard finds the same), each shard logs what it spent
before it and then its budget deltas (line, programme, year, fen) to memory shared with
the others (`SharedSpend`, mapped before the workers fork), and publishes its progress:
every line before it is decided and logged. A shard that needs another's spending before
line N waits until that shard's progress reaches N. This cannot deadlock: a shard
publishes its progress (its current line) before it waits, and of two shards waiting on
each other the one further behind is never waiting for the other.

A day tick is decided in every shard at once (its payouts are ordered by member id), so a
budget read exactly cannot be vouched for there: `SeenSpend.unsure` says so, and the merge
falls back to one process as it does when a budget binds. Ticks pay birthday programmes,
which never need it: only purchase programmes are read exactly.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Mapping
from multiprocessing.synchronize import Lock
from typing import Final

from engine.catalogue import Catalogue
from engine.state import BudgetKey
from puhui.shards.route import Parsed
from schemas import card_transactions

DONE: Final = 1 << 62
"""The progress of a shard that has decided every line it will."""
ENTRY: Final = 4
"""Words of one logged delta: line, programme index, year, fen."""
CAPACITY: Final = 1 << 21
"""Deltas a shard can log (32 bytes each, mapped lazily); past it a line is doubtful."""
_HEADER: Final = 2
"""Words before the log: progress, then the count of deltas logged."""


class Ceiling:
    """The most the purchases routed so far could pay each purchase programme, and the line
    from which that exceeds its yearly budget (`exact_from`)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.most: dict[str, int] = {}
        self.exact_from: dict[str, int] = {}

    def count(self, number: int, parsed: Parsed | None) -> None:
        """Count a line decided at line `number` (a line let go before its card's issue is
        decided at the issue, so it is counted there)."""
        if parsed is None or parsed[0] != card_transactions.TOPIC:
            return
        value = parsed[1]
        mcc, amount = value.get("mcc"), value.get("amount_fen")
        if type(mcc) is not str or type(amount) is not int or value.get("type") != "purchase":
            return
        for programme in self.catalogue.for_mcc(mcc):
            name = programme.name
            if name in self.exact_from:
                continue  # read exactly from there on: nothing more to count
            most = self.most.get(name, 0) + max(0, programme.amount.base_fen(amount, None))
            self.most[name] = most
            if most > programme.yearly_budget_fen:
                self.exact_from[name] = number


class SharedSpend:
    """Every shard's progress and budget log, in memory the worker processes share."""

    def __init__(self, shards: int, catalogue: Catalogue, capacity: int = CAPACITY) -> None:
        context = multiprocessing.get_context("fork")
        self.capacity = capacity
        self.locks: list[Lock] = [context.Lock() for _ in range(shards)]
        self.maps = [mmap.mmap(-1, (_HEADER + capacity * ENTRY) * 8) for _ in range(shards)]
        self.programmes = {p.name: i for i, p in enumerate(catalogue.programmes)}

    def spend(self, shard: int) -> Spend:
        """Shard `shard`'s side of it (made in that shard's process)."""
        return Spend(self, shard)


class _Other:
    """Another shard's log as this shard has read it so far, and its refunds not yet
    decided (this shard routes every line, so it knows where they are)."""

    def __init__(self, words: memoryview, lock: Lock) -> None:
        self.words = words
        self.lock = lock
        self.cursor = 0
        self.spent: dict[tuple[int, int], int] = {}
        self.refunds: deque[int] = deque()


class Spend:
    """One shard's log (it writes) and the others' (it reads)."""

    def __init__(self, shared: SharedSpend, shard: int) -> None:
        self.capacity = shared.capacity
        self.programmes = shared.programmes
        self.words = memoryview(shared.maps[shard]).cast("q")
        self.lock = shared.locks[shard]
        self.others = {i: _Other(memoryview(m).cast("q"), shared.locks[i])
                       for i, m in enumerate(shared.maps) if i != shard}

    def progress(self, number: int) -> None:
        """Every line of this shard before `number` is decided and logged (it only ever
        moves on)."""
        if number > self.words[0]:
            self.words[0] = number

    def log(self, number: int, budget: Mapping[BudgetKey, int]) -> bool:
        """Log line `number`'s budget deltas; False if the log is full (nothing logged)."""
        if not budget:
            return True
        changed = [(key, fen) for key, fen in budget.items() if fen]
        words = self.words
        with self.lock:
            count = words[1]
            if count + len(changed) > self.capacity:
                return False
            for (programme, year), fen in changed:
                at = _HEADER + count * ENTRY
                words[at] = number
                words[at + 1] = self.programmes[programme]
                words[at + 2] = year
                words[at + 3] = fen
                count += 1
            words[1] = count
        return True

    def refund_routed(self, shard: int, number: int) -> None:
        """Line `number`, a refund or reversal, is another shard's (`shard`)."""
        self.others[shard].refunds.append(number)

    def others_before(self, key: BudgetKey, number: int) -> int:
        """What the other shards spent on `key` in lines before `number` (waiting for each
        until it has decided them)."""
        wanted = (self.programmes[key[0]], key[1])
        total = 0
        self.progress(number)  # before waiting: so that no shard waits for this one in turn
        for other in self.others.values():
            self._wait(other, number)
            total += self._read(other, number).get(wanted, 0)
        return total

    def others_at_least(self, key: BudgetKey, number: int) -> int | None:
        """At most `others_before(key, number)`, without waiting: what the others spent in
        the lines they have decided, if none has a refund between those and `number` (its
        other lines can only add to what it spent); None if one has."""
        wanted = (self.programmes[key[0]], key[1])
        total = 0
        for other in self.others.values():
            upto = min(other.words[0], number)
            refunds = other.refunds
            while refunds and refunds[0] < upto:
                refunds.popleft()
            if refunds and refunds[0] < number:
                return None
            total += self._read(other, upto).get(wanted, 0)
        return total

    @staticmethod
    def _read(other: _Other, upto: int) -> dict[tuple[int, int], int]:
        """What `other` spent in lines before `upto` (it has decided them), by budget."""
        with other.lock:
            count = other.words[1]
        words, at = other.words, other.cursor
        while at < count and words[_HEADER + at * ENTRY] < upto:
            base = _HEADER + at * ENTRY + 1
            slot = (words[base], words[base + 1])
            other.spent[slot] = other.spent.get(slot, 0) + words[base + 2]
            at += 1
        other.cursor = at
        return other.spent

    @staticmethod
    def _wait(other: _Other, number: int) -> None:
        spins = 0
        while other.words[0] < number:
            spins += 1
            if spins < 50:
                os.sched_yield()
            else:
                time.sleep(0.0001)


class SeenSpend(dict[BudgetKey, int]):
    """A shard's ledger's budget spent: its own spending, but while a line is being decided
    (`reading_at`), a purchase programme read exactly from that line on gets the other
    shards' spending before the line added (what one process would have spent)."""

    def __init__(self, exact_from: Mapping[str, int], spend: Spend,
                 budgets: Mapping[str, int]) -> None:
        super().__init__()
        self.exact_from = exact_from
        self.budgets = budgets
        self.spend = spend
        self.reading_at: int | None = None
        self.every = False
        """Whether the line being decided is a day tick (decided in every shard)."""
        self.unsure = False
        """Whether a budget that must be read exactly was read on a day tick."""

    def get(self, key: BudgetKey, default: int = 0) -> int:  # type: ignore[override]  # the engine reads it with a default of 0
        own = dict.get(self, key, default)
        at = self.reading_at
        if at is None or not self.exact(key[0], at):
            return own
        if self.every:
            self.unsure = True
            return own
        # Once the whole budget is spent, what the others spent at least says so: nothing
        # is left, exactly, without waiting for them (unless a refund of theirs may give some
        # back). Otherwise the amount left matters to the fen.
        least = self.spend.others_at_least(key, at)
        if least is not None and own + least >= self.budgets[key[0]]:
            return own + least
        return own + self.spend.others_before(key, at)

    def exact(self, programme: str, number: int) -> bool:
        """Whether `programme`'s budget is read exactly at line `number`."""
        start = self.exact_from.get(programme)
        return start is not None and start <= number
