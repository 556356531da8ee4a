// Puhui finance review, the Watch page: the watch's signals of possible subsidy abuse, their
// figures against their thresholds, and an approver's review (with a note) or escalation.
// Its own file over app.js's helpers (el, api, getJSON, notice, when, money, badge, may).
"use strict";

const WATCH_MESSAGES = {
  title: "Watch: signals of possible subsidy abuse",
  none: "No open signal.",
  advice: "A signal is advice: reviewing or escalating it changes no payout.",
  rules: {
    merchant_burst: "Merchant burst", subsidy_maximising: "Subsidy-maximising amounts",
    refund_ratio: "Refund ratio", card_velocity: "Card velocity",
  },
  columns: ["Raised", "Rule", "Merchant or card", "Window", "Figures", "Status"],
  back: "All open signals",
  note: "Note", review: "Mark reviewed", escalate: "Escalate",
  reviewed: "Signal marked reviewed.", escalated: "Signal escalated.",
  payouts: "The merchant's payouts around the window",
  decisions: "What the ledger decided on the example transactions",
  nothing: "None.",
  chart: "The window against its threshold",
};

// Which figure crosses which threshold, per rule: [figure, threshold (as a figure), label].
function watchBars(s) {
  const f = s.figures, t = s.thresholds;
  switch (s.rule) {
    case "merchant_burst":
      return [["this window", f.purchases], ["baseline per hour", f.baseline_per_hour],
              [`${t.times_baseline} × baseline`, t.times_baseline * f.baseline_per_hour], ["at least", t.min_purchases]];
    case "subsidy_maximising":
      return [["share at the amount", f.share], ["threshold", t.share_above]];
    case "refund_ratio":
      return [["refunds / purchases", f.ratio], ["threshold", t.ratio_above]];
    default:
      return [["distinct merchants", f.merchants], ["at least", t.min_merchants]];
  }
}
function watchChart(s) {
  const bars = watchBars(s);
  const width = 480, height = 160, band = width / bars.length;
  const top = Math.max(...bars.map((b) => b[1]), 1e-9);
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height + 34}`, width: "100%", role: "img", id: "watch-chart" });
  bars.forEach(([label, value], i) => {
    const h = Math.max(1, (value / top) * height);
    const rect = svgNode("rect", { x: i * band + 10, y: height - h + 4, width: band - 20, height: h,
      fill: i === 0 ? "#c2410c" : "#94a3b8" });
    const title = svgNode("title");
    title.textContent = `${label}: ${value}`;
    rect.append(title);
    const text = svgNode("text", { x: i * band + band / 2, y: height + 20, "text-anchor": "middle" });
    text.textContent = `${label}: ${Math.round(value * 100) / 100}`;
    svg.append(rect, text);
  });
  return svg;
}
const watchFigures = (s) => Object.entries(s.figures).map(([k, v]) => `${k} ${v}`).join(", ");

async function showWatch(id) {
  if (id) return showSignal(id);
  const signals = await getJSON("/api/signals");
  const m = WATCH_MESSAGES;
  view().replaceChildren(el("h2", {}, m.title), el("p", {}, m.advice),
    signals.length ? el("table", { id: "signals" },
      el("thead", {}, el("tr", {}, m.columns.map((h) => el("th", {}, h)))),
      el("tbody", {}, signals.map((s) => el("tr", {},
        el("td", {}, when(s.raised_at)),
        el("td", {}, el("a", { href: `#/watch/${encodeURIComponent(s.signal_id)}` }, m.rules[s.rule] || s.rule)),
        el("td", {}, `${s.key_kind} ${s.key}`),
        el("td", {}, `${when(s.window_start)} – ${when(s.window_end).slice(11)}`),
        el("td", { class: "figures" }, watchFigures(s)),
        el("td", {}, badge(s.status)))))) : el("p", {}, m.none));
}

async function showSignal(id) {
  const m = WATCH_MESSAGES;
  const data = await getJSON(`/api/signals/${encodeURIComponent(id)}`);
  const s = data.signal;
  const note = el("textarea", { id: "signal-note", rows: 3, maxlength: 2000, placeholder: m.note });
  const decide = (action) => async () => {
    try {
      await api(`/api/signals/${encodeURIComponent(id)}/review`, { method: "POST", json: { action, note: note.value } });
      notice(action === "reviewed" ? m.reviewed : m.escalated);
      await showSignal(id);
    } catch (e) { notice(e.message, true); }
  };
  const actions = s.status !== "reviewed" && may("approve") ? el("div", { class: "row" }, note,
    el("button", { id: "signal-review", onclick: decide("reviewed") }, m.review),
    s.status === "open" ? el("button", { id: "signal-escalate", class: "plain", onclick: decide("escalated") }, m.escalate) : null) : null;
  view().replaceChildren(
    el("p", {}, el("a", { href: "#/watch" }, m.back)),
    el("h2", {}, `${m.rules[s.rule] || s.rule}: ${s.key_kind} ${s.key}`),
    el("dl", { class: "facts" },
      el("dt", {}, "Status"), el("dd", { id: "signal-status" }, badge(s.status)),
      el("dt", {}, "Window"), el("dd", {}, `${when(s.window_start)} – ${when(s.window_end)}`),
      el("dt", {}, "Crossed at"), el("dd", {}, when(s.observed_at)),
      el("dt", {}, "Figures"), el("dd", {}, watchFigures(s)),
      el("dt", {}, "Thresholds"), el("dd", {}, Object.entries(s.thresholds).map(([k, v]) => `${k} ${v}`).join(", ")),
      el("dt", {}, "Examples"), el("dd", {}, s.examples.join(", ")),
      el("dt", {}, m.note), el("dd", { id: "signal-note-shown" }, s.note ? `${s.note} (${s.reviewed_by}, ${when(s.reviewed_at)})` : "—")),
    el("h3", {}, m.chart), el("div", { class: "panel" }, watchChart(s)),
    actions,
    el("h3", {}, m.payouts),
    data.payouts.length ? el("table", {}, el("tbody", {}, data.payouts.map((p) => el("tr", {},
      el("td", {}, when(p.occurred_at)), el("td", {}, p.programme), el("td", {}, p.member_id),
      el("td", {}, p.transaction_id || ""), el("td", { class: "num" }, money(p.amount_fen)))))) : el("p", {}, m.nothing),
    el("h3", {}, m.decisions),
    data.decisions.length ? el("table", {}, el("tbody", {}, data.decisions.map((d) => el("tr", {},
      el("td", {}, when(d.occurred_at)), el("td", {}, badge(d.decision)), el("td", {}, d.reason || ""),
      el("td", {}, d.programme || ""), el("td", {}, d.transaction_id || ""), el("td", { class: "num" }, money(d.amount_fen)))))) : el("p", {}, m.nothing));
}

ROUTES.watch = showWatch;
