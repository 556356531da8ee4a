"""The finance page in headless Chromium (Debian's, driven by Playwright; nothing downloads a
browser), over the real services, in both languages: a generated feed and a small feed of
this run go through enrolment, disbursement, relay and audit; then a preparer signs in, sees
the stream, a payout's "why this amount", the totals with their charts, prepares the day's
batch; an approver approves it, exports it (UTF-8 and GB18030 CSV, .xlsx) and imports the
bank's confirmation, made from the GB18030 file; held events and dead letters are shown.

With zh-CN chosen, no text of the page is English except identifiers: checked against every
message of the English catalogue. Screenshots of the Chinese pages are written to
$PUHUI_SCREENSHOTS when it is set (docs/screenshots).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright

from engine.catalogue import load_catalogue
from puhui.stack.config import StackConfig
from puhui.synthetic.feed import FeedPlan, feed
from services.finance.api.messages import LANGUAGES, Language, catalogue
from services.finance.domain.files import BOM
from services.finance.domain.roles import Role
from tests.e2e.processes import Services, every_service, payouts_when
from tests.feeds import Feed, simulate
from tests.integration.finance.harness import PASSWORD, Staff
from tests.integration.finance.server import finance_server
from tests.integration.ledger_harness import produce

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SECONDS = 60_000  # Playwright's timeouts are in milliseconds
NAMES = ("张三丰", "李四", "欧阳娜娜")
MASKED = ("张*丰", "李*", "欧**娜")
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def _feed(day: date) -> Feed:
    """Three members (Chinese names) with cinema tickets and books on `day`; one certified;
    a swipe of a card nobody was issued (held) and a message that is not JSON (dead letter)."""
    made = Feed()
    before, on = (day - timedelta(days=1)).isoformat(), day.isoformat()
    for n in range(3):
        made.register(n, at=f"{before}T09:00:00+08:00")
        made.issue(n, at=f"{before}T10:00:00+08:00")
        made.swipe(n, "7832", 4500 + 100 * n, f"{on}T19:3{n}:00+08:00")
        made.swipe(n, "5942", 10_000, f"{on}T12:0{n}:00+08:00")
    made.certify(1, "senior_technician", f"{on}T10:00:00+08:00")
    made.swipe(9, "7832", 5000, f"{on}T20:00:00+08:00")  # card 9 is never issued: held
    for _topic, value in made.lines:
        if "name" in value:
            value["name"] = NAMES[int(value["member_id"].rsplit("m", 1)[1])]
        if "merchant_name" in value:
            value["merchant_name"] = {"7832": "奥斯卡影城", "5942": "郑州购书中心"}[value["mcc"]]
    return made


def _generated() -> list[tuple[str, dict[str, Any]]]:
    """A seeded synthetic population and a month of swipes (the same every run, so a second
    run is a resend and changes nothing): what the charts and screenshots show."""
    plan = FeedPlan(members=300, cards=240, days=30, start_date=date(2027, 2, 25), seed=16)
    return list(feed(plan))


@pytest.fixture
def services(stack: StackConfig) -> Iterator[Services]:
    with every_service(stack) as running:
        yield running


class Run:
    """One language's walk through the page."""

    def __init__(self, driver: Playwright, base: str, language: Language, tmp: Path) -> None:
        self.driver, self.base, self.language, self.tmp = driver, base, language, tmp
        self.words = catalogue(language)
        self.errors: list[str] = []
        self.shots = os.environ.get("PUHUI_SCREENSHOTS") if language == "zh-CN" else None

    def t(self, key: str, **args: object) -> str:
        return PLACEHOLDER.sub(lambda m: str(args.get(m.group(0)[1:-1].split("|")[0], "")),
                               self.words[key])

    def browser(self, name: str) -> BrowserContext:
        context = self.driver.chromium.launch_persistent_context(
            str(self.tmp / f"{self.language}-{name}"), executable_path=CHROMIUM, headless=True,
            args=[*CHROMIUM_ARGS, f"--lang={self.language}"], accept_downloads=True,
            viewport={"width": 1400, "height": 900}, timezone_id="Asia/Shanghai",
            locale=self.language)
        context.set_default_timeout(SECONDS)
        return context

    def page(self, context: BrowserContext) -> Page:
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda m: self.errors.append(m.text)
                if m.type == "error" and "Content Security Policy" in m.text else None)
        page.goto(self.base)
        return page

    def shot(self, page: Page, name: str) -> None:
        if self.shots:
            Path(self.shots).mkdir(parents=True, exist_ok=True)
            page.wait_for_timeout(600)  # the charts' entry animation
            height = min(2000, page.evaluate("document.documentElement.scrollHeight"))
            page.screenshot(path=str(Path(self.shots) / f"{name}.png"), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1400, "height": height})

    def sign_in(self, page: Page, staff: Staff, role: Role) -> None:
        expect(page.locator("#sign-in h2")).to_have_text(self.t("signin.title"))
        page.fill("input[name=username]", staff.name(role))
        page.fill("input[name=password]", PASSWORD)
        page.click("#sign-in button[type=submit]")
        expect(page.locator("#who-name")).to_have_text(
            self.t("app.who", name=staff.name(role), role=self.words[f"role.{role.value}"]))

    def no_english(self, page: Page) -> None:
        """No message of the English catalogue on the page, and no English word at all
        outside identifiers (`code`) and the switch that names English in English."""
        shown: str = page.evaluate("""() => {
          const copy = document.body.cloneNode(true);
          copy.querySelectorAll("code, script, [hidden], [lang=en]").forEach((n) => n.remove());
          document.body.append(copy); const text = copy.innerText; copy.remove(); return text; }""")
        english = [part.strip() for words in catalogue("en").values()
                   for part in PLACEHOLDER.split(words) if re.search(r"[A-Za-z]{3,}", part)]
        assert len(english) > 200
        assert [e for e in english if e in shown] == []
        # the Chinese catalogue itself names a few formats in Latin letters (CSV, Excel...)
        allowed = {w for words in self.words.values() for w in re.findall(r"[A-Za-z]+", words)}
        latin = [line for line in shown.splitlines()
                 if any(w not in allowed for w in re.findall(r"[A-Za-z]{2,}", line))]
        assert latin == []


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def _walk(run: Run, staff: Staff, made: Feed, day: date, paid: set[tuple[str, str, str, int]]
          ) -> None:
    cinema = {p for p, _, programme, _ in paid if programme == "cinema"}
    cinema_fen = sum(a for _, _, programme, a in paid if programme == "cinema")
    preparer = run.browser("preparer")
    page = run.page(preparer)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")  # Chinese first
    if run.language == "en":
        page.click("#language")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    run.shot(page, "sign-in")
    run.sign_in(page, staff, Role.PREPARER)
    expect(page.locator("#nav a").first).to_have_text(run.t("nav.stream"))

    # the stream of one member: programme titles in the chosen language, never identifiers
    member = made.member(1)
    page.fill("#filters input[name=member_id]", member)
    page.click("#filters button[type=submit]")
    expect(page.locator("#payouts tbody tr")).to_have_count(3)  # cinema, books, award
    titles = {p.name: p.title if run.language == "zh-CN" else p.title_en
              for p in load_catalogue().programmes}
    for name in ("cinema", "books", "skill_upgrade"):
        expect(page.locator("#payouts")).to_contain_text(titles[name])
    expect(page.locator("#payouts")).to_contain_text("¥2,000.00")  # ¥ and thousands
    expect(page.locator("#payouts td.num").first).to_have_css("text-align", "right")
    if run.language == "zh-CN":
        run.no_english(page)
    page.goto(f"{run.base}/#/stream")
    expect(page.locator("#payouts tbody tr").first).to_be_visible()
    run.shot(page, "stream")

    # why this amount: the engine's trace, said in the chosen language
    page.goto(f"{run.base}/#/stream?member_id={member}&programme=cinema")
    page.locator("#payouts tbody tr a").first.click()
    expect(page.locator("#trace li[data-key='trace.matched.purchase']")).to_contain_text(
        run.t("trace.matched.purchase", programme=titles["cinema"], mcc="7832"))
    expect(page.locator("#trace li[data-key='trace.amount.subtract']")).to_contain_text(
        _yuan(min(4600 - 990, 3000)))  # the member pays 9.90, at most 30.00 paid
    expect(page.locator("#trace li[data-key='trace.limit.count.ok']")).to_be_visible()
    _until(page, "#trail .decision")
    expect(page.locator("#trail .decision[data-decision=paid]")).to_contain_text(
        run.t("decision.paid"))
    if run.language == "zh-CN":
        run.no_english(page)
    run.shot(page, "payout-trail")

    # totals and charts: axes, a legend in the chosen language, zoom on the daily series
    page.goto(f"{run.base}/#/totals?month=2027-03&programme=return_trip")
    for chart in ("#daily-chart", "#monthly-chart", "#burn-chart"):
        expect(page.locator(f"{chart}[data-ready]")).to_have_count(1)
    option = page.evaluate("""() => {
      const o = echarts.getInstanceByDom(document.getElementById("daily-chart")).getOption();
      return { legend: o.series.map((s) => s.name), zoom: o.dataZoom.length,
               axis: o.yAxis[0].name }; }""")
    assert set(option["legend"]) >= {titles["green_commute"], titles["cinema"]}
    assert option["zoom"] == 2
    assert option["axis"] == run.t("chart.axis.yuan")
    page.hover("#daily-chart canvas", position={"x": 300, "y": 200})  # a value on hover
    expect(page.locator("#exhaustion")).not_to_be_empty()
    if run.language == "zh-CN":
        run.no_english(page)
    run.shot(page, "totals")

    # held and dead letters
    page.goto(f"{run.base}/#/held")
    expect(page.locator("#held-counts")).to_contain_text(run.t("waiting.card"))
    _until(page, "#dead tbody tr")
    run.shot(page, "held")

    # prepare the day's cinema batch
    page.goto(f"{run.base}/#/settlement")
    page.select_option("#prepare select[name=programme]", "cinema")
    page.fill("#prepare input[name=day]", day.isoformat())
    page.click("#prepare button[type=submit]")
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "prepared")
    expect(page.locator("#batch-status")).to_have_text(run.t("batch_status.prepared"))
    batch_id = page.url.split("#/batch/", 1)[1]
    expect(page.locator("#approve-batch")).to_have_count(0)  # a preparer may not approve
    page.click("#sign-out")
    preparer.close()

    # the language is the person's: a fresh browser shows it before anyone clicks
    again = run.browser("preparer-again")
    page = run.page(again)
    if run.language == "zh-CN":
        run.sign_in(page, staff, Role.PREPARER)
    else:
        page.fill("input[name=username]", staff.name(Role.PREPARER))
        page.fill("input[name=password]", PASSWORD)
        page.click("#sign-in button[type=submit]")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#nav a").first).to_have_text(run.t("nav.stream"))
    again.close()

    # another person approves it, exports it three ways, imports the bank's answer
    approver = run.browser("approver")
    page = run.page(approver)
    if run.language == "en":
        page.click("#language")
    run.sign_in(page, staff, Role.APPROVER)
    page.goto(f"{run.base}/#/batch/{batch_id}")
    run.shot(page, "batch-prepared")
    page.click("#approve-batch")
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "approved")
    files = {name: _download(page, selector, run.tmp / f"{run.language}-{name}.{ext}")
             for name, selector, ext in (("utf8", "#export", "csv"),
                                         ("gb18030", "#export-gb18030", "csv"),
                                         ("xlsx", "#export-xlsx", "xlsx"))}
    expect(page.locator("#batch-status")).to_have_attribute("data-status", "exported")
    run.shot(page, "batch")
    utf8 = files["utf8"].read_bytes()
    assert utf8.startswith(BOM.encode("utf-8"))
    lines = list(csv.DictReader(io.StringIO(utf8.decode("utf-8-sig"))))
    assert {line["payout_id"] for line in lines} == cinema
    assert {line["member_name"] for line in lines} == set(NAMES)  # in clear for an approver
    gb = files["gb18030"].read_bytes()
    assert not gb.startswith(BOM.encode("utf-8"))
    assert list(csv.DictReader(io.StringIO(gb.decode("gb18030")))) == lines
    sheet = openpyxl.load_workbook(files["xlsx"]).active
    assert sheet.freeze_panes == "A2"
    last = sheet.max_row
    assert sheet.cell(last, 1).value == run.t("export.total")
    assert sheet.cell(last, 8).value == cinema_fen
    assert sheet.cell(1, 5).value == run.t("export.col.member_name")

    # the bank answers in GB18030, with a reason in Chinese: one settled, one failed
    settled, failed = lines[0], lines[1]
    answer = "batch_id,payout_id,result,bank_reference,reason\r\n" + \
        f"{batch_id},{settled['payout_id']},settled,BK{random.randrange(10**9)},\r\n" + \
        f"{batch_id},{failed['payout_id']},failed,,账户已销户\r\n" + \
        "".join(f"{batch_id},{line['payout_id']},settled,BK{n},\r\n"
                for n, line in enumerate(lines[2:]))
    confirmation = run.tmp / f"{run.language}-confirmation.csv"
    confirmation.write_bytes(answer.encode("gb18030"))
    page.goto(f"{run.base}/#/settlement")
    page.set_input_files("#confirmation input[type=file]", str(confirmation))
    page.click("#confirmation button[type=submit]")
    expect(page.locator("#notice")).to_contain_text(run.words["settlement.imported"].split("{")[0])
    expect(page.locator("#failed")).to_contain_text(run.t("status.failed"))
    run.shot(page, "settlement")

    # who did it, read back from the hash-chained audit trail
    page.goto(f"{run.base}/#/audit")
    _until(page, f"#audit tr:has-text('{staff.name(Role.APPROVER)}')")
    expect(page.locator("#audit")).to_contain_text(run.t("decision.batch_approved"))
    if run.language == "zh-CN":
        run.no_english(page)
    run.shot(page, "audit")
    approver.close()

    # a viewer sees names masked the Chinese way
    viewer = run.browser("viewer")
    page = run.page(viewer)
    if run.language == "en":
        page.click("#language")
    run.sign_in(page, staff, Role.VIEWER)
    page.goto(f"{run.base}/#/stream?member_id={made.member(2)}")
    expect(page.locator("#payouts tbody tr").first).to_contain_text(MASKED[2])
    expect(page.locator("#payouts")).not_to_contain_text(NAMES[2])
    viewer.close()
    assert run.errors == []


