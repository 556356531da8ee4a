"""PostgreSQL driver errors translated once, for every service, into the failure kinds of
`services.runtime.errors` (docs/services.md, "Failure").

asyncpg's exceptions stop here. What leaves is `TransientFailure` for what a retry can cure
(retried by the service's one retry layer, `services/bootstrap.py`, or answered 503 by the
finance page); an error of the caller's own naming for what it names in `instead`; or the
original error, a bug or a broken constraint, which a retry would not help and which stops
the service loudly. A caller passes only what differs from this, explicitly.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import asyncpg

from services.runtime.errors import TransientFailure

TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # the socket went away (TimeoutError, a command_timeout, is one too)
    asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
    asyncpg.DeadlockDetectedError, asyncpg.SerializationError,
    asyncpg.AdminShutdownError, asyncpg.QueryCanceledError,
)
NOTHING_INSTEAD: Mapping[type[BaseException], Callable[[], Exception]] = {}


@contextlib.asynccontextmanager
async def translate_errors(
        what: str, also: tuple[type[BaseException], ...] = (), *,
        instead: Mapping[type[BaseException], Callable[[], Exception]] = NOTHING_INSTEAD,
        say_why: bool = True) -> AsyncIterator[None]:
    """Errors a retry can cure become `TransientFailure` naming `what` was being done.

    `also`: the errors a retry cures for this caller alone (the ledger's race on a unique
    key). `instead`: errors that mean something to this caller, each raised as the error its
    factory makes (audit: no trail table yet). `say_why=False` leaves the driver's message out
    of the failure, for a caller that shows it to people (the finance page)."""
    try:
        yield
    except Exception as error:
        if isinstance(error, (*TRANSIENT, *also)):
            why = f": {error}" if say_why else ""
            raise TransientFailure(f"{what}: {type(error).__name__}{why}") from None
        named = next((make for kind, make in instead.items() if isinstance(error, kind)), None)
        if named is None:
            raise
        raise named() from None


async def unless_a_key_is_taken(conn: asyncpg.Connection,
                                write: Callable[[], Awaitable[object]]) -> bool:
    """Run `write` in a savepoint of `conn`'s open transaction. False when it met a unique
    key: the savepoint is rolled back (the transaction goes on), and the caller writes the
    rows another way (the ledger's COPY stage and its ON CONFLICT rule)."""
    try:
        async with conn.transaction():
            await write()
    except asyncpg.UniqueViolationError:
        return False
    return True
