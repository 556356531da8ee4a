"""Cross-site attacks on a signed-in approver, in Debian's headless Chromium (issue #15).

The approver signs in to `puhui finance serve` on 127.0.0.1:42811; a page of another origin
of the same site (another port of 127.0.0.1, served by a tiny HTTP server here) then tries to
approve a prepared batch: a form post (urlencoded and text/plain), `fetch` in `no-cors` mode
with the cookie (empty, and with an untyped body), and framing the app. A browser that kept
HTTP Basic credentials tries the same form post. Every attempt is refused, judged by the
database (the batch stays prepared, approved by no one), not only by answers; then the
approver's own page approves it, under the same Content-Security-Policy and CSRF checks.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from services.finance.api.messages import catalogue
from services.finance.bootstrap import build
from services.finance.domain.roles import Role
from services.finance.domain.staff import Staff as Person
from services.runtime.records import utc_now
from tests.integration.finance.harness import PASSWORD, Payouts, Staff
from tests.integration.finance.server import finance_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
APP_PORT, EVIL_PORT = 42811, 42911
SECONDS = 60_000


def _attacks(app: str, batch_id: str) -> dict[str, str]:
    """The attacker's pages, by path: each tries to approve `batch_id` on `app`."""
    approve = f"{app}/api/batches/{batch_id}/approve"
    form = """<form id="f" method="post" action="{url}" enctype="{kind}" target="sink">
<input name="{name}" value="{value}"></form><iframe name="sink"></iframe>
<script>document.getElementById("f").submit()</script>"""
    fetches = f"""<script>
const target = {approve!r};
Promise.allSettled([
  fetch(target, {{method: "POST", mode: "no-cors", credentials: "include"}}),
  fetch(target, {{method: "POST", mode: "no-cors", credentials: "include",
                  body: new Blob(['{{"programme":"books","day":"2300-01-01"}}'])}}),
  fetch({app + "/api/batches"!r}, {{method: "POST", mode: "no-cors", credentials: "include",
                  headers: {{"Content-Type": "text/plain"}},
                  body: '{{"programme":"books","day":"2300-01-01"}}'}}),
]).then(() => {{ document.title = "fetched"; }});
</script>"""
    return {
        "/form": form.format(url=approve, kind="application/x-www-form-urlencoded",
                             name="a", value="1"),
        "/plain": form.format(url=approve, kind="text/plain", name='{"a":"', value='"}'),
        "/fetch": fetches,
        "/frame": f'<iframe id="app" src="{app}/#/batch/{batch_id}" width="900" height="600">'
                  "</iframe>",
    }


@pytest.fixture
def evil_site() -> Iterator[dict[str, str]]:
    """A page server on another port: pages are put into the returned dict by path."""
    pages: dict[str, str] = {}

    class Pages(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the handler's own name
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", EVIL_PORT), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield pages
    finally:
        server.shutdown()
        server.server_close()


async def _prepared_batch(database_url: str, staff: Staff) -> tuple[Payouts, str]:
    """Users, and one prepared books batch of a far day (by the preparer)."""
    finance = await build(database_url, load_catalogue(), utc_now)
    try:
        await staff.create(finance)
        payouts = Payouts(finance.pool)
        await payouts.add(1_500)
        await payouts.add(2_500, member=2)
        preparer = Person(staff.name(Role.PREPARER), Role.PREPARER)
        return payouts, await finance.settlement.prepare(preparer, "books", payouts.day)
    finally:
        await finance.pool.close()


async def _batch(database_url: str, batch_id: str) -> tuple[str, str | None, int]:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("select status, approved_by from settlement_batches "
                                  "where batch_id = $1", batch_id)
        batches = await conn.fetchval("select count(*) from settlement_batches "
                                      "where business_day = '2300-01-01'")
    finally:
        await conn.close()
    assert row is not None
    return row["status"], row["approved_by"], int(batches)


def _batch_now(database_url: str, batch_id: str) -> tuple[str, str | None, int]:
    """`_batch` from a thread of its own: Playwright's sync API runs a loop in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, _batch(database_url, batch_id)).result()


def _sign_in(page: Page, staff: Staff, role: Role) -> None:
    page.fill("input[name=username]", staff.name(role))
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in button[type=submit]")
    role_word = catalogue("zh-CN")[f"role.{role.value}"]  # the page speaks Chinese first
    expect(page.locator("#who-name")).to_have_text(f"{staff.name(role)}（{role_word}）")


def test_pages_of_another_origin_cannot_approve_a_batch(
        stack: StackConfig, evil_site: dict[str, str], tmp_path: Path) -> None:
    staff = Staff()
    _, batch_id = asyncio.run(_prepared_batch(stack.database_url, staff))
    before = _batch_now(stack.database_url, batch_id)
    assert before[:2] == ("prepared", None)
    with finance_server(stack, tmp_path / "serve.log", port=APP_PORT) as app, \
            sync_playwright() as driver:
        evil_site.update(_attacks(app, batch_id))
        evil = f"http://127.0.0.1:{EVIL_PORT}"
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(SECONDS)
        console: list[str] = []
        context.on("console", lambda message: console.append(message.text))
        page = context.new_page()
        page.goto(app)
        _sign_in(page, staff, Role.APPROVER)

        attacker = context.new_page()
        for path in ("/form", "/plain"):
            with attacker.expect_response(lambda r: "/approve" in r.url) as answer:
                attacker.goto(evil + path)
            assert answer.value.status in (403, 415), path
        attacker.goto(evil + "/fetch")
        expect(attacker).to_have_title("fetched")
        attacker.goto(evil + "/frame")
        attacker.wait_for_timeout(1500)
        framed = attacker.frame_locator("#app")
        expect(framed.locator("#who-name")).to_have_count(0)
        assert any("frame-ancestors" in line for line in console), console

        # a browser that kept Basic credentials for the app sends them with the form post
        basic = browser.new_context(extra_http_headers={"Authorization": "Basic " + base64.
                                    b64encode(f"{staff.name(Role.APPROVER, 2)}:{PASSWORD}"
                                              .encode()).decode()})
        remembered = basic.new_page()
        with remembered.expect_response(lambda r: "/approve" in r.url) as answer:
            remembered.goto(evil + "/form")
        assert answer.value.status in (401, 403)
        basic.close()

        # nothing was approved, nothing prepared
        assert _batch_now(stack.database_url, batch_id) == before

        # the approver's own page still works under the same checks
        console.clear()
        page.goto(f"{app}/#/batch/{batch_id}")
        page.reload()
        page.click("#approve-batch")
        expect(page.locator("#batch-status")).to_have_attribute("data-status", "approved")
        assert not [line for line in console if "Content Security Policy" in line], console
        browser.close()
    status, approved_by, _ = _batch_now(stack.database_url, batch_id)
    assert (status, approved_by) == ("approved", staff.name(Role.APPROVER))
