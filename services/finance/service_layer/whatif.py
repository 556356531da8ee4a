"""What-if runs of the finance review: a catalogue replayed over the recorded events.

A run is `puhui simulate --from-kafka --against-ledger` as a child process (the replay is CPU
work for seconds to hours: it must not hold the review's event loop, and a stopped child
leaves nothing behind). Runs are taken one at a time in the order they were asked; a second
run waits as `queued`. What the child writes on stderr as JSON lines is its progress; its
`whatif.json` is the result. Runs are kept in this process only (a restart forgets them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from engine.catalogue import parse_catalogue

State = Literal["queued", "running", "done", "failed", "stopped"]


@dataclass
class Run:
    """One what-if run: who asked, which catalogue (its SHA-256), where it is."""

    run_id: int
    started_by: str
    asked_at: datetime
    year: int
    member_prefix: str
    catalogue: str = field(repr=False)
    catalogue_sha256: str
    state: State = "queued"
    done: int = 0
    total: int = 0
    error: str | None = None
    result: dict[str, Any] | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class Replayer:
    """How a run's child process reaches the broker and the ledger."""

    kafka_bootstrap: str
    database_url: str
    in_force: str
    """The catalogue in force (TOML): the ledger's budgets, and the page's starting point."""


class WhatIfRuns:
    """The runs of this process, taken one at a time by `work()`."""

    def __init__(self, replayer: Replayer, now: Callable[[], datetime]) -> None:
        self.replayer = replayer
        self._now = now
        self._runs: dict[int, Run] = {}
        self._ids = itertools.count(1)
        self._queue: asyncio.Queue[Run] = asyncio.Queue()
        self._child: asyncio.subprocess.Process | None = None

    def ask(self, started_by: str, catalogue: str, year: int, member_prefix: str = "") -> Run:
        """Queue a run; raises `CatalogueError` (naming the key) before anything is queued."""
        parse_catalogue(catalogue)
        run = Run(next(self._ids), started_by, self._now(), year, member_prefix, catalogue,
                  hashlib.sha256(catalogue.encode()).hexdigest())
        self._runs[run.run_id] = run
        self._queue.put_nowait(run)
        return run

    def runs(self) -> list[Run]:
        """Newest first."""
        return sorted(self._runs.values(), key=lambda r: r.run_id, reverse=True)

    def get(self, run_id: int) -> Run | None:
        return self._runs.get(run_id)

    def stop(self, run_id: int) -> Run | None:
        """Stop a queued or running run (a running child is killed: it wrote nothing)."""
        run = self._runs.get(run_id)
        if run is None or run.state not in ("queued", "running"):
            return run
        if run.state == "running" and self._child is not None:
            self._child.kill()
        self._finish(run, "stopped", None)
        return run

    def stop_all(self) -> None:
        """Stop every queued and running run (the server is stopping)."""
        for run in list(self._runs.values()):
            self.stop(run.run_id)

    async def work(self) -> None:
        """Take queued runs one after another, for as long as the server runs."""
        while True:
            run = await self._queue.get()
            if run.state == "queued":
                await self._replay(run)

    async def _replay(self, run: Run) -> None:
        run.state = "running"
        with tempfile.TemporaryDirectory(prefix="puhui-whatif-") as folder:
            where = Path(folder)
            (where / "new.toml").write_text(run.catalogue, encoding="utf-8")
            (where / "in-force.toml").write_text(self.replayer.in_force, encoding="utf-8")
            self._child = await asyncio.create_subprocess_exec(
                *self._command(run, where), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
                env=self._env())
            last = await self._follow(run, self._child)
            code = await self._child.wait()
            self._child = None
            if run.state != "running":
                return  # stopped meanwhile
            if code == 0:
                result = orjson.loads((where / "out" / "whatif.json").read_bytes())
                self._finish(run, "done", result)
            else:
                run.error = last or f"the replay exited with status {code}"
                self._finish(run, "failed", None)

    def _command(self, run: Run, where: Path) -> list[str]:
        return [sys.executable, "-m", "puhui", "simulate", "--from-kafka", "--year",
                str(run.year), "--against-ledger", "--catalogue", str(where / "new.toml"),
                "--in-force", str(where / "in-force.toml"), "--out", str(where / "out"),
                "--member-prefix", run.member_prefix, "--progress-json"]

    def _env(self) -> Mapping[str, str]:
        """This process's environment, with the two connections."""
        return {**os.environ, "PUHUI_KAFKA_BOOTSTRAP": self.replayer.kafka_bootstrap,
                "PUHUI_DATABASE_URL": self.replayer.database_url}

    async def _follow(self, run: Run, child: asyncio.subprocess.Process) -> str:
        """Read the child's progress lines; returns its last other line (its error, if any)."""
        last = ""
        assert child.stderr is not None  # asked for with PIPE
        async for raw in child.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("{"):
                with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                    seen = orjson.loads(line)
                    run.done, run.total = int(seen["done"]), int(seen["total"])
            elif line:
                last = line
        return last

    def _finish(self, run: Run, state: State, result: dict[str, Any] | None) -> None:
        run.state, run.result, run.finished_at = state, result, self._now()
