// What is held (and for what), and the dead letters: counts, ages, reasons.
import { t } from "../i18n.js";
import { age, cny, el, getJSON, id, num, page, table, when, render } from "../core.js";

async function showHeld() {
  const [held, dead] = await Promise.all([getJSON("/api/held"), getJSON("/api/dead-letters")]);
  const countCard = (label, c) => el("div", { class: "card" }, el("small", {}, label), el("b", {}, c.count), t("held.oldest", { age: age(c.oldest_age_seconds) }));
  render(
    el("h2", {}, t("held.title")),
    el("div", { class: "cards", id: "held-counts" }, held.counts.length
      ? held.counts.map((c) => countCard(t(`waiting.${c.waiting_for}`, { fallback: c.waiting_for }), c)) : el("p", { class: "empty" }, t("held.empty"))),
    held.items.length ? table({ id: "held" }, ["held.col.since", "held.col.age", "held.col.waiting", "held.col.key", "held.col.type", "held.col.card",
      "held.col.transaction", "held.col.merchant", "held.col.amount"].map((key) => ({ key, num: key === "held.col.amount" })),
    held.items.map((h) => el("tr", {}, el("td", {}, when(h.held_at)), el("td", {}, age(h.age_seconds)),
      el("td", {}, t(`waiting.${h.waiting_for}`, { fallback: h.waiting_for })), el("td", {}, id(h.waiting_key)),
      el("td", {}, h.type ? t(`event.${h.type}`, { fallback: h.type }) : ""), el("td", {}, h.card_id ? id(h.card_id) : ""),
      el("td", {}, h.transaction_id ? id(h.transaction_id) : ""), el("td", {}, h.merchant_name || ""),
      num(h.amount_fen === null ? "" : cny(h.amount_fen))))) : null,
    el("h2", {}, t("dead.title")),
    el("div", { class: "cards", id: "dead-counts" }, dead.counts.length
      ? dead.counts.map((c) => countCard(t("dead.source", { topic: c.source_topic, consumer: c.consumer }), c)) : el("p", { class: "empty" }, t("dead.empty"))),
    dead.items.length ? table({ id: "dead" }, ["dead.col.received", "dead.col.age", "dead.col.source", "dead.col.position", "dead.col.reason", "dead.col.size"]
      .map((key) => ({ key, num: key === "dead.col.size" })),
    dead.items.map((d) => el("tr", {}, el("td", {}, when(d.received_at)), el("td", {}, age(d.age_seconds)),
      el("td", {}, id(d.source_topic), " ", id(d.consumer)), el("td", {}, id(`${d.partition}/${d.offset}`)),
      el("td", { class: "wrap" }, deadReason(d.reason)), num(t("dead.bytes", { n: d.size }))))) : null);
}
// A dead letter's reason is the decoder's words ("invalid JSON: ...", "missing field ..."):
// its first word names the kind, which is said in the reader's language; the details stay.
function deadReason(text) {
  const kind = DEAD_KINDS.find(([, shape]) => shape.test(text));
  return kind ? [t(`dead.reason.${kind[0]}`), " ", el("code", { class: "id detail" }, text)] : el("code", { class: "id detail" }, text);
}
const DEAD_KINDS = [["json", /json/i], ["field", /field|missing|required/i], ["type", /type|invalid|value/i]];
page("held", { nav: "nav.held", order: 40, show: showHeld });
