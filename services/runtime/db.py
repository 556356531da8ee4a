"""One asyncpg pool per process, and versioned schema migrations.

The owner of the schema migrates it (`puhui db migrate`, run by `puhui run`, the tests and
docker-compose before any service starts); each service connects as its own role, which may
not change the schema, and only checks that the database is not behind the code.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
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
# the statement that sets a role's password, not a password
SET_PASSWORD = "select format('alter role %I password %L', $1::text, $2::text)"  # noqa: S105
# The ledger's statements all look rows up by key. asyncpg prepares each one, and after
# five runs PostgreSQL may keep a generic plan for it: one made while a table was nearly
# empty (a fresh deployment, the limit usage of a new period) stays a sequential scan while
# the table grows, until an ANALYZE (measured: 2,000 swipes/s offered to a fresh ledger, p99
# 20 s instead of 0.1 s). Planning every run instead costs more than it saves here (the
# planner weighs each of thousands of keys), so enrolment and disbursement rule sequential
# scans out. Not the audit service: its one-row chain head is best read by a scan.
# JIT off with it: a plan that must still scan (the ledger's temporary COPY stages,
# services/ledger/adapters/staged.py) carries the 1e10 cost of a disabled node, far above
# jit_above_cost, and was compiled with inlining on every run (measured: 150 ms of JIT on a
# 2,000-row statement that runs in 25 ms).
KEYED_LOOKUPS = {"enable_seqscan": "off", "jit": "off"}


class DatabaseNotReady(Exception):
    """The database lacks migrations this code needs, or refuses the service's role: the
    owner has to migrate it first (`puhui db migrate`). Restarting will not help."""


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


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 4, attempts: int = 30,
                      settings: Mapping[str, str] | None = None) -> asyncpg.Pool:
    """Connect, retrying while the server starts (a restart of PostgreSQL is not fatal)."""
    for attempt in range(1, attempts + 1):
        try:
            pool: asyncpg.Pool = await asyncpg.create_pool(
                dsn, min_size=min_size, max_size=max_size, command_timeout=60,
                server_settings=dict(settings or {}))
            return pool
        except (asyncpg.InvalidAuthorizationSpecificationError,
                asyncpg.InvalidPasswordError) as exc:
            raise DatabaseNotReady(
                f"PostgreSQL at {_redact(dsn)} refused the sign-in: {exc} (the service roles "
                "come with migration 0006: run `puhui db migrate` as the schema's owner; "
                "where the server asks for passwords, check PUHUI_DB_PASSWORD_<SERVICE>)"
            ) from None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("PostgreSQL not reachable (attempt %d/%d): %s", attempt, attempts, exc)
            await asyncio.sleep(min(0.2 * attempt, 2.0))
    raise TransientFailure(f"PostgreSQL at {_redact(dsn)} did not answer") from None


def grants() -> str:
    """services/runtime/grants.sql: what each service role may do, the whole of it."""
    return (resources.files("services.runtime") / "grants.sql").read_text()


async def migrate(pool: asyncpg.Pool) -> list[Migration]:
    """Apply what is not applied yet, each in its own transaction, then the service roles'
    grants afresh (in one more); returns what was applied."""
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
            async with conn.transaction():
                await conn.execute(grants())
        finally:
            await conn.execute("select pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied


async def require_current(pool: asyncpg.Pool) -> None:
    """Raise `DatabaseNotReady` unless every shipped migration is applied (one applied by newer
    code is fine: a rolling deployment runs old code on a newer schema for a while)."""
    try:
        done = {row["version"] for row in await pool.fetch(APPLIED)}
    except (asyncpg.UndefinedTableError, asyncpg.InsufficientPrivilegeError):
        done = set()  # not migrated at all, or not since the roles came (0006, grants.sql)
    missing = [m for m in migrations() if m.version not in done]
    if missing:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in missing)
        raise DatabaseNotReady(f"the database schema is behind this code (missing {names}): "
                               "run `puhui db migrate` as the schema's owner first")


async def wait_until_current(dsn: str, seconds: float, every: float = 2.0) -> None:
    """Return once `dsn` signs in and `require_current` passes; until `seconds` have
    passed, a refused sign-in (the role's password is not set yet), an unreachable server or a
    schema behind the code is tried again. After that, `DatabaseNotReady` says why."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            pool = await create_pool(dsn, attempts=1)
            try:
                await require_current(pool)
                return
            finally:
                await pool.close()
        except (DatabaseNotReady, TransientFailure) as error:
            if asyncio.get_running_loop().time() + every > deadline:
                raise DatabaseNotReady(f"after {seconds:g}s: {error}") from None
            log.info("waiting for the schema: %s", error)
        await asyncio.sleep(every)


async def set_passwords(pool: asyncpg.Pool, passwords: Mapping[str, str]) -> list[str]:
    """Give each role (by name) its password; returns the roles changed. The statement is
    quoted by the server (`format` with %I and %L), never pasted together here."""
    async with pool.acquire() as conn:
        for role, password in passwords.items():
            await conn.execute(await conn.fetchval(SET_PASSWORD, role, password))
    return list(passwords)


def _redact(dsn: str) -> str:
    return re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", dsn)
