"""Four disbursement instances share the card partitions; a small budget ends at exactly zero."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import asyncpg
import pytest

from puhui.stack.config import StackConfig
from tests.e2e.processes import Services, payouts_when
from tests.feeds import Feed
from tests.integration.ledger_harness import produce

PROGRAMMES = ("return_trip", "green_commute", "cinema", "books", "birthday", "skill_upgrade",
              "craft_award")
BUDGET = 3_050  # 30 rides of 100 fen, then one cut to 50, then denials


def _catalogue(tmp_path: Path, suffix: str) -> Path:
    """The reference catalogue with this run's own programme names (so its budget rows are
    its own) and a green_commute budget of `BUDGET` fen."""
    text = (resources.files("engine") / "default_catalogue.toml").read_text()
    for name in PROGRAMMES:
        text = text.replace(f'name = "{name}"', f'name = "{name}_{suffix}"')
    assert "yearly_budget_fen = 1_200_000_000" in text
    text = text.replace("yearly_budget_fen = 1_200_000_000", f"yearly_budget_fen = {BUDGET}")
    path = tmp_path / "catalogue.toml"
    path.write_text(text)
    return path


@pytest.fixture
def feed() -> Feed:
    return Feed()


@pytest.fixture
def services(stack: StackConfig, feed: Feed, tmp_path: Path) -> Iterator[Services]:
    running = Services(stack, catalogue=_catalogue(tmp_path, feed.prefix))
    running.start("enrolment")
    for i in range(4):
        running.start(f"disbursement-{i}", "disbursement")
    running.start("relay")
    yield running
    running.stop_all()


async def test_four_instances_spend_a_small_budget_to_exactly_zero(
        stack: StackConfig, feed: Feed, services: Services) -> None:
    members = 60
    for n in range(members):
        feed.register(n)
        feed.issue(n)
    for n in range(members):
        for day in (11, 12):
            feed.swipe(n, "4111", 300, f"2027-01-{day}T08:{n % 60:02d}:00+08:00")
    feed.resend_all()
    await produce(stack.bootstrap_servers, feed.lines)
    programme = f"green_commute_{feed.prefix}"
    paid = await payouts_when(stack.database_url, feed.prefix, 31, 120)
    conn = await asyncpg.connect(stack.database_url)
    try:
        spent = await conn.fetchval(
            "select spent_fen from budget_spent where programme = $1 and year = 2027", programme)
        decided = await conn.fetchval(
            "select count(*) from processed_events where event_id = any($1::text[])",
            [value["event_id"] for topic, value in feed.lines if topic == "card.transactions"])
    finally:
        await conn.close()
    amounts = sorted(amount for *_, amount in paid)
    assert spent == BUDGET
    assert sum(amounts) == BUDGET
    assert amounts == [50] + [100] * 30
    assert decided == members * 2  # every ride decided once: the rest were denied
    assert services.all_alive()
