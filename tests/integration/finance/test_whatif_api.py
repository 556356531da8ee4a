"""What if through the finance API on the real stack: a bad catalogue is refused naming its
key and starts nothing; a viewer may not start a run; two runs are queued and both finish,
the one under the catalogue in force with every difference zero for a recorded feed's
member, the other with what the changed catalogue changes (runs scoped to the feed's member
prefix: the database and topics are shared with other tests)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from puhui.stack.config import StackConfig
from services.finance.bootstrap import Finance
from services.finance.domain.roles import Role
from tests.feeds import Feed
from tests.integration.finance.harness import Staff
from tests.integration.ledger_harness import produce, running_services, wait_for


@pytest.fixture
async def working(finance_client: tuple[Finance, httpx.AsyncClient]) -> AsyncIterator[Finance]:
    finance = finance_client[0]
    assert finance.whatif is not None
    worker = asyncio.create_task(finance.whatif.work())  # httpx's transport runs no lifespan
    try:
        yield finance
    finally:
        finance.whatif.stop_all()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def _done(client: httpx.AsyncClient, staff: Staff, run_id: int) -> dict[str, Any]:
    for _ in range(600):
        run: dict[str, Any] = (await client.get(f"/api/whatif/runs/{run_id}",
                                                auth=staff.auth(Role.ADMIN))).json()
        if run["state"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run['state']}")


async def test_a_bad_catalogue_is_refused_naming_the_key(client: httpx.AsyncClient,
                                                         staff: Staff, working: Finance) -> None:
    in_force = (await client.get("/api/whatif/catalogue", auth=staff.auth(Role.ADMIN))).json()
    bad = in_force["catalogue"].replace("cap_fen = 3_000", "cap_fen = -3_000")
    before = len((await client.get("/api/whatif/runs", auth=staff.auth(Role.ADMIN))).json())
    refused = await client.post("/api/whatif/runs", auth=staff.auth(Role.ADMIN),
                                json={"catalogue": bad, "year": 2027})
    assert refused.status_code == 422
    assert refused.json()["code"] == "catalogue_invalid"
    assert "cap_fen" in refused.json()["detail"]
    viewer = await client.post("/api/whatif/runs", auth=staff.auth(Role.VIEWER),
                               json={"catalogue": in_force["catalogue"], "year": 2027})
    assert viewer.status_code == 403
    after = (await client.get("/api/whatif/runs", auth=staff.auth(Role.ADMIN))).json()
    assert len(after) == before


async def test_two_runs_are_queued_and_both_compare_with_the_ledger(
        client: httpx.AsyncClient, staff: Staff, working: Finance, stack: StackConfig) -> None:
    feed = Feed()
    feed.register(0, at="2027-03-01T09:00:00+08:00")
    feed.issue(0, at="2027-03-01T10:00:00+08:00")
    for day in range(1, 4):
        feed.swipe(0, "7832", 5_000, f"2027-04-{day:02d}T19:00:00+08:00")  # 2 a month paid
    await produce(stack.bootstrap_servers, feed.lines)
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        assert await wait_for(pool, "select count(*) from payouts where member_id = $1",
                              [feed.member(0)], 2) == 2
    in_force = (await client.get("/api/whatif/catalogue", auth=staff.auth(Role.ADMIN))).json()
    changed = in_force["catalogue"].replace("cap_fen = 3_000", "cap_fen = 4_000")
    asked = [(await client.post("/api/whatif/runs", auth=staff.auth(Role.ADMIN),
                                json={"catalogue": text, "year": 2027,
                                      "member_prefix": feed.prefix})).json()
             for text in (in_force["catalogue"], changed)]
    assert asked[1]["state"] == "queued"  # one at a time: the second waits
    assert asked[0]["catalogue_sha256"] != asked[1]["catalogue_sha256"]
    same, more = [await _done(client, staff, run["run_id"]) for run in asked]
    assert same["state"] == more["state"] == "done", (same["error"], more["error"])
    assert same["total"] > 0
    assert 0 < same["done"] <= same["total"]
    assert all(r["difference_fen"] == 0 for r in same["result"]["programmes"])
    assert same["result"]["members"]["compared"] == 1
    cinema = {r["programme"]: r for r in more["result"]["programmes"]}["cinema"]
    assert cinema["paid_today_fen"] == 2 * 3_000  # 5,000 - 990, at most 3,000; 2 a month
    assert cinema["difference_fen"] == 2 * 1_000  # at most 4,000 now
    assert more["result"]["members"]["gaining"] == 1
    assert more["started_by"] == staff.name(Role.ADMIN)
