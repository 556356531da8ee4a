"""Fixtures of the finance integration tests: one app and one set of users per session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from puhui.stack.config import StackConfig
from services.finance.bootstrap import Finance
from tests.integration.finance.harness import Payouts, Staff, finance_app


@pytest.fixture(scope="session")
async def finance_client(stack: StackConfig) -> AsyncIterator[tuple[Finance, httpx.AsyncClient]]:
    finance, client = await finance_app(stack.database_url)
    # the throttle remembers failed sign-ins per address for an hour (FORGET_AFTER), and every
    # run signs in from the same test client: an earlier run's failures are not this run's
    await finance.pool.execute("delete from finance_sign_in_failures")
    try:
        yield finance, client
    finally:
        await client.aclose()
        await finance.pool.close()


@pytest.fixture(scope="session")
async def staff(finance_client: tuple[Finance, httpx.AsyncClient]) -> Staff:
    made = Staff()
    await made.create(finance_client[0])
    return made


@pytest.fixture
def client(finance_client: tuple[Finance, httpx.AsyncClient]) -> httpx.AsyncClient:
    return finance_client[1]


@pytest.fixture
def payouts(finance_client: tuple[Finance, httpx.AsyncClient]) -> Payouts:
    return Payouts(finance_client[0].pool)
