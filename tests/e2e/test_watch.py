"""The watch on the real broker, as a process, reading card transactions and payouts: the
planted week raises its four signals with their figures and nothing else (the burst of
purchases the ledger paid nothing on among them); SIGKILLed in the middle of a window and
started again, its tables come back from their changelogs and the window's signal is raised
exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from puhui.stack.config import StackConfig
from puhui.synthetic.planted import BURST_SHOP, EXPECTED, FRIDAY, partition_of, planted_week
from tests.e2e.watch_process import Watch, forget_signals, signals, watch_process
from tests.integration.ledger_harness import produce

Line = tuple[str, dict[str, Any]]
PLANTED_KEYS = sorted({e.key for e in EXPECTED} | {"M-ZZMETRO", "M-ZZBUS", "M-CINEMA-01",
                                                   "M-BOOKS-01"})


def _on(watch: Watch, lines: Sequence[Line]) -> list[tuple[str, bytes, bytes]]:
    """The lines on the watch's own topics: card transactions keyed by card, as the bank
    keys them, payouts by member, as the ledger does."""
    return [(watch.topic, str(value["card_id"]).encode(), orjson.dumps(value))
            if topic == "card.transactions" else
            (watch.payouts_topic, str(value["member_id"]).encode(), orjson.dumps(value))
            for topic, value in lines]


def test_the_planted_week_raises_each_pattern_once_with_its_figures(
        stack: StackConfig, tmp_path: Path) -> None:
    week = planted_week()
    # the days before Friday are taken first: a burst is judged against them, and their
    # pairs of purchase and payout are joined on partitions of their own, in any order
    before = [line for line in week if not str(line[1]["occurred_at"]).startswith(str(FRIDAY))]
    asyncio.run(forget_signals(stack.database_url, PLANTED_KEYS))
    with watch_process(stack, tmp_path) as watch:
        watch.start()
        asyncio.run(produce(stack.bootstrap_servers, _on(watch, before)))
        asyncio.run(watch.wait_for_swipes(len(before)))  # each card line, each payout's pair
        asyncio.run(produce(stack.bootstrap_servers, _on(watch, week[len(before):])))
        asyncio.run(watch.wait_for_swipes(len(week)))
        rows = asyncio.run(signals(stack.database_url, PLANTED_KEYS))
        raised = {rule: watch.metric("puhui_signals_total", f'rule="{rule}"')
                  for rule in ("merchant_burst", "subsidy_maximising", "refund_ratio",
                               "card_velocity")}
        paired = watch.subsidised()
    got = {(r["rule"], r["key"], r["window_start"]): _figures(r) for r in rows}
    assert got == {(e.rule, e.key, datetime.fromisoformat(e.window_start)): e.figures
                   for e in EXPECTED}
    assert raised == dict.fromkeys(raised, 1.0)
    assert paired == sum(1 for topic, _ in week if topic == "payouts")


def test_killed_mid_window_the_watch_recovers_and_raises_the_window_once(
        stack: StackConfig, tmp_path: Path) -> None:
    history, burst = _burst_feed()
    asyncio.run(forget_signals(stack.database_url, [BURST_SHOP[0]]))
    since = asyncio.run(_outbox_count(stack.database_url, 0))
    with watch_process(stack, tmp_path) as watch:
        watch.start()
        first = history + burst[:40]  # 20 purchases, each with its payout
        asyncio.run(produce(stack.bootstrap_servers, _on(watch, first)))
        asyncio.run(_until(watch, len(first)))
        watch.kill()  # 20 of the window's purchases counted, offsets maybe not committed
        watch.start()
        # the 21st to 29th, then the 30th alone (its pair crosses), then the rest: which
        # subsidised purchase crosses does not hang on the order the pairs are joined in
        for part, at_least in ((burst[40:58], 18), (burst[58:60], 20), (burst[60:], 40)):
            asyncio.run(produce(stack.bootstrap_servers, _on(watch, part)))
            asyncio.run(_after_restart(watch, at_least=at_least))
        watch.kill()  # after the signal: a restart must not raise it again
        watch.start()
        asyncio.run(_after_restart(watch, at_least=0))
        again = watch.metric("puhui_signals_total", 'rule="merchant_burst"')
        rows = asyncio.run(signals(stack.database_url, [BURST_SHOP[0]]))
        outbox = asyncio.run(_outbox_count(stack.database_url, since))
    assert [(r["rule"], _figures(r)["purchases"]) for r in rows] == [("merchant_burst", 30)]
    # the 30th purchase of the window crossed: neither fewer (state lost) nor more (counted
    # twice) were counted before it
    assert rows[0]["observed_at"] == datetime.fromisoformat(burst[58][1]["occurred_at"])
    assert again == 0.0
    assert outbox == 1


async def _until(watch: Watch, want: int, seconds: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while watch.merchant_swipes() < want:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.2)


async def _after_restart(watch: Watch, at_least: int, seconds: float = 120) -> None:
    """Until the restarted watch has recovered and taken at least `at_least` swipes (its count
    starts at 0 and includes replays), and then 4 s without another."""
    deadline = asyncio.get_running_loop().time() + seconds
    while watch.metric("puhui_service_up", 'service="watch"') < 1:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.5)
    last, still = -1.0, 0
    while still < 8:  # 4 s without a new swipe
        now = watch.merchant_swipes()
        still = still + 1 if now == last and now >= at_least else 0
        last = now
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.5)


def _burst_feed() -> tuple[list[Line], list[Line]]:
    """A week of 5 sales a day at the small bookshop, then 40 in 8 minutes on Friday; all on
    one card partition, so they reach the watch in this order; each followed by its payout."""
    cards = [c for c in (f"C-K{n:05d}" for n in range(2000)) if partition_of(c) == 0]
    history: list[Line] = []
    for back in range(7, 0, -1):
        day = FRIDAY - timedelta(days=back)
        for n in range(5):
            history += _paid(_sale(len(history), cards[n], day, 10 * 3600 + 600 * n))
    burst = [line for n in range(40)
             for line in _paid(_sale(100 + n, cards[50 + n], FRIDAY, 14 * 3600 + 20 * 60 + 12 * n))]
    return history, burst


def _paid(sale: Line) -> list[Line]:
    value = sale[1]
    return [sale, ("payouts", {
        "payout_id": f"pay_{value['event_id']}", "member_id": f"mem_{value['card_id']}",
        "programme": "books", "amount_fen": int(value["amount_fen"]) // 5, "kind": "payout",
        "source_event_id": value["event_id"], "transaction_id": value["transaction_id"],
        "period": "2027", "occurred_at": value["occurred_at"],
        "trace": [{"rule": "matched", "outcome": "books: mcc 5942 purchase",
                   "amount_fen": int(value["amount_fen"]) // 5}]})]


def _sale(n: int, card: str, day: date, second: int) -> Line:
    at = f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+08:00"
    return ("card.transactions", {
        "event_id": f"00000000-0000-4000-a000-{n:012d}", "type": "purchase",
        "transaction_id": f"K{day:%m%d}{n:06d}", "card_id": card, "amount_fen": 2000 + n,
        "currency": "CNY", "merchant_id": BURST_SHOP[0], "merchant_name": BURST_SHOP[1],
        "mcc": BURST_SHOP[2], "occurred_at": at})


def _figures(row: asyncpg.Record) -> dict[str, float]:
    figures = row["figures"]
    return dict(orjson.loads(figures) if isinstance(figures, str) else figures)


async def _outbox_count(dsn: str, since: int) -> int:
    """The signals of the bookshop sent through the outbox since `since` signals were."""
    conn = await asyncpg.connect(dsn)
    try:
        count: int = await conn.fetchval(
            "select count(*) from outbox_messages where topic = 'puhui.signals' and key = $1",
            BURST_SHOP[0].encode())
        return count - since
    finally:
        await conn.close()

