// The payout stream: filtered, paged by keyset, live (polled every 3 s), exported.
import { language, t } from "../i18n.js";
import { badge, day, el, every, getJSON, id, money, page, programme, state, table, when, render } from "../core.js";

const FILTERS = ["programme", "member_id", "merchant_id", "date_from", "date_to", "status", "min_cny", "max_cny"];
const STATUSES = ["pending", "batched", "exported", "settled", "failed"];
export function streamQuery(params) {
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    const value = params.get(key);
    if (!value) continue;
    if (key.endsWith("_cny")) query.set(key.replace("_cny", "_fen"), Math.round(parseFloat(value) * 100));
    else query.set(key, value);
  }
  return query;
}
export function payoutRow(p, fresh = false) {
  return el("tr", { class: fresh ? "fresh" : "", "data-payout": p.payout_id },
    el("td", {}, when(p.recorded_at)),
    el("td", {}, el("a", { href: `#/payout/${encodeURIComponent(p.payout_id)}` }, id(p.payout_id.slice(0, 13)))),
    el("td", {}, programme(p.programme)),
    el("td", {}, el("a", { href: `#/member/${encodeURIComponent(p.member_id)}` }, id(p.member_id)), " ", p.member_name || ""),
    el("td", {}, p.merchant_name || (p.merchant_id ? id(p.merchant_id) : "")),
    el("td", {}, day(p.occurred_at)),
    el("td", { class: "num" }, money(p.amount_fen), p.needs_own_approval ? el("span", { class: "flag", title: t("stream.large") }, " ⚑") : ""),
    el("td", {}, badge("status", p.status)));
}
const HEADINGS = ["stream.col.recorded", "stream.col.payout", "stream.col.programme", "stream.col.member",
  "stream.col.merchant", "stream.col.day", "stream.col.amount", "stream.col.status"];
export function payoutTable(rows, extra = false, attrs = { id: "payouts" }) {
  const headings = HEADINGS.map((key) => ({ key, num: key === "stream.col.amount" }));
  return table(attrs, extra ? [...headings, {}] : headings, rows);
}
function exportLinks(params) {
  const query = streamQuery(params);
  query.set("lang", language());
  return el("span", { class: "exports" },
    el("a", { id: "export-csv", class: "button plain", href: `/api/payouts.csv?${query}`, download: "payouts.csv" }, t("stream.export.csv")),
    el("a", { id: "export-xlsx", class: "button plain", href: `/api/payouts.xlsx?${query}`, download: "payouts.xlsx" }, t("stream.export.xlsx")));
}
async function showStream(_, params) {
  const label = (key, control) => el("label", {}, t(key), control);
  const form = el("form", { class: "filters", id: "filters" },
    label("stream.filter.programme", el("select", { name: "programme" }, el("option", { value: "" }, t("stream.filter.all")),
      state.programmes.map((p) => el("option", { value: p.name }, language() === "en" ? p.title_en : p.title)))),
    label("stream.filter.member", el("input", { name: "member_id", placeholder: t("stream.filter.member_hint") })),
    label("stream.filter.merchant", el("input", { name: "merchant_id", placeholder: t("stream.filter.merchant_hint") })),
    label("stream.filter.from", el("input", { name: "date_from", type: "date" })),
    label("stream.filter.to", el("input", { name: "date_to", type: "date" })),
    label("stream.filter.status", el("select", { name: "status" }, el("option", { value: "" }, t("stream.filter.any")),
      STATUSES.map((s) => el("option", { value: s }, t(`status.${s}`))))),
    label("stream.filter.min", el("input", { name: "min_cny", type: "number", step: "0.01" })),
    label("stream.filter.max", el("input", { name: "max_cny", type: "number", step: "0.01" })),
    el("button", { type: "submit" }, t("stream.filter.submit")), exportLinks(params));
  for (const key of FILTERS) if (params.get(key)) form.elements[key].value = params.get(key);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const key of FILTERS) if (form.elements[key].value) query.set(key, form.elements[key].value);
    location.hash = `#/stream?${query}`;
  });
  const payouts = payoutTable([]);
  const tbody = payouts.querySelector("tbody");
  const more = el("button", { class: "plain", type: "button", id: "older" }, t("stream.older"));
  const empty = el("p", { class: "empty", id: "stream-empty", hidden: true }, t("stream.empty"));
  render(el("div", { class: "row" }, el("h2", {}, t("stream.title")), el("span", { class: "live" }, t("stream.live"))),
    form, payouts, empty, el("p", {}, more));
  const query = streamQuery(params);
  let next = null;
  let newest = null;
  const shown = new Set();
  const add = (items, where, fresh) => {
    const rows = items.filter((p) => !shown.has(p.payout_id)).map((p) => { shown.add(p.payout_id); return payoutRow(p, fresh); });
    if (where === "top") tbody.prepend(...rows); else tbody.append(...rows);
    empty.hidden = shown.size > 0;
  };
  const older = async () => {
    const q = new URLSearchParams(query);
    if (next) q.set("after", next);
    const data = await getJSON(`/api/payouts?${q}`);
    add(data.items, "bottom", false);
    next = data.next;
    newest = newest || data.newest;
    more.hidden = !next;
  };
  more.addEventListener("click", older);
  await older();
  every(3000, async () => {
    if (!newest) { newest = (await getJSON(`/api/payouts?${query}&limit=1`)).newest; return; }
    const q = new URLSearchParams(query);
    q.set("since", newest);
    const data = await getJSON(`/api/payouts?${q}`);
    add(data.items.reverse(), "top", true);
    newest = data.newest || newest;
  });
}
page("stream", { nav: "nav.stream", order: 10, show: showStream });
