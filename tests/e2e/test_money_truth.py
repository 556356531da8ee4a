"""Money truth end to end: a generated feed of 2,000 members full of the feeds' accidents
(puhui/synthetic/accidents.py), every message sent twice, through the four services as
processes. Its payouts (member, programme, amount, source event) equal `puhui simulate` on
the same feed in the order it was sent: three times, each on a fresh stack, and once more
while the ledger services are killed in the middle of every phase."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Iterator

import asyncpg
import orjson
import pytest

from engine.decisions import ClawedBack, Paid
from engine.simulator import Simulator
from puhui.stack import lifecycle
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError
from puhui.synthetic.accidents import Phase, accident_feed
from schemas.decode import Invalid, decode
from services.runtime.probes import held_key_known
from tests.e2e.processes import Services
from tests.integration.ledger_harness import produce
from tests.stack_fixture import migrate

Payout = tuple[str, str, str, int, str]
"""(payout id, member, programme, amount, source event)."""
PAYOUTS = """
select payout_id, member_id, programme, amount_fen, source_event_id from payouts
where member_id like $1
"""
RECORDED = "select count(*) from processed_events where event_id = any($1::text[])"
MEMBERS = 2_000


@pytest.fixture(scope="module")
def phases() -> list[Phase]:
    return accident_feed(MEMBERS, seed=2027, prefix="truth")


@pytest.fixture(scope="module")
def owed(phases: list[Phase]) -> set[Payout]:
    """What simulate pays for the phases, one after another."""
    simulator = Simulator()
    found = set()
    for phase in phases:
        for topic, value in phase:
            event = decode(topic, orjson.dumps(value))
            assert not isinstance(event, Invalid), event
            for d in simulator.feed(event):
                if isinstance(d, Paid | ClawedBack):
                    p = d.to_payout()
                    found.add((p.payout_id, p.member_id, p.programme, p.amount_fen,
                               p.source_event_id))
    assert simulator.held() == []
    return found


@pytest.fixture
def fresh(stack: StackConfig) -> Iterator[StackConfig]:
    """A stack of its own beside the tier's, purged before each run."""
    config = dataclasses.replace(
        stack, home=stack.home.with_name(stack.home.name + "-truth"),
        kafka_port=stack.kafka_port + 11, controller_port=stack.controller_port + 11,
        pg_port=stack.pg_port + 11, prometheus_port=stack.prometheus_port + 11)
    yield config
    lifecycle.down(config, lambda _line: None, purge=True)


async def _run(config: StackConfig, phases: list[Phase], kill: bool) -> set[Payout]:
    await _fresh_stack(config)
    await migrate(config.database_url)  # as the owner: services do not migrate
    services = Services(config)
    for name in ("enrolment", "disbursement", "audit", "relay"):
        services.start(name)
    rng = random.Random(7)
    try:
        for phase in phases:
            await produce(config.bootstrap_servers, phase)
            if kill:
                await _kill_midway(config, services, rng)
            await _recorded(config, phase)
        conn = await asyncpg.connect(config.database_url)
        try:
            rows = await conn.fetch(PAYOUTS, "truth-%")
            assert sum((await held_key_known(conn)).values()) == 0
            assert await conn.fetchval(
                "select count(*) from held_events where released_at is null") == 0
        finally:
            await conn.close()
        assert services.all_alive()
    finally:
        services.stop_all()
    return {(r[0], r[1], r[2], r[3], r[4]) for r in rows}


async def _fresh_stack(config: StackConfig) -> None:
    """Purge and start the stack (off this event loop: its commands run one of their own). A
    broker stopped a moment ago may hold its ports a little longer: wait for them, boundedly."""
    await asyncio.to_thread(lifecycle.down, config, lambda _line: None, purge=True)
    for attempt in range(10):
        try:
            await asyncio.to_thread(lifecycle.up, config, lambda _line: None)
            return
        except StackError:
            if attempt == 9:
                raise
            await asyncio.sleep(3)


async def _kill_midway(config: StackConfig, services: Services, rng: random.Random) -> None:
    """SIGKILL a ledger service once it has started on the phase, then start it again."""
    await asyncio.sleep(rng.uniform(0.5, 2.0))
    name = rng.choice(("enrolment", "disbursement"))
    services.kill(name)
    await asyncio.sleep(0.5)
    services.start(name)


async def _recorded(config: StackConfig, phase: Phase, seconds: float = 240.0) -> None:
    """Wait until every event of `phase` is recorded."""
    ids = sorted({str(value["event_id"]) for _topic, value in phase})
    deadline = asyncio.get_running_loop().time() + seconds
    got = 0
    while asyncio.get_running_loop().time() < deadline:
        try:
            conn = await asyncpg.connect(config.database_url)
            try:
                got = int(await conn.fetchval(RECORDED, ids))
            finally:
                await conn.close()
        except (OSError, asyncpg.PostgresError):
            got = 0
        if got == len(ids):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{got} of {len(ids)} events recorded in {seconds:.0f} s")


async def test_three_fresh_stacks_pay_what_simulate_pays(fresh: StackConfig,
                                                         phases: list[Phase],
                                                         owed: set[Payout]) -> None:
    assert len(owed) > 20_000
    for _ in range(3):
        paid = await _run(fresh, phases, kill=False)
        assert len(paid) == len(owed)
        assert paid == owed


async def test_killed_services_still_pay_what_simulate_pays(fresh: StackConfig,
                                                            phases: list[Phase],
                                                            owed: set[Payout]) -> None:
    paid = await _run(fresh, phases, kill=True)
    assert paid - owed == set()
    assert owed - paid == set()
