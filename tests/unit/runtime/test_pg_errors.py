"""What a retry can cure becomes TransientFailure; anything else is left alone."""

from __future__ import annotations

import asyncpg
import pytest

from services.runtime.errors import TransientFailure
from services.runtime.pg_errors import translate_errors

CURABLE = [ConnectionResetError("reset"), TimeoutError(), asyncpg.InterfaceError("closed"),
           asyncpg.ConnectionDoesNotExistError("gone"), asyncpg.CannotConnectNowError("start"),
           asyncpg.DeadlockDetectedError("deadlock"), asyncpg.SerializationError("serial"),
           asyncpg.AdminShutdownError("shutdown"), asyncpg.QueryCanceledError("cancel")]


@pytest.mark.parametrize("error", CURABLE, ids=lambda e: type(e).__name__)
async def test_errors_a_retry_cures_become_transient(error: Exception) -> None:
    with pytest.raises(TransientFailure, match=f"^relay the outbox: {type(error).__name__}"):
        async with translate_errors("relay the outbox"):
            raise error


@pytest.mark.parametrize("error", [asyncpg.CheckViolationError("budget"),
                                   asyncpg.UndefinedTableError("outbox"), ValueError("bug")],
                         ids=lambda e: type(e).__name__)
async def test_errors_a_retry_cannot_cure_pass_through(error: Exception) -> None:
    with pytest.raises(type(error)):
        async with translate_errors("relay the outbox"):
            raise error
