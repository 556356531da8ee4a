"""`puhui simulate` sharded across worker processes gives one process's output, byte for byte:
the payout lines, the summary's figures, the bad lines, what is still held and the budgets;
a purchase programme's budget that binds is read exactly across the shards; where sharding
could still differ (a birthday budget that binds, keys tying two shards) it falls back."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.catalogue import Catalogue, load_catalogue
from engine.simulator import Simulator
from puhui.shards.route import Conflict, Line, Router
from puhui.shards.run import Result, run_sharded
from puhui.shards.worker import Chunk, Shard
from puhui.simulate import _numbered, run
from puhui.simulate_report import BadLines, Tally
from puhui.synthetic.accidents import accident_feed
from puhui.synthetic.feed import FeedPlan, feed
from schemas.card_transactions import CardTransaction
from schemas.clock_days import DayStarted
from tests.unit.engine.test_properties import catalogues, feeds

CATALOGUE = load_catalogue()
EXAMPLES = int(os.environ.get("PUHUI_SHARD_EXAMPLES", "40"))
"""Hypothesis feeds of `test_any_feed_is_the_same_sharded` (more when hunting a bug)."""


def _lines(pairs: Any) -> bytes:
    return b"".join(orjson.dumps({"topic": t, "value": v}) + b"\n" for t, v in pairs)


def _one(text: bytes, catalogue: Catalogue) -> tuple[bytes, Tally, BadLines, Simulator]:
    out, tally, bad, simulator = io.BytesIO(), Tally(), BadLines(), Simulator(catalogue)
    for _ in run(_numbered(io.BytesIO(text)), simulator, out, tally, bad):
        pass
    return out.getvalue(), tally, bad, simulator


def _sharded(text: bytes, catalogue: Catalogue, shards: int = 2,
             chunk: int = 4_096) -> tuple[bytes, Result]:
    out = io.BytesIO()

    def again() -> Iterator[tuple[int, bytes]]:
        return _numbered(io.BytesIO(text))

    result = run_sharded(again, catalogue, shards, out, lambda _: None, chunk)
    return out.getvalue(), result


def _same(text: bytes, catalogue: Catalogue = CATALOGUE, shards: int = 2,
          chunk: int = 4_096) -> Result:
    """Assert the sharded run equals one process in everything `puhui simulate` shows."""
    lines, tally, bad, simulator = _one(text, catalogue)
    sharded, result = _sharded(text, catalogue, shards, chunk)
    assert sharded == lines
    assert {k: (r.payouts, r.clawbacks, r.net_fen, r.members_paid)
            for k, r in result.tally.rows.items()} == {
        k: (r.payouts, r.clawbacks, r.net_fen, r.members_paid) for k, r in tally.rows.items()}
    assert result.bad.count == bad.count
    assert [(i.event_id, i.held_key) for i in result.held] == [
        (i.event_id, i.held_key) for i in simulator.held()]
    assert {k: v for k, v in result.budget_spent.items() if v} == {
        k: v for k, v in simulator.ledger.budget_spent.items() if v}
    return result


@pytest.fixture(scope="module")
def generated() -> bytes:
    plan = FeedPlan(members=1_500, cards=1_200, days=6, start_date=date(2027, 2, 5), seed=11,
                    duplicates_rate=0.05)
    return _lines(feed(plan))


def test_a_generated_feed_is_the_same_sharded(generated: bytes) -> None:
    result = _same(generated, chunk=700)
    assert result.fell_back_at is None  # the fast path applied all the way


def test_three_shards_are_the_same(generated: bytes) -> None:
    assert _same(generated, shards=3, chunk=1_000).fell_back_at is None


def test_purchase_budgets_that_bind_are_read_exactly_across_shards(generated: bytes) -> None:
    tiny = CATALOGUE.with_budgets({"green_commute": 20_000, "return_trip": 90_000})
    for shards in (2, 3):
        result = _same(generated, tiny, shards=shards, chunk=500)
        assert result.fell_back_at is None  # decided in the shards all the way
        assert result.budget_spent[("green_commute", 2027)] == 20_000  # it did bind
        assert result.budget_spent[("return_trip", 2027)] == 90_000


def test_a_shard_slow_to_start_reading_budgets_across_is_waited_for(
        generated: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where budgets start to be read across shards, a shard publishes its progress only
    once what it spent before is logged: a slow one is waited for, not read short (which
    the merge caught as "read differently", falling back at line 2,918 of this feed)."""
    read_exactly = Shard.read_exactly

    def slow(self: Shard, number: int) -> None:
        if self.index == 1:
            time.sleep(0.3)
        read_exactly(self, number)

    monkeypatch.setattr(Shard, "read_exactly", slow)  # the workers fork with it
    tiny = CATALOGUE.with_budgets({"green_commute": 20_000, "return_trip": 90_000})
    assert _same(generated, tiny, chunk=500).fell_back_at is None


