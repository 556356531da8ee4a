"""Each finance user's language, kept in PostgreSQL (`finance_preferences`)."""

from __future__ import annotations

import asyncpg

from services.finance.adapters.errors import translated

LANGUAGE = "select language from finance_preferences where username = $1"
SET_LANGUAGE = """
insert into finance_preferences (username, language) values ($1, $2)
on conflict (username) do update set language = excluded.language, updated_at = now()
"""


class Preferences:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def language(self, username: str) -> str | None:
        async with translated("read a language"):
            found: str | None = await self._pool.fetchval(LANGUAGE, username)
        return found

    async def set_language(self, username: str, language: str) -> None:
        async with translated("keep a language"):
            await self._pool.execute(SET_LANGUAGE, username, language)
