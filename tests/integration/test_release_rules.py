"""Rules 1-4 of docs/PRODUCT.md through the running services on the real stack: each feed is
sent in two steps, the second only once the first is recorded, so the services see the
events in the order the rule is about, whichever service decides which."""

from __future__ import annotations

import random

import asyncpg

from puhui.stack.config import StackConfig
from services.runtime.probes import held_key_known
from tests.feeds import Feed
from tests.integration.ledger_harness import produce, running_services, wait_for

HELD = "select count(*) from held_events where event_id = any($1::text[]) and released_at is null"
PAID = """
select source_event_id, transaction_id, amount_fen from payouts where member_id = $1
order by occurred_at, amount_fen desc
"""
DAY = "2027-03-10"


def _ids(feed: Feed) -> list[str]:
    return [str(value["event_id"]) for _topic, value in feed.lines]


async def _paid(stack: StackConfig, first: Feed, second: Feed, held: int,
                member: str) -> list[tuple[str, str | None, int]]:
    """Send `first`, wait until `held` of its events are held, send `second`, and return the
    member's payouts once nothing of either is held any more."""
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        await produce(stack.bootstrap_servers, first.lines)
        assert await wait_for(pool, HELD, [_ids(first)], held) == held
        await produce(stack.bootstrap_servers, second.lines)
        await _settled(pool, _ids(first) + _ids(second))
        rows = await pool.fetch(PAID, member)
        assert sum((await held_key_known(pool)).values()) == 0  # type: ignore[arg-type]
    return [(r["source_event_id"], r["transaction_id"], r["amount_fen"]) for r in rows]


async def _settled(pool: asyncpg.Pool, event_ids: list[str]) -> None:
    """Every event recorded and none still held."""
    query = "select count(*) from processed_events where event_id = any($1::text[])"
    assert await wait_for(pool, query, [event_ids], len(set(event_ids))) == len(set(event_ids))
    assert await pool.fetchval(HELD, event_ids) == 0


async def test_rule_1_a_reversal_between_held_rides_frees_the_next_ride(stack: StackConfig) -> None:
    swipes = Feed()
    rides = [swipes.swipe(0, "4111", 200, f"{DAY}T{7 + i:02d}:00:00+08:00") for i in range(5)]
    reversal = swipes.swipe(0, "4111", 200, f"{DAY}T20:00:00+08:00", "reversal", rides[0])
    rides.append(swipes.swipe(0, "4111", 200, f"{DAY}T21:00:00+08:00"))
    card = Feed(prefix=swipes.prefix)
    card.register(0)
    card.issue(0)
    paid = await _paid(stack, swipes, card, 7, swipes.member(0))
    assert reversal
    assert sorted((tx, amount) for _, tx, amount in paid) == sorted(
        [(rides[i], 100) for i in (0, 1, 2, 3, 5)] + [(rides[0], -100)])


async def test_rule_2_held_honours_are_decided_in_arrival_order(stack: StackConfig) -> None:
    honours = Feed()
    january = honours.honour(0, "technical_pacesetter", "2027-01-15T10:00:00+08:00")
    honours.honour(0, "technical_pacesetter", "2027-02-15T10:00:00+08:00")
    registration = Feed(prefix=honours.prefix)
    registration.register(0, at="2026-06-01T00:00:00+08:00")
    paid = await _paid(stack, honours, registration, 2, honours.member(0))
    assert paid == [(january, None, 200_000)]


async def test_rule_3_a_block_before_the_issue_releases_nothing(stack: StackConfig) -> None:
    first = Feed()
    first.register(0)
    before = first.swipe(0, "4111", 200, f"{DAY}T08:00:00+08:00")
    first.swipe(0, "4111", 200, "2027-03-12T08:00:00+08:00")
    first.block(0, "2027-03-11T00:00:00+08:00")  # the issue has not arrived
    issue = Feed(prefix=first.prefix)
    issue.issue(0, at="2027-03-01T00:00:00+08:00")
    paid = await _paid(stack, first, issue, 2, first.member(0))
    assert [(tx, amount) for _, tx, amount in paid] == [(before, 100)]


async def test_rule_4_a_registration_after_the_tick_pays_that_days_gift(stack: StackConfig) -> None:
    # the tick pays everyone born that day: a day of its own, far from other tests' members
    # (other tests' ticks of the same day in other years pay this member too, by the same
    # rule: only this tick's gift is this test's to check)
    rng = random.Random()
    day = f"{rng.randrange(2060, 2090)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}"
    tick = Feed()
    tick_id = tick.tick(day)
    registration = Feed(prefix=tick.prefix)
    registration.register(0, birth=f"1990-{day[5:]}", at="2027-01-05T09:00:00+08:00")
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        await produce(stack.bootstrap_servers, tick.lines)
        query = "select count(*) from days_started where event_id = $1"
        assert await wait_for(pool, query, [tick_id], 1) == 1
        await produce(stack.bootstrap_servers, registration.lines)
        await _settled(pool, _ids(registration))
        got = await wait_for(pool, "select count(*) from payouts where member_id = $1",
                             [tick.member(0)], 1)
        rows = await pool.fetch(PAID, tick.member(0))
        await pool.execute("delete from days_started where event_id = $1", tick_id)
    assert got >= 1
    paid = [(r["source_event_id"], r["amount_fen"]) for r in rows]
    assert paid.count((tick_id, 10_000)) == 1
    assert all(amount == 10_000 for _source, amount in paid)
