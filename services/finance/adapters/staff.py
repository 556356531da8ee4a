"""Finance staff and their sessions."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.finance.adapters.errors import translated
from services.finance.domain.roles import Role
from services.finance.domain.staff import Staff

UPSERT_USER = """
insert into finance_users (username, role, password_hash) values ($1, $2, $3)
on conflict (username) do update set role = excluded.role, password_hash = excluded.password_hash
"""
USER = "select username, role, password_hash from finance_users where username = $1"
USERS = "select username, role, created_at from finance_users order by username"
DELETE_USER = "delete from finance_users where username = $1"
NEW_SESSION = """
insert into finance_sessions (token_sha256, username, expires_at) values ($1, $2, $3)
"""
SESSION = """
select u.username, u.role from finance_sessions s join finance_users u using (username)
 where s.token_sha256 = $1 and s.expires_at > $2
"""
END_SESSION = "delete from finance_sessions where token_sha256 = $1"
FORGET_EXPIRED = "delete from finance_sessions where expires_at <= $1"


class StaffStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def save(self, username: str, role: Role, password_hash: str) -> None:
        async with translated("save a finance user"):
            await self._pool.execute(UPSERT_USER, username, role.value, password_hash)

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
