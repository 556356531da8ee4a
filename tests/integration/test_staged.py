"""The ledger's COPY stages on the real PostgreSQL: rows moved once, whatever happens to the
transaction that made the stage; payouts copied straight into their table, and through the
stage only when one is there already, with the daily totals counting each once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
import pytest

from puhui.stack.config import StackConfig
from services.ledger.adapters.repository import (
    NEW_PURCHASES,
    NEW_USAGE,
    STAGES,
    WRITE_PAYOUTS,
    WRITE_PROCESSED,
    WRITE_USAGE,
)
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


PAID_AT = datetime.fromisoformat("2031-07-09T10:00:00+08:00")  # a day no other test pays on


def payout(payout_id: str, programme: str, fen: int) -> tuple[object, ...]:
    return (payout_id, "payout", "m-staged", programme, fen, f"e-{payout_id}", None, "2031",
            PAID_AT, "[]", None, None)


async def totals(pool: asyncpg.Pool, programme: str) -> tuple[int, int]:
    row = await pool.fetchrow("select payouts, paid_fen from payout_daily_totals "
                              "where programme = $1 and day = '2031-07-09'", programme)
    return (row["payouts"], row["paid_fen"]) if row else (0, 0)


async def test_payouts_go_straight_in_and_through_the_stage_only_on_a_conflict(
        pool: asyncpg.Pool) -> None:
    programme = f"staged-{uuid.uuid4().hex[:8]}"
    a, b, c = (f"{programme}-{n}" for n in "abc")
    async with pool.acquire() as conn:
        async with conn.transaction():
            await db_stages(conn)
            await WRITE_PAYOUTS.write(conn, [payout(a, programme, 100), payout(b, programme, 7)])
            assert await conn.fetchval(f"select count(*) from {WRITE_PAYOUTS.stage}") == 0  # noqa: S608
        async with conn.transaction():  # `a` again, changed: kept as it was; `c` is new
            await db_stages(conn)
            await WRITE_PAYOUTS.write(conn, [payout(a, programme, 999), payout(c, programme, 5)])
    paid = await pool.fetch("select payout_id, amount_fen from payouts where programme = $1 "
                            "order by payout_id", programme)
    assert [(r["payout_id"], r["amount_fen"]) for r in paid] == [(a, 100), (b, 7), (c, 5)]
    assert await totals(pool, programme) == (3, 112)  # the rolled-back copy counted nothing


async def test_processed_events_are_copied_straight_in_and_a_duplicate_fails_the_batch(
        pool: asyncpg.Pool) -> None:
    event = f"e-staged-{uuid.uuid4().hex}"
    async with pool.acquire() as conn:
        async with conn.transaction():
            await WRITE_PROCESSED.write(conn, [(event,)])
        with pytest.raises(asyncpg.UniqueViolationError):
            async with conn.transaction():
                await WRITE_PROCESSED.write(conn, [(event,)])
    assert await pool.fetchval("select count(*) from processed_events where event_id = $1",
                               event) == 1


def purchase(transaction: str, earned: int) -> tuple[object, ...]:
    return (transaction, f"e-{transaction}", "m-staged", "cinema", "2031", 5000, earned, 0, 0,
            "[]", 2031, True, False, [])


async def test_a_purchase_taken_for_new_that_is_there_goes_through_the_stages_rule(
        pool: asyncpg.Pool) -> None:
    """A purchase the batch did not find is copied straight in; if it is there after all (a
    race), the savepoint is rolled back and the stage's ON CONFLICT updates it as before."""
    old, new = f"tx-staged-{uuid.uuid4().hex}", f"tx-staged-{uuid.uuid4().hex}"
    async with pool.acquire() as conn:
        async with conn.transaction():
            await db_stages(conn)
            await NEW_PURCHASES.write(conn, [purchase(old, 1000)])
        async with conn.transaction():
            await db_stages(conn)
            await NEW_PURCHASES.write(conn, [purchase(old, 400), purchase(new, 900)])
    earned = await pool.fetch("select transaction_id, earned_fen from purchases "
                              "where transaction_id = any($1::text[])", [old, new])
    assert {r["transaction_id"]: r["earned_fen"] for r in earned} == {old: 400, new: 900}


async def test_usage_taken_for_new_adds_to_the_row_that_is_there_and_new_rows_go_straight_in(
        pool: asyncpg.Pool) -> None:
    there, fresh = f"stage-{uuid.uuid4().hex}", f"stage-{uuid.uuid4().hex}"
    async with pool.acquire() as conn:
        async with conn.transaction():
            await db_stages(conn)
            await NEW_USAGE.write(conn, [usage(there, 1, 100)])
            assert await conn.fetchval(f"select count(*) from {NEW_USAGE.stage}") == 0  # noqa: S608
        async with conn.transaction():  # `there` was not looked up, yet it is there
            await db_stages(conn)
            await NEW_USAGE.write(conn, [usage(there, 2, 50), usage(fresh, 1, 7)])
    assert await used(pool, there) == (3, 150)  # added to, neither replaced nor doubled
    assert await used(pool, fresh) == (1, 7)
