"""Sign-in: a password checked against its scrypt hash opens a session of a few hours;
machine clients use API tokens. Wrong passwords are counted per name and per address, and
past a few of them each costs a doubling wait (checked before any password is)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from services.finance.adapters.staff import StaffStore
from services.finance.domain import throttle
from services.finance.domain.credentials import (
    hash_password,
    new_api_token,
    new_token,
    token_digest,
    verify_password,
)
from services.finance.domain.roles import Role, covers
from services.finance.domain.staff import Staff
from services.finance.service_layer.audit import audit_message
from services.runtime.outbox import OutboxMessage

SESSION_HOURS = 10
TOKEN_DAYS = 90


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


@dataclass(frozen=True, slots=True)
class Throttled:
    """Too many wrong passwords lately: try again after `retry_after`."""

    retry_after: timedelta


class RoleNotCovered(ValueError):
    """An API token may not do more than its user."""


class Authenticator:
    def __init__(self, store: StaffStore, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now
        # scrypt is tens of milliseconds of CPU: one check at a time, so a flood of sign-ins
        # takes at most one core from everyone else
        self._checking = asyncio.Semaphore(1)

    async def check_password(self, username: str, password: str) -> Staff | None:
        found = await self.store.credentials(username)
        stored = _dummy_hash() if found is None else found[1]
        matches = await asyncio.to_thread(verify_password, password, stored)
        return found[0] if found is not None and matches else None

    async def sign_in(self, username: str, password: str,
                      address: str) -> Session | Throttled | None:
        """A new session; Throttled while the name or the address must wait; None for a
        wrong name or password (counted, and audited)."""
        keys = {throttle.user_key(username): throttle.FREE_PER_USER,
                throttle.address_key(address): throttle.FREE_PER_ADDRESS}
        # one at a time: each attempt sees the failures of the one before (a burst of
        # guesses cannot all pass the check at once)
        async with self._checking:
            standing = await self.store.failures(list(keys))
            wait = throttle.retry_after(list(standing.values()), self.now())
            if wait > timedelta(0):
                return Throttled(wait)
            staff = await self.check_password(username, password)
            now = self.now()
            if staff is None:
                counts = {key: throttle.after_failure(standing.get(key), now, free)
                          for key, free in keys.items()}
                await self.store.record_failure(counts,
                                                [_failure(username, address, now, counts)])
                return None
            await self.store.forget_failures(throttle.user_key(username))
        token = new_token()
        expires_at = now + timedelta(hours=SESSION_HOURS)
        await self.store.open_session(token_digest(token), staff.username, expires_at, now)
        return Session(token, staff, expires_at)

    async def session(self, token: str) -> Staff | None:
        return await self.store.session(token_digest(token), self.now())

    async def token(self, text: str) -> Staff | None:
        """Whom an API token acts as; None if unknown, expired, or more than its user may."""
        found = await self.store.token(token_digest(text), self.now())
        if found is None or not covers(found[1], found[0].role):
            return None
        return found[0]

    async def sign_out(self, token: str) -> None:
        await self.store.end_session(token_digest(token))

    async def add_user(self, username: str, role: Role, password: str) -> bool:
        """Create or change a user (a changed password ends their sessions); True if it
        existed."""
        return await self.store.save(username, role, hash_password(password))

    async def add_token(self, username: str, role: Role | None, days: int,
                        actor: str) -> tuple[str, str]:
        """A new API token of `username` (their own role unless a narrower one is given):
        (token id, token text). Only its hash is kept; its making is audited."""
        found = await self.store.credentials(username)
        if found is None:
            raise LookupError(f"no user {username}")
        role = role or found[0].role
        if not covers(found[0].role, role):
            raise RoleNotCovered(f"{username} is a {found[0].role}: a token of theirs cannot be "
                                 f"a {role}")
        token_id, text = new_api_token()
        now = self.now()
        expires_at = now + timedelta(days=days)
        await self.store.add_token(token_id, token_digest(text), username, role, now, expires_at,
                                   [audit_message("api_token_created", actor, username, now, [
                                       ("token", f"{token_id} of {username} ({role}), until "
                                                 f"{expires_at:%Y-%m-%d}")])])
        return token_id, text

    async def revoke_token(self, token_id: str, actor: str) -> bool:
        now = self.now()
        return await self.store.revoke_token(token_id, [audit_message(
            "api_token_revoked", actor, token_id, now, [("token", f"{token_id} revoked")])])


def _failure(username: str, address: str, now: datetime,
             counts: dict[str, throttle.Failures]) -> OutboxMessage:
    waits = [f"{key}: {count.failures} wrong in a row, next try after "
             f"{(count.locked_until - now).total_seconds():.0f} s"
             for key, count in sorted(counts.items())]
    return audit_message("sign_in_failed", f"{username} (from {address})", username, now,
                         [("sign_in", "wrong name or password"),
                          *(("back_off", wait) for wait in waits)])
