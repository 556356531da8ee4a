"""Batch writes through COPY: a batch's rows are copied (binary COPY) into a temporary table
of the target's columns, then one statement moves them into the target with its own ON
CONFLICT rule.

Why not `insert ... select from unnest($1::text[], ...)` as before: asyncpg encodes an array
parameter element by element, asking each element whether it is itself an iterable, a sized
container or a mapping (three `isinstance` checks against `collections.abc`, each a Python
call). For a card day that was about 3.5 million checks per 40,000 events, and the unnest
statements cost 7.5-10 us of client CPU per row against 2.4 for COPY (docs/bench.md,
"COPY instead of unnest"). COPY cannot resolve a conflict, so the rows go through a stage.

Rows that need no conflict rule are copied straight into their table (a duplicate fails the
batch, as a plain INSERT would). Rows that rarely meet a conflict (`direct_first`: payouts,
whose ids are derived from events the ledger has not processed yet, and the purchases and
limit usage rows the batch did not find in their tables) are copied straight into their
table inside a savepoint, and go through the stage only when that meets a unique key;
PostgreSQL then rolls the savepoint back and the stage's ON CONFLICT rule (keep, replace
or add to the row there) decides. Either way the table ends as the stage alone would
leave it.

A stage is a temporary table of this session (`on commit delete rows`), made if missing at
the start of every ledger transaction (`create_stages`, one round trip). Its rows are
deleted by the statement that moves them (`with staged as (delete ... returning ...)`), so a
stage used twice in one transaction never moves a row twice: limit usage added twice would
be money counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import asyncpg

from services.runtime.pg_errors import unless_a_key_is_taken


@dataclass(frozen=True)
class StagedInsert:
    table: str
    columns: tuple[tuple[str, str], ...]
    """(name, PostgreSQL type) of each column the ledger writes, in the rows' order."""
    on_conflict: str = ""
    direct_first: bool = False
    """Copy straight into the table first, and through the stage only on a conflict."""

    @property
    def stage(self) -> str:
        return f"ledger_stage_{self.table}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def create_sql(self) -> str:
        typed = ", ".join(f"{name} {kind}" for name, kind in self.columns)
        return f"create temp table if not exists {self.stage} ({typed}) on commit delete rows"

    def move_sql(self) -> str:
        names = ", ".join(self.names)
        return (f"with staged as (delete from {self.stage} returning {names}) "  # noqa: S608 (names are constants of this module's callers)
                f"insert into {self.table} ({names}) select {names} from staged "
                f"{self.on_conflict}")

    async def write(self, conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Inside the caller's transaction, after `create_stages` in it."""
        if not rows:
            return
        if not self.on_conflict:
            await conn.copy_records_to_table(self.table, records=rows, columns=self.names)
            return
        if self.direct_first and await unless_a_key_is_taken(conn, partial(
                conn.copy_records_to_table, self.table, records=rows, columns=self.names)):
            return
        # the rule is needed (or a row turned out to be there): the stage's rule decides
        await conn.copy_records_to_table(self.stage, records=rows, columns=self.names)
        await conn.execute(self.move_sql())


async def create_stages(conn: asyncpg.Connection, stages: Iterable[StagedInsert]) -> None:
    await conn.execute("; ".join(s.create_sql() for s in stages))