def _download(page: Page, selector: str, to: Path) -> Path:
    with page.expect_download() as download:
        page.click(selector)
    download.value.save_as(to)
    return to


def _until(page: Page, selector: str, seconds: int = 60) -> None:
    """Reload until `selector` is there: the audit trail fills in asynchronously."""
    for _ in range(seconds):
        if page.locator(selector).count():
            return
        page.wait_for_timeout(1000)
        page.reload()
        page.wait_for_load_state("networkidle")
    expect(page.locator(selector).first).to_be_visible()


def test_the_finance_flow_in_chinese_and_in_english(
        stack: StackConfig, services: Services, tmp_path: Path) -> None:
    asyncio.run(produce(stack.bootstrap_servers, _generated()))
    runs = []
    for language in LANGUAGES:
        day = date(2040, 1, 1) + timedelta(days=random.randrange(55 * 365))  # contract: < 2100
        made = _feed(day)
        owed = simulate(made)
        lines: list[Any] = [*made.lines, ("card.transactions", b"x", b"{not json")]
        asyncio.run(produce(stack.bootstrap_servers, lines))
        paid = asyncio.run(payouts_when(stack.database_url, made.prefix, len(owed), 120))
        assert paid == owed
        staff = Staff()  # people of their own: a language is remembered per person
        asyncio.run(staff.create_in(stack.database_url))
        runs.append((language, staff, made, day, paid))
    with finance_server(stack, tmp_path / "serve.log") as base, sync_playwright() as driver:
        for language, staff, made, day, paid in runs:
            _walk(Run(driver, base, language, tmp_path), staff, made, day, paid)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
