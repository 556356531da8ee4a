"""PostgreSQL driver errors that a retry can cure, translated once for every service.

asyncpg's exceptions stop here: what leaves is `TransientFailure` (retried with backoff by
the service's loop), or the original error when a retry would not help (a bug, a broken
constraint), which stops the service loudly.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg

from services.runtime.errors import TransientFailure

TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # the socket went away (TimeoutError, a command_timeout, is one too)
    asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
    asyncpg.DeadlockDetectedError, asyncpg.SerializationError,
    asyncpg.AdminShutdownError, asyncpg.QueryCanceledError,
)


@contextlib.asynccontextmanager
async def translate_errors(what: str,
                           also: tuple[type[BaseException], ...] = ()) -> AsyncIterator[None]:
    """Errors a retry can cure become `TransientFailure` naming `what` was being done;
    `also` names the ones a retry cures for this caller alone."""
    try:
        yield
    except (*TRANSIENT, *also) as exc:
        raise TransientFailure(f"{what}: {type(exc).__name__}: {exc}") from None
