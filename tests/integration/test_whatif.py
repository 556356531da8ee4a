"""What if: a month recorded through the services, replayed from Kafka against the ledger.

Under the catalogue in force the replay reproduces the ledger (every difference is zero);
under a changed one its differences are what `puhui simulate` gives on the same feed as a
file. Only this feed's members (a prefix) are compared: the topics and the database are
shared with other tests.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from engine.catalogue import parse_catalogue
from engine.decisions import ClawedBack, Paid
from engine.simulator import Simulator
from puhui.simulate import simulate
from puhui.stack.config import StackConfig
from puhui.whatif.kafka_source import RecordedEvents
from puhui.whatif.window import Window
from schemas.decode import Invalid, decode
from tests.feeds import Feed
from tests.integration.ledger_harness import produce, running_services, wait_for

MEMBERS = 24
DAYS = 30


def month_feed() -> Feed:
    """April 2027 for MEMBERS members: metro rides (a 4-a-day limit that binds), cinema
    (2 a month), books, refunds, a reversal, birthdays, a swipe before its card, resends."""
    rng = random.Random(12)  # a test feed that repeats
    feed = Feed()
    for n in range(MEMBERS):
        feed.register(n, birth=f"1980-04-{1 + n % DAYS:02d}", at="2027-03-01T09:00:00+08:00")
        if n != 0:
            feed.issue(n, at="2027-03-01T10:00:00+08:00")
    for day in range(1, DAYS + 1):
        feed.tick(f"2027-04-{day:02d}")
        for n in range(MEMBERS):
            at = f"2027-04-{day:02d}T{{:02d}}:{n % 60:02d}:00+08:00"
            for hour in range(7, 7 + rng.choice((1, 1, 1, 1, 2, 5))):
                mcc = rng.choice(("4111", "4131"))
                feed.swipe(n, mcc, rng.randrange(150, 300), at.format(hour))
            if rng.random() < 0.12:
                ticket = feed.swipe(n, "7832", rng.randrange(3_000, 6_500), at.format(19))
                if rng.random() < 0.2:
                    feed.swipe(n, "7832", 1, at.format(22), "reversal", ticket)
            if rng.random() < 0.05:
                books = feed.swipe(n, "5942", rng.randrange(2_000, 20_000), at.format(12))
                feed.swipe(n, "5942", 1_000, at.format(13), "refund", books)
        if day == 3:
            feed.issue(0, at="2027-03-01T10:00:00+08:00")  # arrives late: its swipes are held
    feed.lines += rng.sample(feed.lines, 40)  # resends, a little later
    return feed


def changed_catalogue() -> str:
    text = resources.files("engine").joinpath("default_catalogue.toml").read_text()
    text = text.replace("cap_fen = 3_000", "cap_fen = 4_000")  # cinema: at most 4,000
    return text.replace("percent = 50\ncap_fen = 100", "percent = 50\ncap_fen = 80")


def simulated(feed: Feed, catalogue_text: str | None) -> dict[str, int]:
    """Net fen per programme that `puhui simulate` gives on the feed as a file."""
    simulator = Simulator(None if catalogue_text is None else parse_catalogue(catalogue_text))
    totals: dict[str, int] = defaultdict(int)
    for topic, value in feed.lines:
        event = decode(topic, orjson.dumps(value))
        assert not isinstance(event, Invalid)
        for decision in simulator.feed(event):
            if isinstance(decision, Paid | ClawedBack):
                totals[decision.programme or ""] += decision.amount_fen
    return dict(totals)


async def record(stack: StackConfig, feed: Feed, payouts: int) -> int:
    garbage = ("card.transactions", feed.card(1).encode(), b"{not json")
    await produce(stack.bootstrap_servers, [*feed.lines[:50], garbage, *feed.lines[50:]])
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        return await wait_for(pool, "select count(*) from payouts where starts_with(member_id, $1)",
                              [feed.prefix], payouts, seconds=120)


def replay(stack: StackConfig, feed: Feed, out: Path, *catalogue: str) -> dict[str, Any]:
    env = {"PUHUI_KAFKA_BOOTSTRAP": stack.bootstrap_servers,
           "PUHUI_DATABASE_URL": stack.database_url}
    args = ["--from-kafka", "--year", "2027", "--against-ledger", "--member-prefix",
            feed.prefix, "--out", str(out), *catalogue]
    result = CliRunner().invoke(simulate, args, env=env)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = orjson.loads((out / "whatif.json").read_bytes())
    return data


@pytest.fixture(scope="module")
def recorded(stack: StackConfig) -> Feed:
    feed = month_feed()
    owed = sum(1 for _ in _money(feed))
    assert asyncio.run(record(stack, feed, owed)) == owed
    return feed


def _money(feed: Feed) -> list[Paid | ClawedBack]:
    simulator = Simulator()
    found: list[Paid | ClawedBack] = []
    for topic, value in feed.lines:
        event = decode(topic, orjson.dumps(value))
        assert not isinstance(event, Invalid)
        found += [d for d in simulator.feed(event) if isinstance(d, Paid | ClawedBack)]
    return found


def test_the_catalogue_in_force_reproduces_the_ledger(stack: StackConfig, recorded: Feed,
                                                      tmp_path: Path) -> None:
    data = replay(stack, recorded, tmp_path)
    assert data["events_fed"] >= len(recorded.lines)
    today = simulated(recorded, None)
    paid = {r["programme"]: r["paid_today_fen"] for r in data["programmes"]}
    assert {p: fen for p, fen in paid.items() if fen} == today
    assert all(r["difference_fen"] == 0 for r in data["programmes"])
    assert data["members"]["gaining"] == data["members"]["losing"] == 0
    assert data["members"]["compared"] == MEMBERS
    assert data["dead_letters_skipped"].get("not_json", 0) >= 1
    assert (tmp_path / "whatif.png").stat().st_size > 10_000
    assert (tmp_path / "programmes.csv").read_bytes().startswith(b"\xef\xbb\xbfprogramme,")


def test_a_changed_catalogue_differs_as_simulate_says(stack: StackConfig, recorded: Feed,
                                                      tmp_path: Path) -> None:
    changed = tmp_path / "changed.toml"
    changed.write_text(changed_catalogue(), encoding="utf-8")
    data = replay(stack, recorded, tmp_path / "out", "--catalogue", str(changed))
    assert data["events_fed"] >= len(recorded.lines)
    today, new = simulated(recorded, None), simulated(recorded, changed_catalogue())
    want = {p: new.get(p, 0) - today.get(p, 0) for p in today.keys() | new.keys()}
    got = {r["programme"]: r["difference_fen"] for r in data["programmes"]}
    assert {p: d for p, d in got.items() if d} == {p: d for p, d in want.items() if d}
    assert got["cinema"] > 0 > got["green_commute"]
    assert data["members"]["losing"] > 0


async def test_every_partition_is_read_from_its_beginning(recorded: Feed,
                                                          stack: StackConfig) -> None:
    # aiokafka places an assigned partition by auto_offset_reset in the background; with
    # "latest" that answer could land after the seek, and about one replay in ten read nothing
    for _ in range(20):
        source = RecordedEvents(stack.bootstrap_servers, Window.year(2027))
        try:
            await source.open()
            positions = await source.positions()
            assert len(positions) >= 3
            assert all(position == start for position, start in positions.values())
        finally:
            await source.close()


def test_an_unreachable_broker_is_one_clear_message() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(simulate, ["--from-kafka", "--year", "2027"],
                                env={"PUHUI_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}"})
    assert result.exit_code == 1
    assert f"no Kafka broker answers at 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
