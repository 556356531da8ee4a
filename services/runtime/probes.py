"""Gauges read from PostgreSQL on a timer: the outbox backlog and held events whose key is
known (relay), budgets left (ledger).

A probe that fails keeps the last values and tries again next time: monitoring never stops
or slows a service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from engine.catalogue import Catalogue
from engine.periods import local_date
from services.runtime import outbox
from services.runtime.metrics import ServiceMetrics
from services.runtime.records import utc_now

log = logging.getLogger(__name__)
PROBE_EVERY_SECONDS = 5.0
BUDGETS_SPENT = "select programme, year, spent_fen from budget_spent"
HELD_KEY_KNOWN = """
select waiting_for, count(*) from held_events h
where released_at is null and case waiting_for
    when 'card' then exists (select 1 from card_holdings c where c.card_id = h.waiting_key)
    when 'member' then exists (select 1 from members m where m.member_id = h.waiting_key)
    else exists (select 1 from purchases p where p.transaction_id = h.waiting_key) end
group by waiting_for
"""
"""Held events waiting for something that has already arrived: never more than none."""

Probe = Callable[[asyncpg.Connection], Awaitable[None]]


async def sample_every(pool: asyncpg.Pool, probe: Probe, stop: asyncio.Event,
                       seconds: float = PROBE_EVERY_SECONDS) -> None:
    """Run `probe` on a pooled connection every `seconds` until `stop` is set."""
    while not stop.is_set():
        try:
            async with pool.acquire() as conn:
                await probe(conn)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.debug("probe failed, the gauges keep their last values: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


def outbox_probe(metrics: ServiceMetrics) -> Probe:
    """The relay's: the outbox backlog, and held events whose key is known."""

    async def probe(conn: asyncpg.Connection) -> None:
        metrics.observe_outbox(*await outbox.backlog(conn))
        metrics.observe_held_key_known(await held_key_known(conn))

    return probe


def budget_probe(metrics: ServiceMetrics, catalogue: Catalogue,
                 now: Callable[[], datetime] = utc_now) -> Probe:
    """Budget left of this year (Asia/Shanghai) and of any later one events have reached."""
    budgets = {p.name: p.yearly_budget_fen for p in catalogue.programmes}

    async def probe(conn: asyncpg.Connection) -> None:
        rows = await conn.fetch(BUDGETS_SPENT)
        metrics.observe_budgets(budgets, {(r["programme"], r["year"]): r["spent_fen"]
                                          for r in rows}, local_date(now()).year)

    return probe


async def held_key_known(conn: asyncpg.Connection) -> dict[str, int]:
    """waiting_for -> held events whose card, member or purchase is already known."""
    return {r["waiting_for"]: r["count"] for r in await conn.fetch(HELD_KEY_KNOWN)}
