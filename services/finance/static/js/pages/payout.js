// A payout and why it has this amount; one decision of the audit trail.
import { t } from "../i18n.js";
import { act, badge, el, getJSON, id, may, money, page, programme, when, render } from "../core.js";
import { reason, steps } from "../trace.js";

export function decisionPanel(d) {
  return el("div", { class: "panel decision", "data-decision": d.decision },
    el("div", { class: "row" }, badge("decision", d.decision), d.programme ? el("b", {}, programme(d.programme)) : d.decision === "denied" ? el("b", {}, t("payout.no_programme")) : null,
      d.reason ? el("span", { class: "reason" }, reason(d.reason, d.trace)) : null,
      money(d.amount_fen), el("span", { class: "muted" }, when(d.occurred_at)),
      el("a", { href: `#/decision/${encodeURIComponent(d.audit_id)}` }, `#${d.seq}`)),
    el("p", { class: "muted" }, t(`topic.${d.source_topic}`, { fallback: d.source_topic }), " ", id(d.source_event_id),
      d.transaction_id ? [t("payout.transaction_of"), id(d.transaction_id)] : "", d.card_id ? [t("payout.card_of"), id(d.card_id)] : ""),
    steps(d.trace));
}
const fact = (key, ...value) => [el("dt", {}, t(key)), el("dd", {}, ...value)];
function approval(p) {
  if (!p.needs_own_approval) return t("common.no");
  return p.approved_by ? t("payout.approved_by", { who: p.approved_by, at: when(p.approved_at) }) : t("payout.needs_approval");
}
async function showPayout(payoutId) {
  const data = await getJSON(`/api/payouts/${encodeURIComponent(payoutId)}`);
  const p = data.payout;
  const path = `/api/payouts/${encodeURIComponent(p.payout_id)}`;
  const actions = el("div", { class: "row" });
  if (p.needs_own_approval && !p.approved_by && may("approve")) {
    actions.append(el("button", { id: "approve-payout", onclick: () => act(`${path}/approve`, "payout.approved") }, t("payout.approve")));
  }
  if (p.status === "failed" && may("settle")) {
    actions.append(el("button", { id: "requeue", onclick: () => act(`${path}/requeue`, "payout.requeued") }, t("payout.requeue")));
  }
  render(
    el("h2", {}, t(`payout.title.${p.kind}`), " ", id(p.payout_id)),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("small", {}, t("payout.amount")), el("b", {}, money(p.amount_fen))),
      el("div", { class: "card" }, el("small", {}, t("payout.programme")), el("b", {}, programme(p.programme))),
      el("div", { class: "card" }, el("small", {}, t("payout.member")), el("b", { id: "member-name" }, p.member_name || "—"),
        el("a", { href: `#/member/${encodeURIComponent(p.member_id)}` }, id(p.member_id))),
      el("div", { class: "card" }, el("small", {}, t("payout.settlement")), el("b", {}, badge("status", p.status)),
        p.batch_id ? el("a", { href: `#/batch/${encodeURIComponent(p.batch_id)}` }, id(p.batch_id)) : t("payout.no_batch"))),
    el("dl", { class: "facts panel" },
      fact("payout.occurred", when(p.occurred_at)), fact("payout.recorded", when(p.recorded_at)),
      fact("payout.period", id(p.period)), fact("payout.transaction", p.transaction_id ? id(p.transaction_id) : "—"),
      fact("payout.merchant", p.merchant_name || "", " ", p.merchant_id ? id(p.merchant_id) : (p.merchant_name ? "" : "—")),
      fact("payout.large", approval(p)), fact("payout.bank", p.bank_reference ? id(p.bank_reference) : p.failure_reason || "—")),
    actions,
    el("h3", {}, t("payout.why")),
    el("div", { class: "panel", id: "trace" }, steps(data.trace)),
    el("h3", {}, t("payout.trail")),
    el("div", { id: "trail" }, data.trail.length ? data.trail.map(decisionPanel) : el("p", { class: "empty" }, t("payout.trail_empty"))));
}
async function showDecision(auditId) {
  const data = await getJSON(`/api/decisions/${encodeURIComponent(auditId)}`);
  const d = data.decision;
  render(
    el("h2", {}, t("decision.title", { seq: d.seq }), " ", badge("decision", d.decision)),
    d.member_id ? el("p", {}, t("decision.member"), el("a", { href: `#/member/${encodeURIComponent(d.member_id)}` }, id(d.member_id)), " ", data.member_name || "") : null,
    decisionPanel(d),
    data.payouts.length ? el("p", { class: "row" }, t("decision.payouts"), data.payouts.map((p) =>
      el("a", { href: `#/payout/${encodeURIComponent(p)}` }, id(p)))) : null);
}
page("payout", { parent: "stream", show: showPayout });
page("decision", { parent: "member", show: showDecision });