def test_a_birthday_budget_that_binds_falls_back_and_is_the_same(generated: bytes) -> None:
    """A day tick pays in every shard at once, so its budget is not read across them."""
    tiny = CATALOGUE.with_budgets({"birthday": 3_000})
    result = _same(generated, tiny, chunk=500)
    assert result.fell_back_at is not None  # a shard denied a gift for its own budget


def test_a_worker_that_fails_leaves_one_process_to_finish(generated: bytes,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that dies (a bug, a kill) does not hang the run: one process takes over from
    the last line written."""
    take = Shard.take

    def failing(self: Shard, done: Chunk, entry: Line) -> None:
        if self.index == 1 and entry[0] >= 2_000:
            raise RuntimeError("a bug in a worker")
        take(self, done, entry)

    monkeypatch.setattr(Shard, "take", failing)  # the workers fork with it
    result = _same(generated, chunk=500)
    assert result.fell_back_at is not None
    assert "puhui-shard-1 ended with exit code 1" in result.why


def test_late_cards_blocks_before_issues_replaced_cards_and_resends_are_the_same() -> None:
    """The money-truth feed: swipes before their card's issue (held, let go to the member's
    shard just before it), blocks before issues, cards replaced mid-quarter, refunds before
    purchases, late registrations, and every message twice."""
    text = _lines(line for phase in accident_feed(members=400, seed=3) for line in phase)
    assert _same(text, chunk=900).fell_back_at is None


def test_cards_never_issued_stay_held_in_their_order() -> None:
    text = _lines(line for phase in accident_feed(members=300, seed=8)[:2] for line in phase)
    result = _same(text, chunk=300)
    assert result.held
    assert result.fell_back_at is None


def test_bad_lines_are_reported_in_their_place() -> None:
    good = _lines(feed(FeedPlan(members=40, cards=30, days=1, start_date=date(2027, 2, 8))))
    lines = good.splitlines(keepends=True)
    lines[5:5] = [b"not json\n", b'{"topic": "card.transactions", "value": {"type": "x"}}\n']
    lines[60:60] = [b'{"topic": "clock.days", "value": {"event_id": 1}}\n', b"[]\n"]
    assert _same(b"".join(lines), chunk=16).bad.count == 4


def test_a_card_reissued_to_another_shards_member_falls_back() -> None:
    router, lines = Router(2), _lines(_reissue()).splitlines()
    for number, line in enumerate(lines[:3], 1):
        router.route(number, line)
    with pytest.raises(Conflict, match="line 4"):
        router.route(4, lines[3])
    assert _same(_lines(_reissue())).fell_back_at == 4


def _reissue() -> list[tuple[str, dict[str, Any]]]:
    def enrol(n: int, kind: str, member: str, **extra: Any) -> tuple[str, dict[str, Any]]:
        return ("member.enrolment", {
            "event_id": f"00000000-0000-4000-8000-{n:012d}", "type": kind, "member_id": member,
            "occurred_at": "2027-02-10T09:00:00+08:00", **extra})

    person = {"birth_date": "1990-01-01", "union_branch": "b", "name": "n"}
    return [enrol(1, "member_registered", "m1", **person),
            enrol(2, "member_registered", "m2", **person),
            enrol(3, "card_issued", "m1", card_id="c1"),
            enrol(4, "card_issued", "m2", card_id="c1")]


def _event_lines(events: list[Any], garbage: list[int]) -> bytes:
    lines = []
    for event in events:
        topic = ("card.transactions" if isinstance(event, CardTransaction) else
                 "clock.days" if isinstance(event, DayStarted) else "member.enrolment")
        value = event.model_dump(mode="json", exclude_none=True)
        lines.append(orjson.dumps({"topic": topic, "value": value}) + b"\n")
    for at in garbage:
        lines.insert(at % (len(lines) + 1), b'{"topic": "member.enrolment", "value": {}}\n')
    return b"".join(lines)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(feeds(), catalogues(), st.lists(st.integers(0, 100), max_size=2),
       st.sampled_from((2, 3)), st.sampled_from((3, 7, 4_096)))
def test_any_feed_is_the_same_sharded(events: list[Any], catalogue: Catalogue,
                                      garbage: list[int], shards: int, chunk: int) -> None:
    """Small worlds where everything ties members together: cards reissued to another
    member, transaction ids reused across cards, resends, tight limits and budgets."""
    _same(_event_lines(events, garbage), catalogue, shards, chunk)
