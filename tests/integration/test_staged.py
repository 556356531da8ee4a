"""The ledger's COPY stages on the real PostgreSQL: rows moved once, whatever happens to the
transaction that made the stage."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from puhui.stack.config import StackConfig
from services.ledger.adapters.repository import STAGES, WRITE_USAGE
from services.ledger.adapters.staged import create_stages
from services.runtime import db


@pytest.fixture(scope="module")
async def pool(stack: StackConfig) -> AsyncIterator[asyncpg.Pool]:
    made = await db.create_pool(stack.database_url, max_size=1, settings=db.KEYED_LOOKUPS)
    await db.migrate(made)
    yield made
    await made.close()


def usage(member: str, count: int, fen: int) -> tuple[str, str, str, str, str, int, int]:
    return (member, "cinema", "monthly_amount", "2027-03", "", count, fen)


async def used(pool: asyncpg.Pool, member: str) -> tuple[int, int]:
    row = await pool.fetchrow("select count, fen from limit_usage where member_id = $1", member)
    return (row["count"], row["fen"]) if row else (0, 0)


async def test_a_stage_written_twice_in_one_transaction_moves_each_row_once(
        pool: asyncpg.Pool) -> None:
    a, b = f"stage-{uuid.uuid4().hex}", f"stage-{uuid.uuid4().hex}"
    async with pool.acquire() as conn, conn.transaction():
        await db_stages(conn)
        await WRITE_USAGE.write(conn, [usage(a, 1, 100)])
        await WRITE_USAGE.write(conn, [usage(a, 1, 50), usage(b, 2, 7)])
    assert await used(pool, a) == (2, 150)
    assert await used(pool, b) == (2, 7)


async def test_a_rolled_back_stage_leaves_nothing_and_is_made_again(
        stack: StackConfig, pool: asyncpg.Pool) -> None:
    a = f"stage-{uuid.uuid4().hex}"
    conn = await asyncpg.connect(stack.database_url)  # a session without stages yet
    try:
        with pytest.raises(RuntimeError, match="fails before"):
            await fail_after_copying(conn, usage(a, 1, 1))
        exists = "select to_regclass($1) is not null"
        assert not await conn.fetchval(exists, f"pg_temp.{WRITE_USAGE.stage}")
        async with conn.transaction():
            await db_stages(conn)
            await WRITE_USAGE.write(conn, [usage(a, 3, 30)])
    finally:
        await conn.close()
    assert await used(pool, a) == (3, 30)


async def fail_after_copying(conn: asyncpg.Connection, row: tuple[object, ...]) -> None:
    async with conn.transaction():
        await db_stages(conn)  # the stage is made in this transaction, and goes with it
        await conn.copy_records_to_table(WRITE_USAGE.stage, records=[row],
                                         columns=WRITE_USAGE.names)
        raise RuntimeError("the batch fails before its rows are moved")


async def test_committed_stages_are_empty_in_the_next_transaction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await db_stages(conn)
            await conn.copy_records_to_table(
                WRITE_USAGE.stage, records=[usage(f"stage-{uuid.uuid4().hex}", 1, 1)],
                columns=WRITE_USAGE.names)  # copied, never moved
        async with conn.transaction():
            for stage in STAGES:
                assert await conn.fetchval(f"select count(*) from {stage.stage}") == 0  # noqa: S608


async def db_stages(conn: asyncpg.Connection) -> None:
    await create_stages(conn, STAGES)
