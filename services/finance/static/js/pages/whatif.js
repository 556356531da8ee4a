// What if: replay the recorded events under another catalogue and compare with the ledger
// (role admin). Paste, upload or edit the catalogue in force; a run waits its turn, shows its
// progress, then its tables and charts: the difference per programme, the change per member,
// and each budget's burn-down by day under both catalogues.
import { t } from "../i18n.js";
import { api, cny, count, el, every, getJSON, id, num, page, programmeTitle, render, said, table, today, when } from "../core.js";
import { chart } from "../charts.js";

const ACTIVE = ["queued", "running"];
const percent = (run) => (run.total ? Math.min(100, Math.floor((run.done * 100) / run.total)) : 0);
const stateOf = (run) => el("span", { class: `badge ${run.state}` }, t(`whatif.state.${run.state}`));

function form(inForce) {
  const text = el("textarea", { id: "whatif-catalogue", rows: 16, spellcheck: "false", "aria-label": t("whatif.catalogue") }, inForce);
  const file = el("input", { type: "file", id: "whatif-file", accept: ".toml,text/plain", "aria-label": t("whatif.upload") });
  file.addEventListener("change", async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  const year = el("input", { type: "number", id: "whatif-year", min: 2000, max: 2099, value: today().slice(0, 4), "aria-label": t("whatif.year") });
  const error = el("p", { class: "error", id: "whatif-error", role: "alert" });
  const reset = el("button", { type: "button", class: "plain", id: "whatif-reset" }, t("whatif.reset"));
  reset.addEventListener("click", () => { text.value = inForce; error.textContent = ""; });
  const made = el("form", { id: "whatif-form" },
    el("p", {}, t("whatif.explain")),
    el("div", { class: "row" }, el("label", {}, t("whatif.upload"), " ", file), el("label", {}, t("whatif.year"), " ", year), reset),
    text, error, el("button", { type: "submit", id: "whatif-start" }, t("whatif.start")));
  made.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const run = await (await api("/api/whatif/runs", { method: "POST", json: { catalogue: text.value, year: Number(year.value) } })).json();
      location.hash = `#/whatif/${run.run_id}`;
    } catch (e) {
      error.textContent = e.code === "catalogue_invalid" ? t("whatif.invalid", { detail: e.message }) : said(e);
    }
  });
  return made;
}

function runsTable(runs) {
  return table({ id: "whatif-runs" }, [{ key: "whatif.col.run" }, { key: "whatif.col.by" }, { key: "whatif.col.asked" }, { key: "whatif.col.year" },
    { key: "whatif.col.catalogue" }, { key: "whatif.col.state" }, { key: "whatif.col.progress", num: true }],
  runs.map((run) => el("tr", {}, el("td", {}, el("a", { href: `#/whatif/${run.run_id}` }, `#${run.run_id}`)), el("td", {}, id(run.started_by)),
    el("td", {}, when(run.asked_at)), num(run.year), el("td", {}, id(run.catalogue_sha256.slice(0, 12))), el("td", {}, stateOf(run)),
    num(run.state === "running" ? `${percent(run)}%` : ""))));
}

function progress(run) {
  const bar = el("progress", { id: "whatif-progress", max: 100, value: percent(run) });
  return el("p", {}, stateOf(run), " ", run.state === "running" ? bar : null, " ",
    run.state === "running" ? t("whatif.read", { done: run.done, total: run.total }) : null,
    run.error ? el("span", { class: "error" }, run.error) : null);
}

function stopButton(run) {
  if (!ACTIVE.includes(run.state)) return null;
  const button = el("button", { type: "button", id: "whatif-stop" }, t("whatif.stop"));
  button.addEventListener("click", async () => { await api(`/api/whatif/runs/${run.run_id}/stop`, { method: "POST" }).catch(() => {}); });
  return button;
}

