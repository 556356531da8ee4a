"""asyncpg errors stay here: what is not the caller's fault becomes `TransientFailure`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.runtime.errors import TransientFailure

_TRANSIENT = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
              asyncpg.DeadlockDetectedError, asyncpg.SerializationError,
              asyncpg.CannotConnectNowError, asyncpg.QueryCanceledError)


@asynccontextmanager
async def translated(doing: str) -> AsyncIterator[None]:
    try:
        yield
    except _TRANSIENT as error:
        raise TransientFailure(f"{doing}: {type(error).__name__}") from None
