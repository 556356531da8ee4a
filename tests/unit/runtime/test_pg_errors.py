"""What a retry can cure becomes TransientFailure; anything else is left alone."""

from __future__ import annotations

import asyncio

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


async def test_what_a_caller_names_in_also_is_transient_for_it_alone() -> None:
    race = asyncpg.UniqueViolationError("two writers")
    with pytest.raises(TransientFailure, match=r"^record a batch: UniqueViolationError: two"):
        async with translate_errors("record a batch", (asyncpg.UniqueViolationError,)):
            raise race
    with pytest.raises(asyncpg.UniqueViolationError):
        async with translate_errors("record a batch"):
            raise race


class _Named(Exception):
    pass


async def test_what_a_caller_names_in_instead_becomes_its_own_error() -> None:
    instead = {asyncpg.UndefinedTableError: lambda: _Named("no table yet")}
    with pytest.raises(_Named, match="no table yet") as raised:
        async with translate_errors("read", instead=instead):
            raise asyncpg.UndefinedTableError("trail")
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__  # the driver's error stays in the adapter
    with pytest.raises(TransientFailure):  # what is transient stays transient
        async with translate_errors("read", instead=instead):
            raise asyncpg.InterfaceError("closed")


async def test_instead_matches_a_subclass_of_what_it_names() -> None:
    instead = {asyncpg.PostgresError: lambda: _Named("any server error")}
    with pytest.raises(_Named):
        async with translate_errors("read", instead=instead):
            raise asyncpg.CheckViolationError("budget")


async def test_say_why_false_leaves_the_drivers_message_out() -> None:
    with pytest.raises(TransientFailure) as raised:
        async with translate_errors("list finance users", say_why=False):
            raise OSError("connect to 10.0.0.7:5432 refused")
    assert str(raised.value) == "list finance users: OSError"
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


async def test_cancellation_passes_through() -> None:
    with pytest.raises(asyncio.CancelledError):
        async with translate_errors("relay the outbox"):
            raise asyncio.CancelledError
