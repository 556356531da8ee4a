"""Turn asyncpg errors into the failure kinds the services tell apart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.runtime.errors import TransientFailure


class TrailMissing(Exception):
    """The database has no audit trail yet: its owner has never migrated it."""


@asynccontextmanager
async def translated(what: str) -> AsyncIterator[None]:
    """Re-raise driver errors met while doing `what` as `TrailMissing` or `TransientFailure`."""
    try:
        yield
    except asyncpg.UndefinedTableError:
        raise TrailMissing(
            "this database has no audit trail: run `puhui db migrate` as its owner first"
        ) from None
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        raise TransientFailure(f"could not {what}: {type(error).__name__}: {error}") from None
