"""`run_sharded`: route, decide in worker processes, merge; one process from a divergence.

The router and the merge run here; each shard is a forked process fed by a pipe (which
blocks the router when a shard falls behind) and answering on a shared queue. Chunks are
merged in order, a few behind the router. If the router finds a line that ties two shards
(`Conflict`) or the merge a line the shards may decide differently (`Diverged`), everything
before that line is already written exactly; the workers stop, and one `Simulator` decides
the lines before it again without writing anything, then goes on from it as `puhui
simulate` does in one process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, BinaryIO

from engine.catalogue import Catalogue
from engine.simulator import Simulator
from engine.state import BudgetKey, HeldItem
from puhui.shards.merge import Diverged, Merge
from puhui.shards.route import ALL, Conflict, Line, Router
from puhui.shards.worker import Chunk, Final, Money, serve
from puhui.simulate import parse_line, run
from puhui.simulate_report import BadLines, Tally
from schemas.decode import Invalid

CHUNK = 4_096
"""Lines routed between two sends to the workers."""
IN_FLIGHT = 4
"""Chunks the router may be ahead of the merge."""


@dataclass
class Result:
    tally: Tally
    bad: BadLines
    held: list[HeldItem]
    budget_spent: dict[BudgetKey, int]
    fell_back_at: int | None = None
    """The line from which one process decided, if the shards could not vouch for it."""
    why: str = ""


class _Workers:
    def __init__(self, shards: int, catalogue: Catalogue) -> None:
        context = multiprocessing.get_context("fork")
        self.outbox: Any = context.Queue()
        self.inboxes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        for index in range(shards):
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=serve, args=(index, catalogue, reader, self.outbox),
                                      daemon=True, name=f"puhui-shard-{index}")
            process.start()
            reader.close()
            self.inboxes.append(writer)
            self.processes.append(process)
        self.waiting: dict[int, list[Chunk]] = {}

    def send(self, chunk: int, parts: list[list[Line]]) -> None:
        for inbox, lines in zip(self.inboxes, parts, strict=True):
            inbox.send((chunk, lines))

    def collect(self, chunk: int) -> list[Chunk]:
        """Every shard's part of `chunk` (parts of later chunks are kept for later)."""
        while len(self.waiting.get(chunk, ())) < len(self.inboxes):
            part: Chunk = self.outbox.get()
            self.waiting.setdefault(part.index, []).append(part)
        return self.waiting.pop(chunk)

    def finish(self) -> list[Final]:
        for inbox in self.inboxes:
            inbox.send(None)
        finals: list[Final] = []
        while len(finals) < len(self.inboxes):
            message = self.outbox.get()
            if isinstance(message, Final):
                finals.append(message)
        self.stop()
        return sorted(finals, key=lambda final: final.shard)

    def stop(self) -> None:
        for inbox in self.inboxes:
            inbox.close()
        for process in self.processes:
            process.kill()
            process.join()
        self.outbox.close()


Numbered = Iterable[tuple[int, bytes]]
"""(line number, line) of every line that is not blank."""


def run_sharded(lines: Numbered, again: Callable[[], Numbered],
                catalogue: Catalogue, shards: int, out: BinaryIO,
                progress: Callable[[int], None], chunk: int = CHUNK) -> Result:
    """Decide `lines` in `shards` processes; `again()` reads the same lines from the start.

    `chunk` lines are routed between two sends to the workers (smaller in tests)."""
    tally, bad = Tally(), BadLines()
    router = Router(shards)
    workers = _Workers(shards, catalogue)
    merge = Merge(catalogue, out.write, lambda m: _count(tally, m), bad.report)
    ends: list[int] = []
    bad_found: list[list[tuple[int, str]]] = []
    merged = 0

    def merge_next() -> None:
        nonlocal merged
        merge.chunk(workers.collect(merged), bad_found[merged], ends[merged])
        bad_found[merged] = []
        merged += 1

    conflict: Conflict | None = None
    try:
        for end, read, parts, stopped in _chunks(lines, router, shards, chunk):
            conflict = stopped
            workers.send(len(ends), parts)
            ends.append(end)
            bad_found.append(router.bad)
            router.bad = []
            while len(ends) - merged > IN_FLIGHT:
                merge_next()
            progress(read)
        if conflict is None:
            workers.send(len(ends), [router.leftovers(), *[[] for _ in range(shards - 1)]])
            ends.append(ends[-1] if ends else 0)
            bad_found.append([])
        while merged < len(ends):
            merge_next()
    except Diverged as diverged:
        workers.stop()
        return _one_process(again, catalogue, diverged.number, str(diverged), tally, bad, out)
    if conflict is not None:
        workers.stop()
        return _one_process(again, catalogue, conflict.number, str(conflict), tally, bad, out)
    finals = workers.finish()
    held = [item for _, items in sorted(h for f in finals for h in f.held) for item in items]
    spent: dict[BudgetKey, int] = {}
    for final in finals:
        for key, fen in final.budget_spent.items():
            spent[key] = spent.get(key, 0) + fen
    return Result(tally, bad, held, spent)


def _chunks(lines: Numbered, router: Router, shards: int, size: int
            ) -> Iterator[tuple[int, int, list[list[Line]], Conflict | None]]:
    """(the number after the chunk's last line, bytes read, each shard's lines, and the
    conflict that ended the routing, if one did: the last chunk ends before its line)."""
    parts: list[list[Line]] = [[] for _ in range(shards)]
    read = count = 0
    end = 1
    for number, line in lines:
        try:
            routed = router.route(number, line)
        except Conflict as conflict:
            yield number, read, parts, conflict
            return
        read += len(line)
        end = number + 1
        if routed is not None:
            targets = parts if routed.shard == ALL else [parts[routed.shard]]
            for part in targets:
                part.extend(routed.before)
                part.append(routed.line)
        count += 1
        if count == size:
            yield end, read, parts, None
            parts, count = [[] for _ in range(shards)], 0
    if count:
        yield end, read, parts, None


def _count(tally: Tally, money: Money) -> None:
    tally.add(money.programme, money.year, money.amount_fen, money.member_id)


def _one_process(again: Callable[[], Numbered], catalogue: Catalogue,
                 start: int, why: str, tally: Tally, bad: BadLines, out: BinaryIO) -> Result:
    """Decide every line again in one process, writing (and counting) from line `start` on."""
    simulator = Simulator(catalogue)
    lines = iter(again())
    first: list[tuple[int, bytes]] = []
    for number, line in lines:
        if number >= start:
            first.append((number, line))
            break
        event = parse_line(line)
        if not isinstance(event, Invalid):
            simulator.feed(event)
    for _ in run(chain(first, lines), simulator, out, tally, bad):
        pass
    return Result(tally, bad, simulator.held(), dict(simulator.ledger.budget_spent), start, why)
