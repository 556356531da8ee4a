"""The ledger store contract (tests/ledger_store_contract.py) on the real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from puhui.stack.config import StackConfig
from services.ledger.adapters.repository import PgLedgerStore
from services.runtime import db
from tests.ledger_store_contract import CHECKS, Check


class PgPeek:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def payout_amounts(self, prefix: str) -> list[int]:
        rows = await self.pool.fetch("select amount_fen from payouts where payout_id like $1",
                                     f"{prefix}%")
        return [r["amount_fen"] for r in rows]

    async def dead_letters_at(self, topic: str, partition: int, offset: int) -> tuple[int, int]:
        stored = await self.pool.fetchval(
            'select count(*) from dead_letters where source_topic = $1 and partition = $2 '
            'and "offset" = $3', topic, partition, offset)
        sent = await self.pool.fetchval(
            "select count(*) from outbox_messages where topic = 'puhui.dead-letters' "
            "and (convert_from(value, 'UTF8')::jsonb ->> 'offset')::bigint = $1", offset)
        return int(stored), int(sent)


@pytest.fixture(scope="module")
async def pool(stack: StackConfig) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(stack.database_url)
    await db.migrate(pool)
    yield pool
    await pool.close()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_pg_store_keeps_the_contract(check: Check, pool: asyncpg.Pool) -> None:
    await check(PgLedgerStore(pool), uuid.uuid4().hex, PgPeek(pool))
