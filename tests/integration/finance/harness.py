"""Finance on the real PostgreSQL: the app in-process over httpx, payouts inserted directly.

The database is shared by every test: ids carry a per-test prefix, users a per-run suffix, and
each test's payouts fall on a day of its own far in the future, so a batch of that programme
and day gathers that test's payouts only.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import asyncpg
import httpx
import orjson

from engine.catalogue import load_catalogue
from engine.periods import start_of_day
from services.finance.api.app import create_app
from services.finance.bootstrap import Finance, build
from services.finance.domain.roles import Role
from services.runtime.records import utc_now

PASSWORD = "correct horse battery"
INSERT_PAYOUT = """
insert into payouts (payout_id, kind, member_id, programme, amount_fen, source_event_id,
                     transaction_id, period, occurred_at, trace, merchant_id, merchant_name)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12)
"""
INSERT_NAME = """
insert into member_names (member_id, name) values ($1, $2)
on conflict (member_id) do update set name = excluded.name
"""


def far_day() -> date:
    """A day no other test uses (years 2300-2999: no real payout is there)."""
    return date(2300, 1, 1) + timedelta(days=random.randrange(700 * 365))


@dataclass
class Payouts:
    """Payouts of one test, all on `day`."""

    pool: asyncpg.Pool
    prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    day: date = field(default_factory=far_day)
    made: list[str] = field(default_factory=list)

    async def add(self, amount_fen: int, programme: str = "books", member: int = 1,
                  merchant: str | None = None, minute: int = 0, name: str | None = None) -> str:
        payout_id = f"{self.prefix}-p{len(self.made)}"
        member_id = f"{self.prefix}-m{member}"
        at = start_of_day(self.day) + timedelta(hours=10, minutes=minute)
        trace = [{"rule": "matched", "outcome": f"{programme}: test", "amount_fen": amount_fen}]
        await self.pool.execute(
            INSERT_PAYOUT, payout_id, "payout" if amount_fen > 0 else "clawback", member_id,
            programme, amount_fen, str(uuid.uuid4()), f"{self.prefix}-t{len(self.made)}",
            self.day.isoformat()[:7], at, orjson.dumps(trace).decode(), merchant,
            None if merchant is None else f"Shop {merchant}")
        if name is not None:
            await self.pool.execute(INSERT_NAME, member_id, name)
        self.made.append(payout_id)
        return payout_id


class Bearer(httpx.Auth):
    """An API token, as scripts send it."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


@dataclass
class Staff:
    """Two users of each role, unique to the run, each with an API token of their own."""

    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    tokens: dict[str, str] = field(default_factory=dict)

    def name(self, role: Role, n: int = 1) -> str:
        return f"{role.value}{n}-{self.suffix}"

    async def create(self, finance: Finance) -> None:
        for role in Role:
            for n in (1, 2):
                name = self.name(role, n)
                await finance.auth.add_user(name, role, PASSWORD)
                self.tokens[name] = (await finance.auth.add_token(name, None, 1, "tests"))[1]

    async def create_in(self, database_url: str) -> None:
        """`create` through a finance built for it and closed after."""
        finance = await build(database_url, load_catalogue(), utc_now)
        try:
            await self.create(finance)
        finally:
            await finance.pool.close()

    def auth(self, role: Role, n: int = 1) -> Bearer:
        return Bearer(self.tokens[self.name(role, n)])


async def finance_app(database_url: str) -> tuple[Finance, httpx.AsyncClient]:
    finance = await build(database_url, load_catalogue(), utc_now)
    app = create_app(lambda: build(database_url, load_catalogue(), utc_now))
    app.state.finance = finance  # httpx's ASGI transport runs no lifespan
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                               base_url="http://finance.test")
    return finance, client


def now() -> datetime:
    return utc_now()
