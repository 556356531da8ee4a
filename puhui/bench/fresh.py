"""A clean slate for each run: the bench's own database and freshly created topics.

The services' consumer groups must not remember offsets of the old topics (checked: the run
stops with the reason rather than measure something else). No other consumer may be in
them either: a `puhui run` on the same broker would take half the work; stop it first.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, UnknownTopicOrPartitionError

from schemas.topics import CONSUMER_GROUPS
from services.runtime import db
from services.watch import names as watch

BENCH_DATABASE = "puhui_bench"
FLOOR_TOPIC = "puhui.bench.floor"
"""Where the raw floor writes what it reads."""
SERVICE_GROUPS = (*CONSUMER_GROUPS.values(), watch.intake_group(), watch.agents_group())
# The bench's commit timestamps: NOTIFY is delivered when the inserting transaction commits,
# and its payload names the transaction by its start (`now()`, in microseconds: what the
# payouts' `recorded_at` holds), so each payout's "recorded" moment is its commit. Not by its
# xid: the ledger copies payouts in a savepoint, and a row's `xmin` is then the savepoint's
# own xid, which the transaction's never matches (the bench heard no commit at all).
COMMIT_SIGNAL = "puhui_bench_payouts"
SIGNAL_TRIGGER = f"""
create function bench_payouts_committed() returns trigger language plpgsql as $$
begin
    perform pg_notify('{COMMIT_SIGNAL}', (extract(epoch from now()) * 1000000)::bigint::text);
    return null;
end $$;
create trigger bench_payouts_committed after insert on payouts
    for each statement execute function bench_payouts_committed();
"""


class NotClean(Exception):
    """The broker or the database cannot be made clean for a run; says why."""


def bench_dsn(database_url: str, name: str = BENCH_DATABASE) -> str:
    """The same server and user as `database_url`, another database."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def fresh_database(database_url: str, name: str = BENCH_DATABASE,
                         commit_signal: bool = True) -> str:
    """Drop and create the database `name` (the bench's), migrate it, add the commit signal
    unless told not to; its DSN."""
    dsn = bench_dsn(database_url, name)
    conn = await asyncpg.connect(bench_dsn(database_url, "postgres"), timeout=10)
    try:
        await conn.execute(f'drop database if exists "{name}" with (force)')
        await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    pool = await db.create_pool(dsn, attempts=5)
    try:
        await db.migrate(pool)
        if commit_signal:
            await pool.execute(SIGNAL_TRIGGER)
    finally:
        await pool.close()
    return dsn


async def fresh_topics(bootstrap: str, partitions: dict[str, int]) -> None:
    """Delete and create `partitions`' topics, and delete the watch's own (its internal
    topics and its tables' changelogs: it makes them again when it starts, and a run must
    not begin with the tables of the last one); check no service group is left over."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        watch_topics = {t for t in existing if watch.owns_topic(t)}
        doomed = [t for t in partitions if t in existing] + sorted(watch_topics)
        if doomed:
            await admin.delete_topics(doomed, timeout_ms=30_000)
        await _create(admin, partitions)
        await _gone(admin, watch_topics)
        await _no_stale_offsets(admin, set(partitions) | watch_topics)
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, partitions: dict[str, int]) -> None:
    """Deletion finishes in the background: retry until the names are free again."""
    deadline = time.monotonic() + 60
    wanted = dict(partitions)
    while wanted:
        try:
            await admin.create_topics([NewTopic(t, n, 1) for t, n in wanted.items()],
                                      timeout_ms=30_000)
            return
        except (TopicAlreadyExistsError, UnknownTopicOrPartitionError) as exc:
            if time.monotonic() > deadline:
                raise NotClean(f"topics still being deleted after 60 s: {exc}") from None
            existing = set(await admin.list_topics())
            wanted = {t: n for t, n in wanted.items() if t not in existing}
            await asyncio.sleep(0.5)


async def _gone(admin: AIOKafkaAdminClient, topics: set[str], within: float = 60.0) -> None:
    """Deletion finishes in the background: wait until `topics` are gone."""
    deadline = time.monotonic() + within
    while left := topics & set(await admin.list_topics()):
        if time.monotonic() > deadline:
            raise NotClean(f"topics still being deleted after {within:.0f} s: {sorted(left)}")
        await asyncio.sleep(0.5)


async def _no_stale_offsets(admin: AIOKafkaAdminClient, topics: set[str],
                            within: float = 60.0) -> None:
    """The broker forgets a deleted topic's committed offsets in the background: wait."""
    deadline = time.monotonic() + within
    while stale := await _stale_offsets(admin, topics):
        if time.monotonic() > deadline:
            raise NotClean(f"consumer groups still remember offsets of the old topics "
                           f"after {within:.0f} s: {stale}; is a service still running "
                           "against this broker?")
        await asyncio.sleep(1.0)


async def _stale_offsets(admin: AIOKafkaAdminClient, topics: set[str]) -> dict[str, list[str]]:
    found = {}
    for group in SERVICE_GROUPS:
        try:
            offsets = await admin.list_consumer_group_offsets(group)
        except KafkaError:
            continue
        stale = sorted({tp.topic for tp, meta in offsets.items()
                        if tp.topic in topics and meta.offset > 0})
        if stale:
            found[group] = stale
    return found