const yuanAxis = { type: "value", axisLabel: { formatter: (v) => cny(Math.round(v * 100)) } };
function differenceChart(result) {
  const rows = result.programmes;
  return chart("whatif-difference", {
    xAxis: { type: "category", data: rows.map((r) => programmeTitle(r.programme)), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { ...yuanAxis, name: t("whatif.chart.difference") },
    series: [{ name: t("whatif.chart.difference"), type: "bar", data: rows.map((r) => r.difference_fen / 100) }] });
}
function histogramChart(result) {
  const bins = result.members.histogram;
  const label = (b, i) => (bins.length === 9 ? t(`whatif.bin.b${i}`) : b.change);
  return chart("whatif-histogram", {
    tooltip: { trigger: "axis", renderMode: "richText" },
    xAxis: { type: "category", data: bins.map(label), name: t("whatif.chart.change"), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value", name: t("whatif.chart.members"), minInterval: 1 },
    series: [{ name: t("whatif.chart.members"), type: "bar", data: bins.map((b) => b.members) }] });
}
function burnChart(burn, year) {
  const line = (spent, budget) => [[`${year}-01-01`, budget / 100], ...burn.days.map((d) => [d.day, (budget - d[spent]) / 100])];
  const marks = (day, name) => (day ? { symbol: "none", data: [{ xAxis: day, name }], label: { formatter: name } } : undefined);
  return chart("whatif-burn", {
    title: { text: programmeTitle(burn.programme), left: "center", top: 0, textStyle: { fontSize: 14 } },
    legend: { top: 24 },
    xAxis: { type: "time", min: `${year}-01-01`, max: `${year}-12-31`, name: t("chart.axis.date") },
    yAxis: { ...yuanAxis, name: t("chart.axis.left") },
    grid: { left: 100, right: 30, top: 70, bottom: 70 },
    dataZoom: [{ type: "inside" }, { type: "slider", bottom: 10 }],
    series: [
      { name: t("whatif.chart.today"), type: "line", step: "end", symbol: "none", data: line("spent_today_fen", burn.budget_today_fen),
        markLine: marks(burn.exhausted_today, t("whatif.chart.exhausted_today")) },
      { name: t("whatif.chart.new"), type: "line", step: "end", symbol: "none", data: line("spent_new_fen", burn.budget_new_fen),
        markLine: marks(burn.exhausted_new, t("whatif.chart.exhausted_new")) },
    ] }, true);
}

function resultView(run, chosen) {
  const result = run.result;
  if (!result) return null;
  const card = (key, value) => el("div", { class: "card" }, el("small", {}, t(key)), el("b", {}, value));
  const burns = result.burn_down.filter((b) => b.days.length);
  const pick = chosen && burns.some((b) => b.programme === chosen) ? chosen : (burns[0] || {}).programme;
  const select = el("select", { id: "whatif-burn-programme", "aria-label": t("whatif.burn.programme") },
    burns.map((b) => el("option", { value: b.programme, selected: b.programme === pick }, programmeTitle(b.programme))));
  select.addEventListener("change", () => { location.hash = `#/whatif/${run.run_id}?programme=${select.value}`; });
  const burn = burns.find((b) => b.programme === pick);
  const exhausted = (day) => (day ? day : t("whatif.lasts"));
  return el("div", { id: "whatif-result" },
    el("div", { class: "cards" },
      card("whatif.card.difference", cny(result.total_difference_fen)), card("whatif.card.compared", count(result.members.compared)),
      card("whatif.card.gaining", count(result.members.gaining)), card("whatif.card.losing", count(result.members.losing))),
    el("h3", {}, t("whatif.programmes")),
    table({ id: "whatif-programmes" }, [{ key: "whatif.col.programme" }, { key: "whatif.col.today", num: true }, { key: "whatif.col.new", num: true },
      { key: "whatif.col.difference", num: true }, { key: "whatif.col.gaining", num: true }, { key: "whatif.col.losing", num: true },
      { key: "whatif.col.exhausted_today" }, { key: "whatif.col.exhausted_new" }],
    result.programmes.map((r) => {
      const b = result.burn_down.find((x) => x.programme === r.programme) || {};
      return el("tr", {}, el("td", {}, programmeTitle(r.programme)), num(cny(r.paid_today_fen)), num(cny(r.paid_new_fen)),
        num(cny(r.difference_fen)), num(count(r.members_gaining)), num(count(r.members_losing)),
        el("td", {}, exhausted(b.exhausted_today)), el("td", {}, exhausted(b.exhausted_new)));
    })),
    el("div", { class: "panel" }, differenceChart(result)),
    el("h3", {}, t("whatif.histogram")),
    el("div", { class: "panel" }, histogramChart(result)),
    el("div", { class: "row" }, el("h3", {}, t("whatif.burn.title", { year: run.year })), select),
    burn ? el("div", { class: "panel" }, burnChart(burn, run.year)) : null);
}

async function showWhatIf(runId, params) {
  const [inForce, runs] = await Promise.all([getJSON("/api/whatif/catalogue"), getJSON("/api/whatif/runs")]);
  const run = runId ? await getJSON(`/api/whatif/runs/${encodeURIComponent(runId)}`) : null;
  const runBox = el("div", { id: "whatif-run" });
  const listBox = el("div", {}, runsTable(runs));
  const showRun = (shown) => runBox.replaceChildren(el("h3", {}, t("whatif.run", { id: shown.run_id })),
    progress(shown), stopButton(shown) || "", resultView(shown, params.get("programme")) || "");
  if (run) showRun(run);
  render(el("h2", {}, t("whatif.title")), form(inForce.catalogue), el("h3", {}, t("whatif.runs")), listBox, runBox);
  let last = run ? run.state : null;
  every(1000, async () => {
    const now = await getJSON("/api/whatif/runs").catch(() => null);
    if (now) listBox.replaceChildren(runsTable(now));
    if (!run || !ACTIVE.includes(last)) return;
    const fresh = await getJSON(`/api/whatif/runs/${run.run_id}`).catch(() => null);
    if (fresh) { last = fresh.state; showRun(fresh); }
  });
}
page("whatif", { nav: "nav.whatif", order: 70, needs: "plan", show: showWhatIf });
