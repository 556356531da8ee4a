"""The finance page in headless Chromium (Debian's, driven by Playwright; nothing downloads a
browser), over the real services: a feed goes through enrolment, disbursement, relay and
audit; then a preparer signs in, filters the stream, opens a payout's decision trail and
prepares the day's batch; an approver signs in, approves it and downloads the settlement file.

Screenshots of the pages are written to $PUHUI_SCREENSHOTS when it is set (docs/screenshots).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from puhui.engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from services.finance.bootstrap import build
from services.finance.domain.roles import Role
from services.runtime.records import utc_now
from tests.e2e.processes import Services, every_service, payouts_when
from tests.feeds import Feed, simulate
from tests.integration.finance.harness import PASSWORD, Staff
from tests.integration.finance.server import finance_server
from tests.integration.ledger_harness import produce

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SECONDS = 60_000  # Playwright's timeouts are in milliseconds


def _feed(day: date) -> Feed:
    """Three members with cinema tickets and books on `day`; one also certified."""
    feed = Feed()
    before, on = (day - timedelta(days=1)).isoformat(), day.isoformat()
    for n in range(3):
        feed.register(n, at=f"{before}T09:00:00+08:00")
        feed.issue(n, at=f"{before}T10:00:00+08:00")
        feed.swipe(n, "7832", 4500 + 100 * n, f"{on}T19:3{n}:00+08:00")
        feed.swipe(n, "5942", 10_000, f"{on}T12:0{n}:00+08:00")
    feed.certify(1, "senior_technician", f"{on}T10:00:00+08:00")
    return feed


async def _users(database_url: str, staff: Staff) -> None:
    finance = await build(database_url, load_catalogue(), utc_now)
    try:
        await staff.create(finance)
    finally:
        await finance.pool.close()


@pytest.fixture
def services(stack: StackConfig) -> Iterator[Services]:
    with every_service(stack) as running:
        yield running


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("PUHUI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sign_in(page: Page, staff: Staff, role: Role) -> None:
    page.fill("input[name=username]", staff.name(role))
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#who-name")).to_have_text(f"{staff.name(role)} ({role.value})")


def _until(page: Page, selector: str, seconds: int = 60) -> None:
    """Reload until `selector` is there: the audit trail fills in asynchronously."""
    for _ in range(seconds):
        if page.locator(selector).count():
            return
        page.wait_for_timeout(1000)
        page.reload()
        page.wait_for_load_state("networkidle")
    expect(page.locator(selector).first).to_be_visible()


def test_sign_in_filter_trail_prepare_approve_and_download(
        stack: StackConfig, services: Services, tmp_path: Path) -> None:
    day = date(2100, 1, 1) + timedelta(days=random.randrange(200 * 365))
    feed = _feed(day)
    owed = simulate(feed)
    asyncio.run(produce(stack.bootstrap_servers, feed.lines))
    staff = Staff()
    asyncio.run(_users(stack.database_url, staff))
    paid = asyncio.run(payouts_when(stack.database_url, feed.prefix, len(owed), 120))
    assert paid == owed
    cinema = {payout_id for payout_id, _, programme, _ in paid if programme == "cinema"}

    with finance_server(stack, tmp_path / "serve.log") as base, sync_playwright() as driver:
        browser = driver.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, accept_downloads=True, viewport={"width": 1400, "height": 900},
            timezone_id="Asia/Shanghai", locale="en-GB")
        browser.set_default_timeout(SECONDS)
        page = browser.new_page()
        page.goto(base)
        expect(page.locator("#sign-in")).to_be_visible()
        _shot(page, "sign-in")
        _sign_in(page, staff, Role.PREPARER)

        # the stream, filtered to one member
        member = feed.member(1)
        page.fill("#filters input[name=member_id]", member)
        page.click("#filters button[type=submit]")
        expect(page.locator("#payouts tbody tr")).to_have_count(3)  # cinema, books, award
        for row in page.locator("#payouts tbody tr").all():
            expect(row).to_contain_text(member)
        expect(page.locator("#payouts")).to_contain_text("skill_upgrade")
        _shot(page, "stream")

        # a payout's decision trail
        page.locator("#payouts tbody tr", has_text="cinema").locator("a").first.click()
        expect(page.locator("#trace")).to_contain_text("matched")
        _until(page, "#trail .decision")
        expect(page.locator("#trail")).to_contain_text("paid")
        _shot(page, "payout-trail")

        # prepare the day's cinema batch
        page.goto(f"{base}/#/settlement")
        page.select_option("#prepare select[name=programme]", "cinema")
        page.fill("#prepare input[name=day]", day.isoformat())
        page.click("#prepare button[type=submit]")
        expect(page.locator("#batch-status")).to_have_text("prepared")
        batch_id = page.url.split("#/batch/", 1)[1]
        expect(page.locator("#approve-batch")).to_have_count(0)  # a preparer may not approve
        page.click("#sign-out")

        # another person approves it and downloads the settlement file
        _sign_in(page, staff, Role.APPROVER)
        page.goto(f"{base}/#/batch/{batch_id}")
        page.click("#approve-batch")
        expect(page.locator("#batch-status")).to_have_text("approved")
        with page.expect_download() as download:
            page.click("#export")
        saved = tmp_path / "settlement.csv"
        download.value.save_as(saved)
        expect(page.locator("#batch-status")).to_have_text("exported")
        _shot(page, "batch")
        lines = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
        assert {line["payout_id"] for line in lines} == cinema
        assert {line["batch_id"] for line in lines} == {batch_id}
        assert all(line["direction"] == "credit" for line in lines)

        # who did it, from the hash-chained audit trail
        page.goto(f"{base}/#/audit")
        _until(page, f"#audit tr:has-text('{staff.name(Role.APPROVER)}')")
        expect(page.locator("#audit")).to_contain_text("batch_approved")
        expect(page.locator("#audit")).to_contain_text(f"{staff.name(Role.PREPARER)} (preparer)")
        _shot(page, "audit")
        for name in ("totals", "held", "settlement"):
            page.goto(f"{base}/#/{name}")
            page.wait_for_load_state("networkidle")
            _shot(page, name)
        browser.close()
