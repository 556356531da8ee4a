"""The What if page in headless Chromium over `puhui finance serve` on the real stack: an
admin uploads a catalogue with a bad key and sees the error in place, uploads a changed one,
watches the run's progress and sees the tables and the three charts; in Chinese, then the
same result in English. A viewer has no What if page. Screenshots go to $PUHUI_SCREENSHOTS
when it is set (docs/screenshots)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from puhui.stack.config import StackConfig
from services.finance.api.messages import catalogue
from services.finance.domain.roles import Role
from tests.e2e.test_finance_page import CHROMIUM, CHROMIUM_ARGS, SECONDS
from tests.feeds import Feed
from tests.integration.finance.harness import PASSWORD, Staff
from tests.integration.finance.server import finance_server
from tests.integration.ledger_harness import produce, running_services, wait_for

ZH, EN = catalogue("zh-CN"), catalogue("en")


async def _seed(stack: StackConfig, staff: Staff) -> None:
    """Staff, and one member's cinema tickets recorded through the services."""
    await staff.create_in(stack.database_url)
    feed = Feed()
    feed.register(0, at="2027-03-01T09:00:00+08:00")
    feed.issue(0, at="2027-03-01T10:00:00+08:00")
    feed.swipe(0, "7832", 5_000, "2027-04-02T19:00:00+08:00")
    await produce(stack.bootstrap_servers, feed.lines)
    async with running_services(stack.bootstrap_servers, stack.database_url) as pool:
        await wait_for(pool, "select count(*) from payouts where member_id = $1",
                       [feed.member(0)], 1)


@pytest.fixture(scope="module")
def served(stack: StackConfig,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Staff]]:
    staff = Staff()
    asyncio.run(_seed(stack, staff))
    log = tmp_path_factory.mktemp("finance") / "serve.log"
    with finance_server(stack, log) as base:
        yield base, staff
    assert "Traceback" not in log.read_text(errors="replace")


def _sign_in(page: Page, base: str, name: str) -> None:
    page.goto(base)
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#nav")).to_be_visible()


def _shot(page: Page, name: str) -> None:
    if folder := os.environ.get("PUHUI_SCREENSHOTS"):
        page.wait_for_timeout(800)  # the charts' entry animation
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_upload_a_catalogue_watch_the_run_see_the_result(served: tuple[str, Staff],
                                                         tmp_path: Path) -> None:
    base, staff = served
    reference = resources.files("engine").joinpath("default_catalogue.toml").read_text()
    bad, changed = tmp_path / "bad.toml", tmp_path / "changed.toml"
    bad.write_text(reference.replace("cap_fen = 3_000", "cap_fen = -1"), encoding="utf-8")
    changed.write_text(reference.replace("cap_fen = 3_000", "cap_fen = 4_000"), encoding="utf-8")
    errors: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900},
                                      timezone_id="Asia/Shanghai", locale="zh-CN")
        context.set_default_timeout(2 * SECONDS)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        _sign_in(page, base, staff.name(Role.VIEWER))
        expect(page.locator("#nav a[data-page=totals]")).to_be_visible()
        expect(page.locator("#nav a[data-page=whatif]")).to_have_count(0)
        page.click("#sign-out")
        _sign_in(page, base, staff.name(Role.ADMIN))
        page.click("#nav a[data-page=whatif]")
        expect(page.locator("#view h2")).to_have_text(ZH["whatif.title"])
        expect(page.locator("#whatif-catalogue")).to_have_value(reference)
        page.fill("#whatif-year", "2027")

        page.set_input_files("#whatif-file", str(bad))
        expect(page.locator("#whatif-catalogue")).to_have_value(bad.read_text())
        page.click("#whatif-start")
        expect(page.locator("#whatif-error")).to_contain_text("cap_fen")
        expect(page.locator("#whatif-error")).to_contain_text("项目目录有误")

        page.set_input_files("#whatif-file", str(changed))
        page.click("#whatif-start")
        expect(page.locator("#whatif-run .badge")).to_have_text(
            [ZH["whatif.state.running"]], timeout=SECONDS)  # progress is shown while it runs
        expect(page.locator("#whatif-progress")).to_be_visible()
        _shot(page, "whatif-running")
        expect(page.locator("#whatif-run .badge")).to_have_text(
            [ZH["whatif.state.done"]], timeout=5 * SECONDS)
        # the catalogue's 7, and any other programme the shared test ledger paid
        expect(page.locator("#whatif-programmes tbody tr").nth(6)).to_be_visible()
        cinema = page.locator("#whatif-programmes tbody tr", has_text="特惠观影")
        expect(cinema).to_have_count(1)
        for chart in ("#whatif-difference", "#whatif-histogram", "#whatif-burn"):
            expect(page.locator(f"{chart}[data-ready=true] canvas")).to_have_count(1)
        _shot(page, "whatif")

        page.click("#language")
        expect(page.locator("#view h2")).to_have_text(EN["whatif.title"])
        expect(page.locator("#whatif-run .badge")).to_have_text([EN["whatif.state.done"]])
        expect(page.locator("#whatif-programmes thead")).to_contain_text(EN["whatif.col.new"])
        page.click("#language")  # leave the admin's language as it was
        expect(page.locator("#view h2")).to_have_text(ZH["whatif.title"])
        browser.close()
    assert errors == []
