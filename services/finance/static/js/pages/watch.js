// Watch: the watch's signals of possible subsidy abuse, their figures against their thresholds
// (an ECharts bar chart), the merchant's payouts and the ledger's decisions on the examples,
// and an approver's review (with a note) or escalation. A signal is advice: no payout changes.
import { t } from "../i18n.js";
import { api, badge, el, getJSON, id, may, money, notice, num, page, programme, render, said, table, when } from "../core.js";
import { chart } from "../charts.js";

const figure = (name, value) => t("watch.figure_value", { name: t(`watch.figure.${name}`, { fallback: name }), value });
const figures = (values) => Object.entries(values).map(([k, v]) => figure(k, v)).join(t("watch.separator"));
const span = (s) => `${when(s.window_start)} – ${when(s.window_end).slice(11)}`;
const rule = (name) => t(`watch.rule.${name}`, { fallback: name });
const key = (s) => [t(`watch.key.${s.key_kind}`), " ", id(s.key)];

// Which figure crosses which threshold, per rule: [bar, value]; the first is the window's own.
function bars(s) {
  const f = s.figures, th = s.thresholds;
  switch (s.rule) {
    case "merchant_burst":
      return [["window", f.purchases], ["baseline", f.baseline_per_hour],
        ["times_baseline", th.times_baseline * f.baseline_per_hour], ["at_least", th.min_purchases]];
    case "subsidy_maximising":
      return [["share", f.share], ["threshold", th.share_above]];
    case "refund_ratio":
      return [["ratio", f.ratio], ["threshold", th.ratio_above]];
    default:
      return [["merchants", f.merchants], ["at_least", th.min_merchants]];
  }
}
function signalChart(s) {
  const shown = bars(s);
  return chart("watch-chart", {
    tooltip: { trigger: "axis", renderMode: "richText" },
    xAxis: { type: "category", data: shown.map(([name]) => t(`watch.bar.${name}`, { k: s.thresholds.times_baseline })) },
    yAxis: { type: "value" },
    series: [{ type: "bar", name: rule(s.rule), label: { show: true, position: "top" },
      data: shown.map(([, value], i) => ({ value: Math.round(value * 100) / 100, itemStyle: { color: i ? "#94a3b8" : "#c2410c" } })) }] });
}

async function showWatch(signalId) {
  if (signalId) return showSignal(signalId);
  const signals = await getJSON("/api/signals");
  render(el("h2", {}, t("watch.title")), el("p", {}, t("watch.advice")),
    signals.length ? table({ id: "signals" }, ["watch.col.raised", "watch.col.rule", "watch.col.key", "watch.col.window", "watch.col.figures", "watch.col.status"].map((k) => ({ key: k })),
      signals.map((s) => el("tr", {}, el("td", {}, when(s.raised_at)),
        el("td", {}, el("a", { href: `#/watch/${encodeURIComponent(s.signal_id)}` }, rule(s.rule))),
        el("td", {}, key(s)), el("td", {}, span(s)), el("td", { class: "figures" }, figures(s.figures)),
        el("td", {}, badge("signal_status", s.status))))) : el("p", { class: "empty" }, t("watch.none")));
}

async function showSignal(signalId) {
  const path = `/api/signals/${encodeURIComponent(signalId)}`;
  const data = await getJSON(path);
  const s = data.signal;
  const note = el("textarea", { id: "signal-note", rows: 3, maxlength: 2000, placeholder: t("watch.note") });
  const decide = (action) => async () => {
    try {
      await api(`${path}/review`, { method: "POST", json: { action, note: note.value } });
      notice(t(`watch.done.${action}`));
      await showSignal(signalId);
    } catch (e) { notice(said(e), true); }
  };
  const reviewable = s.status !== "reviewed" && may("approve");
  const fact = (label, value, attrs = {}) => [el("dt", {}, t(label)), el("dd", attrs, value)];
  render(
    el("p", {}, el("a", { href: "#/watch" }, t("watch.back"))),
    el("h2", {}, rule(s.rule), t("common.colon"), key(s)),
    el("dl", { class: "facts" },
      fact("watch.status", badge("signal_status", s.status), { id: "signal-status" }),
      fact("watch.window", `${when(s.window_start)} – ${when(s.window_end)}`),
      fact("watch.crossed", when(s.observed_at)),
      fact("watch.figures", figures(s.figures)),
      fact("watch.thresholds", figures(s.thresholds)),
      fact("watch.examples", s.examples.map((x, i) => [i ? " " : "", id(x)])),
      fact("watch.note", s.note ? t("watch.noted", { note: s.note, who: s.reviewed_by, when: when(s.reviewed_at) }) : "—", { id: "signal-note-shown" })),
    el("h3", {}, t("watch.chart")), el("div", { class: "panel" }, signalChart(s)),
    reviewable ? el("div", { class: "row" }, note,
      el("button", { id: "signal-review", type: "button", onclick: decide("reviewed") }, t("watch.review")),
      s.status === "open" ? el("button", { id: "signal-escalate", type: "button", class: "plain", onclick: decide("escalated") }, t("watch.escalate")) : null) : null,
    el("h3", {}, t("watch.payouts")),
    data.payouts.length ? table({ id: "signal-payouts" }, [{ key: "watch.col.when" }, { key: "watch.col.programme" }, { key: "watch.col.member" },
      { key: "watch.col.transaction" }, { key: "watch.col.amount", num: true }],
    data.payouts.map((p) => el("tr", {}, el("td", {}, when(p.occurred_at)), el("td", {}, programme(p.programme)), el("td", {}, id(p.member_id)),
      el("td", {}, p.transaction_id ? id(p.transaction_id) : ""), num(money(p.amount_fen))))) : el("p", { class: "empty" }, t("watch.nothing")),
    el("h3", {}, t("watch.decisions")),
    data.decisions.length ? table({ id: "signal-decisions" }, [{ key: "watch.col.when" }, { key: "watch.col.decision" }, { key: "watch.col.reason" },
      { key: "watch.col.programme" }, { key: "watch.col.transaction" }, { key: "watch.col.amount", num: true }],
    data.decisions.map((d) => el("tr", {}, el("td", {}, when(d.occurred_at)), el("td", {}, badge("decision", d.decision)),
      el("td", {}, d.reason ? t(`reason.${d.reason.split(":")[0]}`, { fallback: d.reason }) : ""), el("td", {}, programme(d.programme)),
      el("td", {}, d.transaction_id ? id(d.transaction_id) : ""), num(money(d.amount_fen))))) : el("p", { class: "empty" }, t("watch.nothing")));
}
page("watch", { nav: "nav.watch", order: 70, show: showWatch });
