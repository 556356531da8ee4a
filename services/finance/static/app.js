// Puhui finance review: one page over /api. No framework, no CDN: plain DOM and inline SVG.
"use strict";

const state = { me: null, programmes: [], poll: null };
const COLOURS = ["#c2410c", "#2563eb", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04"];
const TZ = "Asia/Shanghai";

// ---- helpers -------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "style") node.style.cssText = value; // CSSOM: allowed by the CSP, an attribute is not
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const svgNode = (tag, attrs = {}) => {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
};
function cny(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}${whole}.${String(abs % 100).padStart(2, "0")}`;
}
const money = (fen) => el("span", { class: fen < 0 ? "neg" : "" }, cny(fen));
const when = (iso) => iso ? new Date(iso).toLocaleString("sv-SE", { timeZone: TZ }).slice(0, 19) : "";
const day = (iso) => iso ? new Date(iso).toLocaleDateString("sv-SE", { timeZone: TZ }) : "";
function age(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}
const badge = (text) => el("span", { class: `badge ${text}` }, text);
const may = (permission) => state.me && state.me.permissions.includes(permission);
const programmeTitle = (name) => (state.programmes.find((p) => p.name === name) || {}).title || "";
const view = () => document.getElementById("view");
function notice(text, bad = false) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.className = bad ? "bad" : "";
}

async function api(path, options = {}) {
  const headers = { "X-Requested-With": "fetch", ...(options.headers || {}) };
  if (state.me && state.me.csrf_token) headers["X-CSRF-Token"] = state.me.csrf_token;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (response.status === 401 && path !== "/api/session") {
    showSignIn();
    throw new Error("sign in first");
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const problem = await response.json();
      detail = problem.detail + (problem.problems && problem.problems.length > 1 ? ": " + problem.problems.join("; ") : "");
    } catch (_) { /* not JSON */ }
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return response;
}
const getJSON = async (path) => (await api(path)).json();

// ---- sign-in -------------------------------------------------------------------------------
function showSignIn() {
  stopPolling();
  state.me = null;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  view().replaceChildren();
}
async function signedIn(me) {
  state.me = me;
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("who-name").textContent = `${me.username} (${me.role})`;
  state.programmes = await getJSON("/api/programmes");
  route();
}
document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = document.getElementById("sign-in-error");
  error.textContent = "";
  try {
    const response = await api("/api/session", { method: "POST",
      json: { username: form.get("username"), password: form.get("password") } });
    event.target.reset();
    await signedIn(await response.json());
  } catch (e) { error.textContent = e.status === 401 ? "Wrong name or password" : e.message; }
});
document.getElementById("sign-out").addEventListener("click", async () => {
  await api("/api/session", { method: "DELETE" }).catch(() => {});
  showSignIn();
});

// ---- routing -------------------------------------------------------------------------------
const ROUTES = {
  stream: showStream, payout: showPayout, decision: showDecision, member: showMember,
  totals: showTotals, held: showHeld, settlement: showSettlement, batch: showBatch, audit: showAudit,
};
function route() {
  if (!state.me) return;
  stopPolling();
  notice("");
  const [path, query] = (location.hash.slice(2) || "stream").split("?");
  const [name, ...rest] = path.split("/");
  const params = new URLSearchParams(query || "");
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.getAttribute("href").slice(2).split("?")[0] === name ||
      (name === "payout" && link.getAttribute("href") === "#/stream") ||
      (name === "decision" && link.getAttribute("href") === "#/member") ||
      (name === "batch" && link.getAttribute("href") === "#/settlement"));
  }
  const show = ROUTES[name] || showStream;
  show(decodeURIComponent(rest.join("/")), params).catch((e) => notice(e.message, true));
}
window.addEventListener("hashchange", route);
function stopPolling() { if (state.poll) { clearInterval(state.poll); state.poll = null; } }

// ---- the payout stream -----------------------------------------------------------------------
const FILTERS = ["programme", "member_id", "merchant_id", "date_from", "date_to", "status", "min_cny", "max_cny"];
function streamQuery(params) {
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    const value = params.get(key);
    if (!value) continue;
    if (key.endsWith("_cny")) query.set(key.replace("_cny", "_fen"), Math.round(parseFloat(value) * 100));
    else query.set(key, value);
  }
  return query;
}
function payoutRow(p, fresh = false) {
  return el("tr", { class: fresh ? "fresh" : "", "data-payout": p.payout_id },
    el("td", {}, when(p.recorded_at)),
    el("td", {}, el("a", { href: `#/payout/${encodeURIComponent(p.payout_id)}` }, p.payout_id.slice(0, 13))),
    el("td", {}, p.programme),
    el("td", {}, el("a", { href: `#/member/${encodeURIComponent(p.member_id)}` }, p.member_id), " ", p.member_name || ""),
    el("td", {}, p.merchant_name || p.merchant_id || ""),
    el("td", {}, day(p.occurred_at)),
    el("td", { class: "num" }, money(p.amount_fen), p.needs_own_approval ? " ⚑" : ""),
    el("td", {}, badge(p.status)));
}
function payoutTable(rows, extra = null) {
  return el("table", { id: "payouts" },
    el("thead", {}, el("tr", {}, ["Recorded", "Payout", "Programme", "Member", "Merchant", "Day", "CNY", "Status"]
      .map((h) => el("th", { class: h === "CNY" ? "num" : "" }, h)), extra ? el("th", {}, "") : null)),
    el("tbody", {}, rows));
}
async function showStream(_, params) {
  const form = el("form", { class: "filters", id: "filters" },
    el("label", {}, "Programme", el("select", { name: "programme" }, el("option", { value: "" }, "all"),
      state.programmes.map((p) => el("option", { value: p.name }, p.name)))),
    el("label", {}, "Member", el("input", { name: "member_id", placeholder: "member id" })),
    el("label", {}, "Merchant", el("input", { name: "merchant_id", placeholder: "merchant id" })),
    el("label", {}, "From", el("input", { name: "date_from", type: "date" })),
    el("label", {}, "To", el("input", { name: "date_to", type: "date" })),
    el("label", {}, "Status", el("select", { name: "status" }, el("option", { value: "" }, "any"),
      ["pending", "batched", "exported", "settled", "failed"].map((s) => el("option", { value: s }, s)))),
    el("label", {}, "Min CNY", el("input", { name: "min_cny", type: "number", step: "0.01" })),
    el("label", {}, "Max CNY", el("input", { name: "max_cny", type: "number", step: "0.01" })),
    el("button", { type: "submit" }, "Filter"),
    el("a", { id: "export-csv", href: `/api/payouts.csv?${streamQuery(params)}`, download: "payouts.csv" }, "Export CSV"));
  for (const key of FILTERS) if (params.get(key)) form.elements[key].value = params.get(key);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const key of FILTERS) if (form.elements[key].value) query.set(key, form.elements[key].value);
    location.hash = `#/stream?${query}`;
  });
  const tbody = el("tbody");
  const table = payoutTable([]);
  table.replaceChild(tbody, table.querySelector("tbody"));
  const more = el("button", { class: "plain", type: "button", id: "older" }, "Older payouts");
  const live = el("span", { class: "live" }, "● live");
  view().replaceChildren(el("div", { class: "row" }, el("h2", {}, "Payouts"), live), form, table, el("p", {}, more));
  const query = streamQuery(params);
  let next = null;
  let newest = null;
  const shown = new Set();
  async function page() {
    const q = new URLSearchParams(query);
    if (next) q.set("after", next);
    const data = await getJSON(`/api/payouts?${q}`);
    for (const p of data.items) { shown.add(p.payout_id); tbody.append(payoutRow(p)); }
    next = data.next;
    newest = newest || data.newest;
    more.disabled = !next;
    if (!tbody.children.length) tbody.append(el("tr", { class: "empty" }, el("td", { colspan: 8 }, "No payouts match.")));
  }
  more.addEventListener("click", () => page().catch((e) => notice(e.message, true)));
  await page();
  state.poll = setInterval(async () => {
    // with nothing shown yet, the first page itself is what is new
    const q = new URLSearchParams(query);
    if (newest) q.set("since", newest);
    try {
      const data = await getJSON(`/api/payouts?${q}`);
      const fresh = data.items.filter((p) => !shown.has(p.payout_id));
      for (const p of fresh.reverse()) {
        shown.add(p.payout_id);
        const empty = tbody.querySelector("tr.empty");
        if (empty) empty.remove();
        tbody.prepend(payoutRow(p, true));
      }
      newest = data.newest || newest;
      live.textContent = `● live, updated ${new Date().toLocaleTimeString("sv-SE", { timeZone: TZ })}`;
    } catch (e) { live.textContent = "○ not live: " + e.message; }
  }, 3000);
}

