"""The inbound topics keep a year and more; `stack up` sets it on topics that already exist."""

from __future__ import annotations

import asyncio

from puhui.stack import readiness
from puhui.stack.config import StackConfig
from schemas.topics import INBOUND, PAYOUTS

DAY_MS = 24 * 3600 * 1000


def test_existing_topics_are_given_the_configured_retention(stack: StackConfig) -> None:
    bootstrap, names = stack.bootstrap_servers, [*INBOUND, PAYOUTS]
    try:
        asyncio.run(readiness.ensure_topics(bootstrap, inbound_retention_days=401))
        changed = asyncio.run(readiness.topic_retention_ms(bootstrap, names))
    finally:
        asyncio.run(readiness.ensure_topics(bootstrap))
    assert changed == {**{name: 401 * DAY_MS for name in INBOUND}, PAYOUTS: 168 * 3600 * 1000}
    restored = asyncio.run(readiness.topic_retention_ms(bootstrap, names))
    assert {restored[name] for name in INBOUND} == {400 * DAY_MS}
