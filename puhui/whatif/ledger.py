"""What PostgreSQL recorded: the `payouts` table summed as a `Payouts`, for a window."""

from __future__ import annotations

import asyncpg

from puhui.whatif.compare import Payouts
from puhui.whatif.window import Window

RECORDED = """
select programme, member_id, (occurred_at at time zone 'Asia/Shanghai')::date as day,
       sum(amount_fen)::bigint as fen
  from payouts
 where occurred_at >= ($1::date)::timestamp at time zone 'Asia/Shanghai'
   and ($2::date is null or occurred_at < ($2::date + 1)::timestamp at time zone 'Asia/Shanghai')
   and starts_with(member_id, $3)
 group by 1, 2, 3
"""


class LedgerUnreachable(RuntimeError):
    """PostgreSQL does not answer, or holds no ledger."""


async def recorded_payouts(dsn: str, window: Window, member_prefix: str = "") -> Payouts:
    """Net fen per programme, member and day that the ledger recorded in `window`'s report."""
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        raise LedgerUnreachable(f"PostgreSQL does not answer at {_where(dsn)}: {error}") from None
    try:
        rows = await conn.fetch(RECORDED, window.report_from, window.last_day, member_prefix)
    except asyncpg.UndefinedTableError:
        raise LedgerUnreachable(f"no payouts table in {_where(dsn)}: run `puhui db migrate`"
                                ) from None
    finally:
        await conn.close()
    payouts = Payouts()
    for row in rows:
        payouts.add(row["programme"], row["member_id"], row["day"], int(row["fen"]))
    return payouts


def _where(dsn: str) -> str:
    """The DSN without its password."""
    _, at, tail = dsn.rpartition("@")
    return tail if at else dsn
