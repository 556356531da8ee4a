"""The finance review for `puhui run --demo`: one demo user of each role, on a local stack only.

Each run gives the demo users new random passwords, printed once by the supervisor; the demo
refuses a database that is not on this machine, so no demo account reaches a real one.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from services.finance.adapters.staff import StaffStore
from services.finance.domain.roles import Role
from services.finance.service_layer.auth import Authenticator
from services.runtime import db
from services.runtime.records import utc_now

LOCAL = {"127.0.0.1", "localhost", "::1"}


class NotLocal(RuntimeError):
    """The database is not the local demo stack's."""


def demo_name(role: Role) -> str:
    return f"demo.{role.value}"


async def demo_users(database_url: str) -> list[tuple[str, Role, str]]:
    """(name, role, password) of a fresh demo user of each role."""
    host = urlsplit(database_url).hostname or ""
    if host not in LOCAL:
        raise NotLocal(f"demo users only on a local stack, not on {host}")
    pool = await db.create_pool(database_url, min_size=1, max_size=2)
    try:
        await db.migrate(pool)
        auth = Authenticator(StaffStore(pool), utc_now)
        made = []
        for role in Role:
            password = secrets.token_urlsafe(9)
            await auth.add_user(demo_name(role), role, password)
            made.append((demo_name(role), role, password))
        return made
    finally:
        await pool.close()
