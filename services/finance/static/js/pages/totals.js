// Totals per programme per day and per month, budgets used and left, and their burn-down.
import { t } from "../i18n.js";
import { cny, count, el, getJSON, num, page, programmeTitle, table, today, render } from "../core.js";
import { burnDown, stacked } from "../charts.js";

const net = (rows) => rows.reduce((a, r) => a + r.paid_fen - r.clawed_back_fen, 0);
function exhaustion(b) {
  if (b.exhausted_on) return t("totals.burn.exhausted_on", { day: b.exhausted_on });
  return b.projected_exhaustion ? t("totals.burn.projected", { day: b.projected_exhaustion }) : t("totals.burn.lasts");
}
async function showTotals(_, params) {
  const month = params.get("month") || today().slice(0, 7);
  const [year, m] = month.split("-").map(Number);
  const [data, burns] = await Promise.all([getJSON(`/api/totals?year=${year}&month=${m}`), getJSON(`/api/burndown?year=${year}`)]);
  const picker = el("input", { type: "month", value: month, id: "month", "aria-label": t("totals.month") });
  picker.addEventListener("change", () => { location.hash = `#/totals?month=${picker.value}`; });
  const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
  const days = Array.from({ length: last }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`);
  const months = Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, "0")}-01`);
  const chosen = params.get("programme") || (burns.find((b) => b.spent.length) || burns[0] || {}).programme;
  const select = el("select", { id: "burn-programme", "aria-label": t("totals.burn.programme") },
    burns.map((b) => el("option", { value: b.programme, selected: b.programme === chosen }, programmeTitle(b.programme))));
  select.addEventListener("change", () => { location.hash = `#/totals?month=${month}&programme=${select.value}`; });
  const burn = burns.find((b) => b.programme === chosen);
  const card = (key, value, args = {}) => el("div", { class: "card" }, el("small", {}, t(key, args)), el("b", {}, value));
  render(
    el("div", { class: "row" }, el("h2", {}, t("totals.title")), picker),
    el("div", { class: "cards", id: "totals-cards" },
      card("totals.card.month_paid", cny(net(data.daily)), { month }),
      card("totals.card.month_count", count(data.daily.reduce((a, r) => a + r.payouts, 0)), { month }),
      card("totals.card.year_paid", cny(net(data.monthly)), { year })),
    el("h3", {}, t("totals.daily", { month })),
    el("div", { class: "panel" }, stacked("daily-chart", data.daily, days, (r) => r.day, (k) => k.slice(5), programmeTitle, true)),
    el("h3", {}, t("totals.monthly", { year })),
    el("div", { class: "panel" }, stacked("monthly-chart", data.monthly, months, (r) => r.month, (k) => t("totals.month_label", { m: Number(k.slice(5, 7)) }), programmeTitle, false)),
    el("div", { class: "row" }, el("h3", {}, t("totals.burn.title", { year })), select),
    burn ? el("div", { class: "panel" }, el("p", { id: "exhaustion" }, exhaustion(burn)), burnDown("burn-chart", burn, programmeTitle)) : null,
    el("h3", {}, t("totals.budgets", { year })),
    table({ id: "budgets" }, [{ key: "totals.col.programme" }, { key: "totals.col.budget", num: true }, { key: "totals.col.used", num: true },
      { key: "totals.col.left", num: true }, { key: "totals.col.share", num: true }, { key: "totals.col.exhaustion" }],
    data.budgets.map((b) => {
      const made = burns.find((x) => x.programme === b.programme);
      return el("tr", {}, el("td", {}, programmeTitle(b.programme)), num(cny(b.budget_fen)), num(cny(b.used_fen)), num(cny(b.left_fen)),
        num(b.budget_fen ? `${(b.used_fen * 100 / b.budget_fen).toFixed(1)}%` : "—"), el("td", {}, made ? exhaustion(made) : ""));
    })));
}
page("totals", { nav: "nav.totals", order: 20, show: showTotals });
