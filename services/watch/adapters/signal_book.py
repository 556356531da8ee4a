"""Signals into PostgreSQL and, through the outbox in the same transaction, to `puhui.signals`.

The unique key (rule, key, window_start) decides what is new: a signal raised again after a
restart inserts nothing and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import asyncpg
import orjson

from schemas.signals import TOPIC, Signal
from services.runtime import outbox
from services.runtime.pg_errors import translate_errors

INSERT_ONE = """
insert into watch_signals (signal_id, rule, key_kind, key, window_start, window_end,
                           observed_at, figures, thresholds, examples)
values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)
on conflict do nothing
returning signal_id
"""


class SignalBook:
    """Records signals once each; calls `raised` with every one that was new."""

    def __init__(self, pool: asyncpg.Pool, raised: Callable[[Signal], None]) -> None:
        self.pool, self.raised = pool, raised

    async def record(self, signals: Sequence[Signal]) -> None:
        async with translate_errors("record signals"), self.pool.acquire() as conn, \
                conn.transaction():
            new = [s for s in signals if await conn.fetchval(INSERT_ONE, *_row(s))]
            await outbox.write(conn, [outbox.OutboxMessage(
                TOPIC, s.key.encode(), s.model_dump_json().encode()) for s in new])
        for signal in new:
            self.raised(signal)


def _row(s: Signal) -> tuple[object, ...]:
    return (s.signal_id, s.rule, s.key_kind, s.key, s.window_start, s.window_end, s.observed_at,
            orjson.dumps(s.figures).decode(), orjson.dumps(s.thresholds).decode(),
            list(s.examples))
