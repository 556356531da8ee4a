"""The `stack` fixture of the integration and e2e tiers: the real Kafka broker and PostgreSQL
from `puhui stack`, the one the environment names (scripts/test points it at .stack-test on
ports of its own). `up` is idempotent: a running stack is reused, a stopped one started.
Then the schema is migrated as its owner, as `puhui run` does: services no longer migrate."""

from __future__ import annotations

import asyncio

import pytest

from puhui.stack import lifecycle
from puhui.stack.config import StackConfig
from services.runtime import db


@pytest.fixture(scope="session")
def stack() -> StackConfig:
    config = StackConfig.from_env()
    lifecycle.up(config, lambda _line: None)
    asyncio.run(migrate(config.database_url))
    return config


async def migrate(owner_url: str) -> None:
    """`puhui db migrate` as the owner: what must happen before any service starts."""
    pool = await db.create_pool(owner_url, attempts=5)
    try:
        await db.migrate(pool)
    finally:
        await pool.close()
