"""A progress bar on stderr for long runs, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class Advance(Protocol):
    def __call__(self, done: int) -> None: ...


def _nothing(done: int) -> None:
    return None


@contextmanager
def progress(description: str, total: int | None, *, minimum: int = 100_000) -> Iterator[Advance]:
    """Yields `advance(done)`; draws a bar only if stderr is a terminal and `total` is long."""
    if not sys.stderr.isatty() or total is None or total < minimum:
        yield _nothing
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)


class _Rate(ProgressColumn):
    """Events per second, as rich measures it over the last seconds."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} events/s")


def json_lines(total: int) -> Advance:
    """`advance(done)` as one JSON line on stderr, `{"done": N, "total": M}`: progress for a
    program that runs this one (the finance review's what-if runs)."""
    def advance(done: int) -> None:
        sys.stderr.write(f'{{"done": {done}, "total": {total}}}\n')
        sys.stderr.flush()
    return advance


@contextmanager
def counting(description: str, total: int, *, as_json: bool = False) -> Iterator[Advance]:
    """Like `progress`, for a count of events: events per second and the time left (or, with
    `as_json`, `json_lines`)."""
    if as_json:
        yield json_lines(total)
        return
    if not sys.stderr.isatty() or total <= 0:
        yield _nothing
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)
