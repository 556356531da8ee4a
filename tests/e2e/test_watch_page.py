"""The Watch page in headless Chromium, over real processes: the watch raises a card-velocity
signal from a feed on the broker; an approver opens it, marks it reviewed with a note; the
relay and the audit service carry the action into the hash-chained trail, which
`puhui audit verify` checks, note included."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import orjson
import pytest
from playwright.sync_api import expect, sync_playwright

from puhui.stack.config import StackConfig
from services.finance.api.messages import catalogue
from services.finance.domain.roles import Role
from tests.e2e import processes
from tests.e2e.processes import Services, audit_chain_verifies
from tests.e2e.test_finance_page import Run, _until
from tests.e2e.watch_process import watch_process
from tests.integration.finance.harness import Staff
from tests.integration.finance.server import finance_server
from tests.integration.ledger_harness import produce

MERCHANTS = (("M-ZZMETRO", "4111"), ("M-ZZBUS", "4131"), ("M-CINEMA-01", "7832"),
             ("M-BOOKS-01", "5942"))
FINANCE_PORT = 46801
NOTED = """
select trace from audit_trail where decision = 'signal_reviewed' and source_topic = 'finance'
order by seq desc limit 20
"""


@pytest.fixture
def carriers(stack: StackConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The relay and the audit service: what takes a finance action into the trail (their
    /metrics on ports of this test's own)."""
    monkeypatch.setattr(processes, "_next_port", iter(range(46120, 46150)))
    running = Services(stack)
    for name in ("relay", "audit"):
        running.start(name)
    try:
        yield running
    finally:
        running.stop_all()


def _velocity(card: str, topic: str, payouts: str) -> list[tuple[str, bytes, bytes]]:
    """One card at four merchants in five minutes, each purchase paid a subsidy."""
    lines = []
    for n, (merchant, mcc) in enumerate(MERCHANTS):
        value = {"event_id": str(uuid.uuid4()), "type": "purchase",
                 "transaction_id": f"P{uuid.uuid4().hex[:12]}", "card_id": card,
                 "amount_fen": 4000, "currency": "CNY", "merchant_id": merchant,
                 "merchant_name": merchant, "mcc": mcc,
                 "occurred_at": f"2027-04-02T19:0{2 * n + 1}:00+08:00"}
        lines.append((topic, card.encode(), orjson.dumps(value)))
        paid = {"payout_id": f"pay_{value['event_id']}", "member_id": "mem_page",
                "programme": "books", "amount_fen": 100, "kind": "payout",
                "source_event_id": value["event_id"], "transaction_id": value["transaction_id"],
                "period": "2027-04", "occurred_at": value["occurred_at"],
                "trace": [{"rule": "matched", "outcome": "a test's payout", "amount_fen": 100}]}
        lines.append((payouts, b"mem_page", orjson.dumps(paid)))
    return lines


async def _signal_of(dsn: str, card: str, seconds: float = 120) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(int(seconds * 2)):
            found = await conn.fetchval("select signal_id from watch_signals where key = $1", card)
            if found:
                return str(found)
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    raise AssertionError(f"the watch raised no signal for {card}")


async def _noted(dsn: str, note: str, seconds: float = 60) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(int(seconds * 2)):
            for trace in await conn.fetch(NOTED):
                steps = orjson.loads(trace[0]) if isinstance(trace[0], str) else trace[0]
                if {"rule": "note", "outcome": note} in [
                        {"rule": s["rule"], "outcome": s["outcome"]} for s in steps]:
                    return True
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return False


def test_a_signal_is_shown_reviewed_with_a_note_and_the_note_is_in_the_trail(
        stack: StackConfig, carriers: Services, tmp_path: Path) -> None:
    card = f"C-PAGE-{uuid.uuid4().hex[:8]}"
    note = f"checked with the bank: a card-sharing family, no abuse ({uuid.uuid4().hex[:6]})"
    with watch_process(stack, tmp_path) as watch:
        watch.start()
        feed = _velocity(card, watch.topic, watch.payouts_topic)
        asyncio.run(produce(stack.bootstrap_servers, feed))
        signal_id = asyncio.run(_signal_of(stack.database_url, card))
    staff = Staff()
    asyncio.run(staff.create_in(stack.database_url))
    with finance_server(stack, tmp_path / "serve.log", FINANCE_PORT) as base, \
            sync_playwright() as driver:
        run = Run(driver, base, "zh-CN", tmp_path)  # the page's default language
        browser = run.browser("watch")
        page = run.page(browser)
        run.sign_in(page, staff, Role.APPROVER)
        zh, en = run.words, catalogue("en")
        expect(page.locator("#nav")).to_contain_text(zh["nav.watch"])
        page.goto(f"{base}/#/watch")
        row = page.locator("#signals tbody tr", has_text=card)
        expect(row).to_contain_text(zh["watch.rule.card_velocity"])
        expect(row).to_contain_text(f"{zh['watch.figure.merchants']} 4")
        run.shot(page, "watch")
        row.locator("a").click()
        expect(page.locator("#watch-chart[data-ready] canvas").first).to_be_visible()
        expect(page.locator("#signal-status")).to_have_text(zh["signal_status.open"])
        run.no_english(page)
        page.fill("#signal-note", note)
        page.click("#signal-review")
        expect(page.locator("#signal-status")).to_have_text(zh["signal_status.reviewed"])
        expect(page.locator("#signal-note-shown")).to_contain_text(note)
        run.shot(page, "watch-signal")
        page.click("#language")  # the English switch: the same signal in the other catalogue
        expect(page.locator("#signal-status")).to_have_text(en["signal_status.reviewed"])
        expect(page.locator("#view h2")).to_contain_text(en["watch.rule.card_velocity"])
        page.goto(f"{base}/#/audit")
        _until(page, f"#audit tr:has-text('{signal_id}')")
        expect(page.locator("#audit")).to_contain_text(note)
        browser.close()
    assert run.errors == []
    assert asyncio.run(_noted(stack.database_url, note))
    verdict = audit_chain_verifies(stack)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
