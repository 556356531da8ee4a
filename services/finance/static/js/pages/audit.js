// What finance staff did, read back from the hash-chained audit trail.
import { t } from "../i18n.js";
import { badge, el, getJSON, id, money, num, page, programme, table, when, render } from "../core.js";
import { sentence } from "../trace.js";

async function showAudit() {
  const actions = await getJSON("/api/audit");
  render(el("h2", {}, t("audit.title")),
    actions.length ? table({ id: "audit" }, ["audit.col.seq", "audit.col.when", "audit.col.who", "audit.col.what", "audit.col.programme", "audit.col.amount", "audit.col.details"]
      .map((key) => ({ key, num: key === "audit.col.amount" })),
    actions.map((a) => el("tr", {}, el("td", {}, a.seq), el("td", {}, when(a.occurred_at)), el("td", {}, actor(a.actor)),
      el("td", {}, badge("decision", a.decision)), el("td", {}, programme(a.programme)), num(money(a.amount_fen)),
      el("td", { class: "wrap" }, a.details.map((d, i) => [i ? "；" : "", sentence(d)]))))) : el("p", { class: "empty" }, t("audit.empty")));
}
// "wang.li (approver)": the name, and the role in the reader's language
function actor(text) {
  const found = /^(.*) \((\w+)\)$/.exec(text || "");
  return found ? [id(found[1]), " ", t("audit.role", { role: found[2] })] : text ? id(text) : "";
}
page("audit", { nav: "nav.audit", order: 60, show: showAudit });
