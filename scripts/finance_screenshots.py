"""Screenshots of the finance pages for docs/screenshots, over the full-scale database.

    .venv/bin/python scripts/finance_screenshots.py [--database D] [--out docs/screenshots]

Runs `puhui finance serve` on that database (load it first: scripts/finance_scale.py --load),
makes two users, and drives Debian's headless chromium through Playwright over the main
pages, preparing and approving one batch on the way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from engine.catalogue import load_catalogue
from puhui.settings import Connections
from services.finance.bootstrap import build
from services.finance.domain.roles import Role
from services.runtime.records import utc_now

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "screenshots only"  # noqa: S105  # throwaway users of the scale database
USERS = {"zhao.min": Role.PREPARER, "wang.li": Role.APPROVER}


async def users(url: str) -> None:
    finance = await build(url, load_catalogue(), utc_now)
    try:
        for name, role in USERS.items():
            await finance.auth.add_user(name, role, PASSWORD)
    finally:
        await finance.pool.close()


def sign_in(page: Page, name: str) -> None:
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#who-name")).to_contain_text(name)


def shoot(page: Page, out: Path, name: str, full: bool = False) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / f"{name}.png"), full_page=full)
    print(out / f"{name}.png")


def pages(base: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as driver:
        browser = driver.chromium.launch_persistent_context(
            profile, executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True, args=ARGS, accept_downloads=True,
            viewport={"width": 1400, "height": 860}, timezone_id="Asia/Shanghai", locale="en-GB")
        browser.set_default_timeout(60_000)
        page = browser.new_page()
        page.goto(base)
        shoot(page, out, "sign-in")
        sign_in(page, "zhao.min")
        page.goto(f"{base}/#/stream?programme=cinema&date_from=2027-03-12&date_to=2027-03-12")
        expect(page.locator("#payouts tbody tr").first).to_be_visible()
        shoot(page, out, "stream")
        page.locator("#payouts tbody tr a").first.click()
        expect(page.locator("#trail .decision").first).to_be_visible()
        shoot(page, out, "payout-trail", full=True)
        page.goto(f"{base}/#/totals?month=2027-03")
        expect(page.locator("#budget-chart")).to_be_visible()
        shoot(page, out, "totals", full=True)
        page.goto(f"{base}/#/held")
        shoot(page, out, "held")
        page.goto(f"{base}/#/settlement")
        page.select_option("#prepare select[name=programme]", "skill_upgrade")
        page.fill("#prepare input[name=day]", "2027-03-26")
        page.click("#prepare button[type=submit]")
        expect(page.locator("#batch-status")).to_have_text("prepared")
        batch = page.url.split("#/batch/", 1)[1]
        page.click("#sign-out")
        sign_in(page, "wang.li")
        page.goto(f"{base}/#/batch/{batch}")
        expect(page.locator("#batch-status")).to_have_text("prepared")
        shoot(page, out, "batch-awaiting-approvals")
        page.goto(f"{base}/#/settlement")
        shoot(page, out, "settlement")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="puhui_scale")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    options = parser.parse_args()
    url = Connections.from_env().database_url.rsplit("/", 1)[0] + "/" + options.database
    asyncio.run(users(url))
    options.out.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "puhui", "finance", "serve", "--port",
                               str(port)], env={**os.environ, "PUHUI_DATABASE_URL": url})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/api/openapi.json"):  # noqa: S310  # loopback
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        pages(base, options.out)
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
