// Every decision about a member: why they got, or did not get, an amount.
import { t } from "../i18n.js";
import { badge, el, getJSON, id, money, num, page, programme, table, view, when, render } from "../core.js";
import { reason } from "../trace.js";

async function showMember(memberId) {
  const form = el("form", { class: "filters", id: "member-form" },
    el("label", {}, t("member.field"), el("input", { name: "member", value: memberId || "", placeholder: t("member.hint"), required: true })),
    el("button", { type: "submit" }, t("member.submit")));
  form.addEventListener("submit", (e) => { e.preventDefault(); location.hash = `#/member/${encodeURIComponent(form.elements.member.value)}`; });
  render(el("h2", {}, t("member.title")), form);
  if (!memberId) return;
  const data = await getJSON(`/api/members/${encodeURIComponent(memberId)}/decisions`);
  const headings = ["member.col.when", "member.col.decision", "member.col.programme", "member.col.reason", "member.col.amount", "member.col.source", ""]
    .map((key) => ({ key, num: key === "member.col.amount" }));
  view().append(el("h3", {}, id(data.member_id), " ", data.member_name || "", t("common.colon"), t("member.count", { n: data.decisions.length })),
    data.decisions.length ? table({ id: "decisions" }, headings, data.decisions.map((d) => el("tr", {},
      el("td", {}, when(d.occurred_at)), el("td", {}, badge("decision", d.decision)), el("td", {}, programme(d.programme)),
      el("td", {}, reason(d.reason, d.trace)), num(money(d.amount_fen)), el("td", {}, t(`topic.${d.source_topic}`, { fallback: d.source_topic })),
      el("td", {}, el("a", { href: `#/decision/${encodeURIComponent(d.audit_id)}` }, t("member.why")))))) : el("p", { class: "empty" }, t("member.empty")));
}
page("member", { nav: "nav.member", order: 30, show: showMember });
