"""Finance staff, their sessions and API tokens, and the failed sign-ins that throttle them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.finance.adapters.errors import translated
from services.finance.domain.roles import Role
from services.finance.domain.staff import Staff
from services.finance.domain.throttle import Failures
from services.runtime import outbox

UPSERT_USER = """
insert into finance_users (username, role, password_hash) values ($1, $2, $3)
on conflict (username) do update set role = excluded.role, password_hash = excluded.password_hash
returning (xmax <> 0) as existed
"""
USER = "select username, role, password_hash from finance_users where username = $1"
USERS = "select username, role, created_at from finance_users order by username"
DELETE_USER = "delete from finance_users where username = $1"
END_USER_SESSIONS = "delete from finance_sessions where username = $1"
NEW_SESSION = """
insert into finance_sessions (token_sha256, username, expires_at) values ($1, $2, $3)
"""
SESSION = """
select u.username, u.role from finance_sessions s join finance_users u using (username)
 where s.token_sha256 = $1 and s.expires_at > $2
"""
END_SESSION = "delete from finance_sessions where token_sha256 = $1"
FORGET_EXPIRED = "delete from finance_sessions where expires_at <= $1"
NEW_API_KEY = """
insert into finance_api_tokens (token_id, token_sha256, username, role, created_at, expires_at)
values ($1, $2, $3, $4, $5, $6)
"""
API_KEY = """
select t.token_id, t.username, t.role, u.role as user_role
  from finance_api_tokens t join finance_users u using (username)
 where t.token_sha256 = $1 and t.expires_at > $2
"""
TOKENS = """
select token_id, username, role, created_at, expires_at from finance_api_tokens
 order by username, created_at
"""
REVOKE_API_KEY = "delete from finance_api_tokens where token_id = $1 returning username, role"
FAILURES = """
select key, failures, last_failed_at, locked_until from finance_sign_in_failures
 where key = any($1::text[])
"""
SAVE_FAILURE = """
insert into finance_sign_in_failures (key, failures, last_failed_at, locked_until)
values ($1, $2, $3, $4)
on conflict (key) do update set failures = excluded.failures,
       last_failed_at = excluded.last_failed_at, locked_until = excluded.locked_until
"""
FORGET_FAILURES = "delete from finance_sign_in_failures where key = $1"


class StaffStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def save(self, username: str, role: Role, password_hash: str) -> bool:
        """Create the user, or set their role and password and end their sessions (a changed
        password signs everyone out); True if the user existed."""
        async with translated("save a finance user"), self._pool.acquire() as conn, \
                conn.transaction():
            existed = bool(await conn.fetchval(UPSERT_USER, username, role.value,
                                               password_hash))
            await conn.execute(END_USER_SESSIONS, username)
        return existed

    async def remove(self, username: str) -> bool:
        async with translated("remove a finance user"):
            return str(await self._pool.execute(DELETE_USER, username)) != "DELETE 0"

    async def users(self) -> list[tuple[str, Role, datetime]]:
        async with translated("list finance users"):
            rows = await self._pool.fetch(USERS)
        return [(r["username"], Role(r["role"]), r["created_at"]) for r in rows]

    async def credentials(self, username: str) -> tuple[Staff, str] | None:
        """The user and their stored password hash, if there is such a user."""
        async with translated("read a finance user"):
            row = await self._pool.fetchrow(USER, username)
        return None if row is None else (Staff(row["username"], Role(row["role"])),
                                         row["password_hash"])

    async def open_session(self, digest: bytes, username: str, expires_at: datetime,
                           now: datetime) -> None:
        async with translated("open a session"), self._pool.acquire() as conn, \
                conn.transaction():
            await conn.execute(FORGET_EXPIRED, now)
            await conn.execute(NEW_SESSION, digest, username, expires_at)

    async def session(self, digest: bytes, now: datetime) -> Staff | None:
        async with translated("read a session"):
            row = await self._pool.fetchrow(SESSION, digest, now)
        return None if row is None else Staff(row["username"], Role(row["role"]))

    async def end_session(self, digest: bytes) -> None:
        async with translated("end a session"):
            await self._pool.execute(END_SESSION, digest)

    async def add_token(self, token_id: str, digest: bytes, username: str, role: Role,
                        now: datetime, expires_at: datetime,
                        audit: Sequence[outbox.OutboxMessage]) -> None:
        async with translated("make an API token"), self._pool.acquire() as conn, \
                conn.transaction():
            await conn.execute(NEW_API_KEY, token_id, digest, username, role.value, now,
                               expires_at)
            await outbox.write(conn, audit)

    async def token(self, digest: bytes, now: datetime) -> tuple[Staff, Role] | None:
        """The token's staff (with the token's role) and their user's own role."""
        async with translated("read an API token"):
            row = await self._pool.fetchrow(API_KEY, digest, now)
        if row is None:
            return None
        return Staff(row["username"], Role(row["role"]), row["token_id"]), Role(row["user_role"])

    async def tokens(self) -> list[tuple[str, str, Role, datetime, datetime]]:
        async with translated("list API tokens"):
            rows = await self._pool.fetch(TOKENS)
        return [(r["token_id"], r["username"], Role(r["role"]), r["created_at"],
                 r["expires_at"]) for r in rows]

    async def revoke_token(self, token_id: str,
                           audit: Sequence[outbox.OutboxMessage]) -> bool:
        async with translated("revoke an API token"), self._pool.acquire() as conn, \
                conn.transaction():
            found = await conn.fetchrow(REVOKE_API_KEY, token_id)
            if found is not None:
                await outbox.write(conn, audit)
        return found is not None

    async def failures(self, keys: Sequence[str]) -> dict[str, Failures]:
        async with translated("read failed sign-ins"):
            rows = await self._pool.fetch(FAILURES, list(keys))
        return {r["key"]: Failures(r["failures"], r["last_failed_at"], r["locked_until"])
                for r in rows}

    async def record_failure(self, counts: dict[str, Failures],
                             audit: Sequence[outbox.OutboxMessage]) -> None:
        """Save the new counts of a wrong password, and its audit record, together."""
        async with translated("record a failed sign-in"), self._pool.acquire() as conn, \
                conn.transaction():
            for key, count in sorted(counts.items()):
                await conn.execute(SAVE_FAILURE, key, count.failures, count.last_failed_at,
                                   count.locked_until)
            await outbox.write(conn, audit)

    async def forget_failures(self, key: str) -> None:
        async with translated("forget failed sign-ins"):
            await self._pool.execute(FORGET_FAILURES, key)
