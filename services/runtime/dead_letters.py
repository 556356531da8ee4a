"""Dead letters: kept in PostgreSQL and sent to the dead-letter topic through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.runtime import outbox
from services.runtime.records import Rejected

INSERT = """
insert into dead_letters (consumer, source_topic, partition, "offset", reason, raw, kind)
select $1, * from unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $6::bytea[],
                         $7::text[])
on conflict do nothing
returning source_topic, partition, "offset"
"""


async def record_dead_letters(conn: asyncpg.Connection, consumer: str,
                              rejected: Sequence[Rejected], now: datetime) -> None:
    """Inside the caller's transaction: the table row and the outbox message of each.

    A redelivered message that is already a dead letter is neither stored nor sent again."""
    if not rejected:
        return
    records = [r.record for r in rejected]
    stored = await conn.fetch(INSERT, consumer, [r.topic for r in records],
                              [r.partition for r in records], [r.offset for r in records],
                              [r.reason for r in rejected], [r.value for r in records],
                              [r.kind for r in rejected])
    new = {(row["source_topic"], row["partition"], row["offset"]) for row in stored}
    await outbox.write(conn, [r.outbox_message(now) for r in rejected
                              if (r.record.topic, r.record.partition, r.record.offset) in new])
