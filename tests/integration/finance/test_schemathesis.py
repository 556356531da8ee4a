"""Schemathesis against the served OpenAPI schema, signed in as an admin: no server error,
every answer as the schema documents it. Bounded examples per operation (< 2 minutes)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from services.finance.bootstrap import build
from services.finance.domain.roles import Role
from services.runtime.records import utc_now
from tests.integration.finance.harness import PASSWORD, Payouts, Staff
from tests.integration.finance.server import finance_server

# examples per operation: schema-valid requests, and requests that break the schema
EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 15}
# A cursor is opaque text only this server makes, and a programme must be one of the catalogue's:
# the schema cannot say so, so a schema-valid request may rightly get 422. Every other check
# (no server error, documented status codes, content types and response bodies) runs.
OPAQUE = [schemathesis.checks.positive_data_acceptance]


async def _seed(stack: StackConfig, staff: Staff) -> None:
    """Users, and a few payouts so that the answers hold real rows."""
    finance = await build(stack.database_url, load_catalogue(), utc_now)
    try:
        await staff.create(finance)
        made = Payouts(finance.pool)
        for n in range(3):
            await made.add(500 * (n + 1), member=n, name=f"Member {n}", merchant="fuzz-shop")
        await made.add(250_000, programme="skill_upgrade")
    finally:
        await finance.pool.close()


@pytest.fixture(scope="module")
def served(stack: StackConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    staff = Staff()
    asyncio.run(_seed(stack, staff))
    log = tmp_path_factory.mktemp("finance") / "serve.log"
    with finance_server(stack, log) as base:
        signed = httpx.post(f"{base}/api/session", timeout=10,
                            json={"username": staff.name(Role.ADMIN), "password": PASSWORD})
        cookie = signed.headers["set-cookie"].split(";", 1)[0]
        yield f"{base}|{cookie}|{signed.json()['csrf_token']}"
    server_log = log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-5000:]


def _operations(base: str) -> list[schemathesis.APIOperation]:
    loaded = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
    return [result.ok() for result in loaded.get_all_operations()]


def test_the_api_keeps_its_schema_and_never_fails(served: str) -> None:
    """Every operation (but signing out, which would end the session the others use)."""
    base, cookie, csrf = served.split("|", 2)
    operations = [op for op in _operations(base) if op.label != "DELETE /api/session"]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation, mode in itertools.product(operations, EXAMPLES):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES[mode], deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Cookie": cookie, "X-CSRF-Token": csrf},
                                   excluded_checks=OPAQUE)

        try:
            check()
        except Exception as failure:  # noqa: BLE001  # gather every operation's failure, then fail
            failures.append(f"{operation.label} ({mode.value} data): {failure}")
    assert not failures, "\n\n".join(failures)
