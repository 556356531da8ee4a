"""Sign-in: a password checked against its scrypt hash opens a session of a few hours."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from services.finance.adapters.staff import StaffStore
from services.finance.domain.credentials import (
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from services.finance.domain.roles import Role
from services.finance.domain.staff import Staff

SESSION_HOURS = 10


@cache
def _dummy_hash() -> str:
    """Checked against when the user does not exist: a wrong name costs what a wrong password
    costs, so timing does not tell which names exist."""
    return hash_password("no such user", salt=bytes(16))


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    staff: Staff
    expires_at: datetime


class Authenticator:
    def __init__(self, store: StaffStore, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now

    async def check_password(self, username: str, password: str) -> Staff | None:
        found = await self.store.credentials(username)
        stored = _dummy_hash() if found is None else found[1]
        # scrypt takes tens of milliseconds of CPU: off the event loop
        matches = await asyncio.to_thread(verify_password, password, stored)
        return found[0] if found is not None and matches else None

    async def sign_in(self, username: str, password: str) -> Session | None:
        staff = await self.check_password(username, password)
        if staff is None:
            return None
        token, now = new_token(), self.now()
        expires_at = now + timedelta(hours=SESSION_HOURS)
        await self.store.open_session(token_digest(token), staff.username, expires_at, now)
        return Session(token, staff, expires_at)

    async def session(self, token: str) -> Staff | None:
        return await self.store.session(token_digest(token), self.now())

    async def sign_out(self, token: str) -> None:
        await self.store.end_session(token_digest(token))

    async def add_user(self, username: str, role: Role, password: str) -> None:
        await self.store.save(username, role, hash_password(password))
