"""The pure parts of `puhui bench` and of producing a feed: keys, feeds, percentiles, profiles."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path

from puhui.bench.figures import MB, Figures, lines
from puhui.bench.fleet import SERVICES, Fleet
from puhui.bench.latency import Percentiles
from puhui.bench.plan import BenchPlan, stamp_now
from puhui.bench.profile import summary
from puhui.bench.watch_progress import WatchStage
from puhui.synthetic.feed import FeedPlan, daily_feed, feed, population_feed
from schemas.topics import key_of

TODAY = date(2026, 11, 23)


def test_each_inbound_topic_is_keyed_by_its_contract_field() -> None:
    assert key_of("card.transactions", {"card_id": "C00000001"}) == b"C00000001"
    assert key_of("member.enrolment", {"member_id": "M00000002"}) == b"M00000002"
    assert key_of("clock.days", {"date": "2027-02-08"}) == b"2027-02-08"


def test_population_and_days_split_the_feed_without_changing_it() -> None:
    plan = FeedPlan(members=50, cards=40, days=1, start_date=date(2027, 2, 8), seed=3)
    whole = list(feed(plan))
    population = list(population_feed(plan))
    assert whole[:90] == population
    days = list(daily_feed(plan))
    assert days[0][1]["type"] == "day_started"
    assert {v["card_id"] for t, v in days if t == "card.transactions"} <= \
        {v["card_id"] for _, v in population if v["type"] == "card_issued"}


def test_the_bench_population_is_registered_before_today() -> None:
    lines = list(BenchPlan(members=30, cards=20).population(TODAY))
    assert len(lines) == 50
    midnight = datetime(2026, 11, 23, tzinfo=datetime.fromisoformat(
        lines[0][1]["occurred_at"]).tzinfo)
    assert all(datetime.fromisoformat(v["occurred_at"]) < midnight for _, v in lines)


def test_the_card_days_reach_the_events_asked_for() -> None:
    plan = BenchPlan(members=300, cards=200, events=500)
    swipes = [v for t, v in plan.day_lines() if t == "card.transactions"]
    assert len(swipes) == 500


def test_latency_swipes_are_apart_from_the_days_and_stamped_now() -> None:
    swipes = list(islice(BenchPlan(members=300, cards=200).latency_swipes(), 400))
    assert all(s["transaction_id"].startswith("L") for s in swipes)
    assert all(s.get("original_transaction_id", "L").startswith("L") for s in swipes)
    stamped = datetime.fromisoformat(stamp_now(swipes[0])["occurred_at"])
    assert abs(stamped - datetime.now(stamped.tzinfo)) < timedelta(seconds=5)


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    found = Percentiles.of([i / 1000 for i in range(1, 101)])
    assert (found.count, found.p50_ms, found.p95_ms, found.p99_ms, found.max_ms) == \
        (100, 50.0, 95.0, 99.0, 100.0)
    assert Percentiles.of([]).count == 0


def test_profile_summary_counts_own_and_inclusive_time(tmp_path: Path) -> None:
    collapsed = tmp_path / "disbursement.1.collapsed.txt"
    collapsed.write_text("main (a.py:1);decide (b.py:10) 30\n"
                         "main (a.py:1);decide (b.py:12);validate (c.py:3) 50\n"
                         "main (a.py:2) 20\n")
    found = summary([collapsed])
    assert found["self_percent"][0] == ("validate (c.py)", 50.0)
    assert dict(found["inclusive_percent"])["decide (b.py)"] == 80.0
    assert dict(found["inclusive_percent"])["main (a.py)"] == 100.0


def test_the_watch_runs_beside_the_hot_path_unless_left_out(tmp_path: Path) -> None:
    assert Fleet({}, tmp_path, instances=2).names() == \
        ["enrolment", "disbursement", "disbursement-2", "audit", "relay", "watch"]
    assert Fleet({}, tmp_path, watch=False).names() == list(SERVICES)


def test_the_watch_figures_per_card_event_and_without_the_watch() -> None:
    stage = WatchStage(2_000, 12.5, {"card.transactions": 30, "payouts": 4}, 20.0, 0.9,
                       100 * MB, [10])
    assert stage.cpu_us_per_card_event == 450
    assert stage.as_dict()["peak_rss_mb"] == 100.0
    assert WatchStage(0, 1.0).cpu_us_per_card_event is None
    with_watch = Figures({}, (0.0, 0.0, 0.0), watch={"card day": stage})
    assert any(line.startswith("watch, card day: behind by 30 card.transactions, 4 payouts")
               and "450 µs per card event" in line and "nice 10" in line
               for line in lines(with_watch))
    without = Figures({}, (0.0, 0.0, 0.0))
    assert "watch: not run (--without-watch)" in lines(without)
    assert without.as_dict()["watch"] is None
