"""One asyncpg pool per process, and versioned schema migrations."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from services.runtime.errors import TransientFailure

log = logging.getLogger(__name__)
MIGRATION_LOCK = 7_102_001  # advisory lock: one process migrates at a time
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

CREATE_LEDGER = """
create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    applied_at timestamptz not null default now()
)
"""
APPLIED = "select version from schema_migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The migrations shipped in services/runtime/migrations, in version order."""
    found = []
    for entry in (resources.files("services.runtime") / "migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 4,
                      attempts: int = 30) -> asyncpg.Pool:
    """Connect, retrying while the server starts (a restart of PostgreSQL is not fatal)."""
    for attempt in range(1, attempts + 1):
        try:
            pool: asyncpg.Pool = await asyncpg.create_pool(
                dsn, min_size=min_size, max_size=max_size, command_timeout=60)
            return pool
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("PostgreSQL not reachable (attempt %d/%d): %s", attempt, attempts, exc)
            await asyncio.sleep(min(0.2 * attempt, 2.0))
    raise TransientFailure(f"PostgreSQL at {_redact(dsn)} did not answer") from None


async def migrate(pool: asyncpg.Pool) -> list[Migration]:
    """Apply what is not applied yet, each in its own transaction; returns what was applied."""
    applied: list[Migration] = []
    async with pool.acquire() as conn:
        await conn.execute("select pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(CREATE_LEDGER)
            done = {row["version"] for row in await conn.fetch(APPLIED)}
            for migration in migrations():
                if migration.version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "insert into schema_migrations (version, name) values ($1, $2)",
                        migration.version, migration.name)
                applied.append(migration)
        finally:
            await conn.execute("select pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied


def _redact(dsn: str) -> str:
    return re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", dsn)