// ---- a payout and its trail --------------------------------------------------------------------
function steps(trace) {
  return el("ul", { class: "steps" }, trace.map((s) => el("li", {},
    el("span", { class: "rule" }, s.rule), el("span", {}, s.outcome),
    el("span", { class: "amount" }, s.amount_fen === null || s.amount_fen === undefined ? "" : cny(s.amount_fen)))));
}
function decisionPanel(d) {
  return el("div", { class: "panel decision" },
    el("div", { class: "row" }, badge(d.decision), el("b", {}, d.programme || "no programme"),
      d.reason ? el("span", {}, "reason: ", el("code", {}, d.reason)) : null,
      el("span", {}, money(d.amount_fen), " CNY"), el("span", { class: "muted" }, when(d.occurred_at)),
      el("a", { href: `#/decision/${encodeURIComponent(d.audit_id)}` }, `#${d.seq}`)),
    el("p", {}, `${d.source_topic} event ${d.source_event_id}`, d.transaction_id ? `, transaction ${d.transaction_id}` : "",
      d.card_id ? `, card ${d.card_id}` : ""),
    steps(d.trace));
}
async function showPayout(id) {
  const data = await getJSON(`/api/payouts/${encodeURIComponent(id)}`);
  const p = data.payout;
  const actions = el("div", { class: "row" });
  if (p.needs_own_approval && !p.approved_by && may("approve")) {
    actions.append(el("button", { id: "approve-payout", onclick: () => act(`/api/payouts/${encodeURIComponent(p.payout_id)}/approve`, "Payout approved") }, "Approve this payout"));
  }
  if (p.status === "failed" && may("settle")) {
    actions.append(el("button", { id: "requeue", onclick: () => act(`/api/payouts/${encodeURIComponent(p.payout_id)}/requeue`, "Sent back to pending") }, "Send back for a later batch"));
  }
  view().replaceChildren(
    el("h2", {}, `${p.kind === "clawback" ? "Clawback" : "Payout"} ${p.payout_id}`),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("small", {}, "amount (CNY)"), el("b", {}, money(p.amount_fen))),
      el("div", { class: "card" }, el("small", {}, "programme"), el("b", {}, p.programme), programmeTitle(p.programme)),
      el("div", { class: "card" }, el("small", {}, "member"), el("b", {}, p.member_name || "—"),
        el("a", { href: `#/member/${encodeURIComponent(p.member_id)}` }, p.member_id)),
      el("div", { class: "card" }, el("small", {}, "settlement"), el("b", {}, badge(p.status)),
        p.batch_id ? el("a", { href: `#/batch/${encodeURIComponent(p.batch_id)}` }, p.batch_id) : "not in a batch")),
    el("dl", { class: "facts panel" },
      el("dt", {}, "Occurred"), el("dd", {}, when(p.occurred_at)),
      el("dt", {}, "Recorded"), el("dd", {}, when(p.recorded_at)),
      el("dt", {}, "Period"), el("dd", {}, p.period),
      el("dt", {}, "Transaction"), el("dd", {}, p.transaction_id || "—"),
      el("dt", {}, "Merchant"), el("dd", {}, [p.merchant_name, p.merchant_id].filter(Boolean).join(" · ") || "—"),
      el("dt", {}, "Over 1,000 CNY"), el("dd", {}, p.needs_own_approval ? (p.approved_by ? `approved by ${p.approved_by} at ${when(p.approved_at)}` : "needs its own approval") : "no"),
      el("dt", {}, "Bank"), el("dd", {}, p.bank_reference || p.failure_reason || "—")),
    actions,
    el("h3", {}, "Why this amount: the rules and limits that decided it"),
    el("div", { class: "panel", id: "trace" }, steps(data.trace)),
    el("h3", {}, "Decision trail of its event and its purchase"),
    el("div", { id: "trail" }, data.trail.length ? data.trail.map(decisionPanel) : el("p", {}, "The audit trail has no record of it yet.")));
}
async function act(path, done) {
  try { await api(path, { method: "POST" }); notice(done); route(); } catch (e) { notice(e.message, true); }
}
async function showDecision(id) {
  const data = await getJSON(`/api/decisions/${encodeURIComponent(id)}`);
  const d = data.decision;
  view().replaceChildren(
    el("h2", {}, `Decision #${d.seq}: ${d.decision}`),
    d.member_id ? el("p", {}, "Member ", el("a", { href: `#/member/${encodeURIComponent(d.member_id)}` }, d.member_id), " ", data.member_name || "") : null,
    decisionPanel(d),
    data.payouts.length ? el("p", {}, "Payouts of this event: ", data.payouts.map((id) =>
      el("a", { href: `#/payout/${encodeURIComponent(id)}`, style: "margin-right:8px" }, id))) : null);
}
async function showMember(id) {
  const form = el("form", { class: "filters" }, el("label", {}, "Member", el("input", { name: "member", value: id || "", placeholder: "member id", required: true })),
    el("button", { type: "submit" }, "Show decisions"));
  form.addEventListener("submit", (e) => { e.preventDefault(); location.hash = `#/member/${encodeURIComponent(form.elements.member.value)}`; });
  view().replaceChildren(el("h2", {}, "Why did a member get, or not get, an amount?"), form);
  if (!id) return;
  const data = await getJSON(`/api/members/${encodeURIComponent(id)}/decisions`);
  view().append(el("h3", {}, `${data.member_id} ${data.member_name || ""}: ${data.decisions.length} decisions`),
    el("table", {}, el("thead", {}, el("tr", {}, ["When", "Decision", "Programme", "Reason", "CNY", "Event", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, data.decisions.map((d) => el("tr", {},
        el("td", {}, when(d.occurred_at)), el("td", {}, badge(d.decision)), el("td", {}, d.programme || ""),
        el("td", {}, d.reason || ""), el("td", { class: "num" }, money(d.amount_fen)), el("td", {}, d.source_topic),
        el("td", {}, el("a", { href: `#/decision/${encodeURIComponent(d.audit_id)}` }, "why")))))));
}

// ---- totals and budgets, drawn -----------------------------------------------------------------
function stackedBars(rows, keyOf, keys, width = 900, height = 220) {
  const programmes = [...new Set(rows.map((r) => r.programme))];
  const sums = keys.map((k) => rows.filter((r) => keyOf(r) === k).reduce((a, r) => a + r.paid_fen - r.clawed_back_fen, 0));
  const max = Math.max(1, ...sums);
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height + 30}`, width: "100%", role: "img" });
  const band = width / Math.max(1, keys.length);
  keys.forEach((k, i) => {
    let y = height;
    for (const [pi, programme] of programmes.entries()) {
      const r = rows.find((x) => keyOf(x) === k && x.programme === programme);
      if (!r) continue;
      const h = Math.max(0, (r.paid_fen - r.clawed_back_fen) / max * (height - 10));
      y -= h;
      const rect = svgNode("rect", { x: i * band + 2, y, width: Math.max(1, band - 4), height: h, fill: COLOURS[pi % COLOURS.length] });
      const title = svgNode("title");
      title.textContent = `${k} ${programme}: ${cny(r.paid_fen - r.clawed_back_fen)} CNY (${r.payouts} payouts, ${r.clawbacks} clawbacks)`;
      rect.append(title);
      svg.append(rect);
    }
    if (keys.length <= 12 || i % Math.ceil(keys.length / 12) === 0) {
      const label = svgNode("text", { x: i * band + band / 2, y: height + 16, "text-anchor": "middle" });
      label.textContent = String(k).slice(5);
      svg.append(label);
    }
  });
  const top = svgNode("text", { x: 4, y: 12 });
  top.textContent = `max ${cny(max)} CNY`;
  svg.append(top);
  const legend = el("div", { class: "legend" }, programmes.map((p, i) => el("span", {}, el("i", { style: `background:${COLOURS[i % COLOURS.length]}` }), p)));
  return el("div", { class: "panel chart" }, svg, legend);
}
function budgetBars(budgets) {
  const width = 900, row = 34;
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${budgets.length * row + 10}`, width: "100%", role: "img", id: "budget-chart" });
  budgets.forEach((b, i) => {
    const y = i * row + 6, x0 = 230, w = width - x0 - 170;
    const used = b.budget_fen ? Math.min(1, b.used_fen / b.budget_fen) : 0;
    const name = svgNode("text", { x: 0, y: y + 15 });
    name.textContent = `${b.programme} ${b.title}`;
    svg.append(name, svgNode("rect", { x: x0, y, width: w, height: 20, fill: "#e4e7ec", rx: 4 }),
      svgNode("rect", { x: x0, y, width: Math.max(0, w * used), height: 20, fill: used > 0.9 ? "#b91c1c" : "#c2410c", rx: 4 }));
    const text = svgNode("text", { x: x0 + w + 8, y: y + 15 });
    text.textContent = `${(used * 100).toFixed(1)}% used, ${cny(b.left_fen)} left`;
    svg.append(text);
  });
  return el("div", { class: "panel chart" }, svg);
}
async function showTotals(_, params) {
  const now = new Date().toLocaleDateString("sv-SE", { timeZone: TZ });
  const month = params.get("month") || now.slice(0, 7);
  const [year, m] = month.split("-").map(Number);
  const data = await getJSON(`/api/totals?year=${year}&month=${m}`);
  const picker = el("input", { type: "month", value: month, id: "month" });
  picker.addEventListener("change", () => { location.hash = `#/totals?month=${picker.value}`; });
  const days = [];
  const last = new Date(Date.UTC(year, m, 0)).getUTCDate();
  for (let d = 1; d <= last; d++) days.push(`${month}-${String(d).padStart(2, "0")}`);
  const months = Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, "0")}-01`);
  const sum = (rows, f) => rows.reduce((a, r) => a + f(r), 0);
  view().replaceChildren(
    el("div", { class: "row" }, el("h2", {}, "Totals"), picker),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("small", {}, `paid in ${month} (CNY)`), el("b", {}, cny(sum(data.daily, (r) => r.paid_fen - r.clawed_back_fen)))),
      el("div", { class: "card" }, el("small", {}, `payouts in ${month}`), el("b", {}, sum(data.daily, (r) => r.payouts).toLocaleString("en-US"))),
      el("div", { class: "card" }, el("small", {}, `paid in ${year} (CNY)`), el("b", {}, cny(sum(data.monthly, (r) => r.paid_fen - r.clawed_back_fen))))),
    el("h3", {}, `Per programme per day, ${month} (net of clawbacks)`), stackedBars(data.daily, (r) => r.day, days),
    el("h3", {}, `Per programme per month, ${year}`), stackedBars(data.monthly, (r) => r.month, months),
    el("h3", {}, `Budgets ${year}: used and left`), budgetBars(data.budgets),
    el("table", {}, el("thead", {}, el("tr", {}, ["Programme", "Budget", "Used", "Left"].map((h) => el("th", { class: h === "Programme" ? "" : "num" }, h)))),
      el("tbody", {}, data.budgets.map((b) => el("tr", {}, el("td", {}, `${b.programme} ${b.title}`),
        el("td", { class: "num" }, cny(b.budget_fen)), el("td", { class: "num" }, cny(b.used_fen)), el("td", { class: "num" }, cny(b.left_fen)))))));
}

// ---- held events and dead letters ---------------------------------------------------------------
async function showHeld() {
  const [held, dead] = await Promise.all([getJSON("/api/held"), getJSON("/api/dead-letters")]);
  const waiting = { card: "swipes of unknown cards", purchase: "refunds before their purchase", member: "awards before their member" };
  view().replaceChildren(
    el("h2", {}, "Held"),
    el("div", { class: "cards", id: "held-counts" }, held.counts.length ? held.counts.map((c) => el("div", { class: "card" },
      el("small", {}, waiting[c.waiting_for] || c.waiting_for), el("b", {}, c.count), `oldest ${age(c.oldest_age_seconds)}`)) : el("p", {}, "Nothing is held.")),
    held.items.length ? el("table", {}, el("thead", {}, el("tr", {}, ["Held since", "Age", "Waiting for", "Key", "Type", "Card", "Transaction", "Merchant", "CNY"].map((h) => el("th", {}, h)))),
      el("tbody", {}, held.items.map((h) => el("tr", {}, el("td", {}, when(h.held_at)), el("td", {}, age(h.age_seconds)), el("td", {}, h.waiting_for),
        el("td", {}, h.waiting_key), el("td", {}, h.type || ""), el("td", {}, h.card_id || ""), el("td", {}, h.transaction_id || ""),
        el("td", {}, h.merchant_name || ""), el("td", { class: "num" }, h.amount_fen === null ? "" : cny(h.amount_fen)))))) : null,
    el("h2", {}, "Dead letters"),
    el("div", { class: "cards", id: "dead-counts" }, dead.counts.length ? dead.counts.map((c) => el("div", { class: "card" },
      el("small", {}, `${c.source_topic} (${c.consumer})`), el("b", {}, c.count), `oldest ${age(c.oldest_age_seconds)}`)) : el("p", {}, "No dead letters.")),
    dead.items.length ? el("table", {}, el("thead", {}, el("tr", {}, ["Received", "Age", "Source", "Partition/offset", "Reason", "Bytes"].map((h) => el("th", {}, h)))),
      el("tbody", {}, dead.items.map((d) => el("tr", {}, el("td", {}, when(d.received_at)), el("td", {}, age(d.age_seconds)),
        el("td", {}, `${d.source_topic} (${d.consumer})`), el("td", {}, `${d.partition}/${d.offset}`), el("td", { style: "white-space:normal" }, d.reason),
        el("td", { class: "num" }, d.size))))) : null);
}

// ---- settlement -------------------------------------------------------------------------------
function batchTable(batches) {
  return el("table", { id: "batches" }, el("thead", {}, el("tr", {}, ["Batch", "Programme", "Day", "Status", "Payouts", "CNY", "Prepared by", "Approved by", "Exported"].map((h) => el("th", {}, h)))),
    el("tbody", {}, batches.map((b) => el("tr", {},
      el("td", {}, el("a", { href: `#/batch/${encodeURIComponent(b.batch_id)}` }, b.batch_id)), el("td", {}, b.programme), el("td", {}, b.business_day),
      el("td", {}, badge(b.status)), el("td", { class: "num" }, b.payout_count), el("td", { class: "num" }, money(b.total_fen)),
      el("td", {}, b.prepared_by), el("td", {}, b.approved_by || ""), el("td", {}, b.exported_at ? when(b.exported_at) : "")))));
}
async function prepare(programme, businessDay) {
  try {
    const response = await api("/api/batches", { method: "POST", json: { programme, day: businessDay } });
    const batch = await response.json();
    location.hash = `#/batch/${encodeURIComponent(batch.batch_id)}`;
    notice(`Prepared ${batch.batch_id}: ${batch.payout_count} payouts, ${cny(batch.total_fen)} CNY. Another person approves it.`);
  } catch (e) { notice(e.message, true); }
}
async function showSettlement() {
  const [days, batches, failed] = await Promise.all([getJSON("/api/settlement/days?days=31"), getJSON("/api/batches"),
    getJSON("/api/payouts?status=failed&limit=100")]);
  const form = el("form", { class: "filters", id: "prepare" },
    el("label", {}, "Programme", el("select", { name: "programme" }, state.programmes.map((p) => el("option", { value: p.name }, p.name)))),
    el("label", {}, "Day", el("input", { name: "day", type: "date", required: true })),
    el("button", { type: "submit", disabled: !may("prepare") }, "Prepare batch"));
  form.addEventListener("submit", (e) => { e.preventDefault(); prepare(form.elements.programme.value, form.elements.day.value); });
  const upload = el("form", { class: "filters", id: "confirmation" },
    el("label", {}, "Bank confirmation file (CSV)", el("input", { name: "file", type: "file", accept: ".csv,text/csv", required: true })),
    el("button", { type: "submit", disabled: !may("settle") }, "Import"));
  upload.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = new FormData();
    body.append("file", upload.elements.file.files[0]);
    try {
      const done = await (await api("/api/confirmations", { method: "POST", body })).json();
      notice(`Imported: ${done.settled} settled (${cny(done.settled_fen)} CNY), ${done.failed} failed, ${done.unchanged} unchanged.`);
    } catch (err) { notice(err.message, true); }
  });
  view().replaceChildren(
    el("h2", {}, "Settlement"),
    el("h3", {}, "Prepare a daily batch"), form,
    el("table", { id: "days" }, el("thead", {}, el("tr", {}, ["Day", "Programme", "Recorded", "In batches", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, days.map((d) => el("tr", {}, el("td", {}, d.day), el("td", {}, d.programme), el("td", { class: "num" }, d.recorded),
        el("td", { class: "num" }, d.batched),
        el("td", {}, may("prepare") && d.recorded > d.batched ? el("button", { class: "plain", onclick: () => prepare(d.programme, d.day) }, "Prepare") : ""))))),
    el("h3", {}, "Batches"), batchTable(batches),
    el("h3", {}, "Bank confirmation"), upload,
    el("h3", {}, `Failed at the bank, for review (${failed.items.length})`),
    failed.items.length ? payoutTable(failed.items.map((p) => payoutRow(p))) : el("p", {}, "None."));
}
async function showBatch(id) {
  const data = await getJSON(`/api/batches/${encodeURIComponent(id)}`);
  const b = data.batch;
  const actions = el("div", { class: "row" });
  if (b.status === "prepared" && may("approve")) {
    actions.append(el("button", { id: "approve-batch", onclick: () => act(`/api/batches/${encodeURIComponent(b.batch_id)}/approve`, `Batch ${b.batch_id} approved`) }, "Approve batch"));
  }
  if (b.status !== "prepared" && may("settle")) {
    actions.append(el("button", { id: "export", onclick: () => download(b.batch_id) }, "Export settlement file"));
  }
  const rows = data.payouts.map((p) => {
    const row = payoutRow(p);
    row.append(el("td", {}, p.needs_own_approval && !p.approved_by && may("approve")
      ? el("button", { class: "plain", onclick: () => act(`/api/payouts/${encodeURIComponent(p.payout_id)}/approve`, "Payout approved") }, "Approve payout")
      : p.approved_by ? `approved by ${p.approved_by}` : ""));
    return row;
  });
  view().replaceChildren(
    el("h2", {}, `Batch ${b.batch_id}`),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("small", {}, "status"), el("b", { id: "batch-status" }, badge(b.status))),
      el("div", { class: "card" }, el("small", {}, "payouts"), el("b", {}, b.payout_count)),
      el("div", { class: "card" }, el("small", {}, "total (CNY)"), el("b", {}, money(b.total_fen))),
      el("div", { class: "card" }, el("small", {}, "prepared"), el("b", {}, b.prepared_by), when(b.prepared_at)),
      el("div", { class: "card" }, el("small", {}, "approved"), el("b", {}, b.approved_by || "—"), when(b.approved_at))),
    data.awaiting_own_approval.length ? el("p", { class: "error" }, `${data.awaiting_own_approval.length} payout(s) over 1,000 CNY need their own approval before the batch can be approved.`) : null,
    actions, el("h3", {}, "Payouts (largest first)"), payoutTable(rows, true));
}
async function download(batchId) {
  try {
    const response = await api(`/api/batches/${encodeURIComponent(batchId)}/export`, { method: "POST" });
    const blob = await response.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: `settlement_${batchId}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    notice(`Settlement file of ${batchId} downloaded.`);
    setTimeout(route, 500);
  } catch (e) { notice(e.message, true); }
}
async function showAudit() {
  const actions = await getJSON("/api/audit");
  view().replaceChildren(el("h2", {}, "What finance did (from the audit trail)"),
    actions.length ? el("table", { id: "audit" }, el("thead", {}, el("tr", {}, ["#", "When", "Who", "What", "Programme", "CNY", "Details"].map((h) => el("th", {}, h)))),
      el("tbody", {}, actions.map((a) => el("tr", {}, el("td", {}, a.seq), el("td", {}, when(a.occurred_at)), el("td", {}, a.actor || ""),
        el("td", {}, badge(a.decision)), el("td", {}, a.programme || ""), el("td", { class: "num" }, money(a.amount_fen)),
        el("td", { style: "white-space:normal" }, a.details.map((d) => d.outcome).join("; ")))))) : el("p", {}, "No finance action has reached the audit trail yet."));
}

// ---- start ----------------------------------------------------------------------------------
(async () => {
  try {
    const response = await api("/api/me");
    await signedIn(await response.json());
  } catch (_) { showSignIn(); }
})();
