"""`run_sharded`: each worker routes every line and decides its own; the merge runs here.

Every worker reads the whole input itself (`source()` opens it afresh) and runs the same
`Router` over every line, so each knows which lines are its own without being sent them:
routing is deterministic, and cheap beside deciding. A worker answers per chunk of lines on
a shared queue, and the merge takes the chunks in order as every shard's part of one has
come. If the router finds a line that ties two shards (`Conflict`: every worker finds it at
the same line) or the merge a line the shards may decide differently (`Diverged`),
everything before that line is already written exactly; the workers stop, and one
`Simulator` decides the lines before it again without writing anything, then goes on from
it as `puhui simulate` does in one process.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from multiprocessing.process import BaseProcess
from typing import Any, BinaryIO

from engine.catalogue import Catalogue
from engine.simulator import Simulator
from engine.state import BudgetKey, HeldItem
from puhui.shards.budgets import SharedSpend
from puhui.shards.merge import Diverged, Merge
from puhui.shards.worker import Chunk, Final, Money, serve
from puhui.simulate import parse_line, run
from puhui.simulate_report import BadLines, Tally
from schemas.decode import Invalid

CHUNK = 4_096
"""Lines a worker routes between two answers."""

Numbered = Iterable[tuple[int, bytes]]
"""(line number, line) of every line that is not blank."""


@dataclass
class Result:
    tally: Tally
    bad: BadLines
    held: list[HeldItem]
    budget_spent: dict[BudgetKey, int]
    fell_back_at: int | None = None
    """The line from which one process decided, if the shards could not vouch for it."""
    why: str = ""


class WorkerFailed(Exception):
    """A worker process ended without its answers (a bug, or killed): one process takes over
    from the last line written."""


LOOK_EVERY = 1.0
"""Seconds between two looks at whether the workers are still alive, while waiting."""


class _Workers:
    def __init__(self, shards: int, catalogue: Catalogue, source: Callable[[], Numbered],
                 chunk: int) -> None:
        context = multiprocessing.get_context("fork")
        self.outbox: Any = context.Queue()
        self.shards = shards
        self.processes: list[BaseProcess] = []
        shared = SharedSpend(shards, catalogue)  # mapped here, so that every worker shares it
        for index in range(shards):
            process = context.Process(
                target=serve, args=(index, shards, catalogue, source, chunk, self.outbox,
                                    shared),
                daemon=True, name=f"puhui-shard-{index}")
            process.start()
            self.processes.append(process)
        self.waiting: dict[int, list[Chunk]] = {}
        self.finals: list[Final] = []

    def collect(self, chunk: int) -> list[Chunk] | None:
        """Every shard's part of `chunk`, or None when the shards have no more chunks."""
        while len(self.waiting.get(chunk, ())) < self.shards:
            if len(self.finals) == self.shards:
                return None
            try:
                message = self.outbox.get(timeout=LOOK_EVERY)
            except queue.Empty:
                self._check_alive()
                continue
            if isinstance(message, Final):
                self.finals.append(message)
            else:
                self.waiting.setdefault(message.index, []).append(message)
        return sorted(self.waiting.pop(chunk), key=lambda part: part.shard)

    def _check_alive(self) -> None:
        for process in self.processes:
            if process.exitcode not in (None, 0):
                raise WorkerFailed(f"worker {process.name} ended with exit code "
                                   f"{process.exitcode}")

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.join()
        self.outbox.close()


def run_sharded(source: Callable[[], Numbered], catalogue: Catalogue, shards: int,
                out: BinaryIO, progress: Callable[[int], None], chunk: int = CHUNK) -> Result:
    """Decide the lines of `source()` (which reads them from the start each time it is
    called, in a worker or here) in `shards` processes.

    `chunk` lines are routed between two answers of a worker (smaller in tests)."""
    tally, bad = Tally(), BadLines()
    workers = _Workers(shards, catalogue, source, chunk)
    merge = Merge(catalogue, out.write, lambda m: _count(tally, m), bad.report)
    try:
        index = 0
        while (parts := workers.collect(index)) is not None:
            first = parts[0]
            merge.chunk(parts, first.routed_bad, first.end)
            progress(first.read)
            if first.conflict is not None:
                workers.stop()
                number, why = first.conflict
                return _one_process(source, catalogue, number, why, tally, bad, out)
            index += 1
    except Diverged as diverged:
        workers.stop()
        return _one_process(source, catalogue, diverged.number, str(diverged), tally, bad, out)
    except WorkerFailed as failed:
        workers.stop()
        start = max(merge.merged_to, 1)
        return _one_process(source, catalogue, start, str(failed), tally, bad, out)
    finals = sorted(workers.finals, key=lambda final: final.shard)
    workers.stop()
    held = [item for _, items in sorted(h for f in finals for h in f.held) for item in items]
    spent: dict[BudgetKey, int] = {}
    for final in finals:
        for key, fen in final.budget_spent.items():
            spent[key] = spent.get(key, 0) + fen
    return Result(tally, bad, held, spent)


def _count(tally: Tally, money: Money) -> None:
    tally.add(money.programme, money.year, money.amount_fen, money.member_id)


def _one_process(source: Callable[[], Numbered], catalogue: Catalogue,
                 start: int, why: str, tally: Tally, bad: BadLines, out: BinaryIO) -> Result:
    """Decide every line again in one process, writing (and counting) from line `start` on."""
    simulator = Simulator(catalogue)
    lines = iter(source())
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
    return Result(tally, bad, simulator.held(), dict(simulator.ledger.budget_spent), start,
                  why)
