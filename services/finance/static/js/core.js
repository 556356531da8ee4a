// What every page shares: building DOM, calling the API, formats, the page registry.
import { language, setFormatters, t } from "./i18n.js";

export const TZ = "Asia/Shanghai";
export const state = { me: null, programmes: [], timers: [] };

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---- formats: money is integer fen; times are Shanghai ----------------------------------------
const grouped = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
export function yuan(fen) {
  const abs = Math.abs(fen);
  return `${fen < 0 ? "-" : ""}${grouped(Math.floor(abs / 100))}.${String(abs % 100).padStart(2, "0")}`;
}
export const cny = (fen) => (fen < 0 ? `-¥${yuan(-fen)}` : `¥${yuan(fen)}`);
export const count = (n) => grouped(n);
export const money = (fen) => el("span", { class: fen < 0 ? "money neg" : "money" }, cny(fen));
const local = (iso) => new Date(iso).toLocaleString("sv-SE", { timeZone: TZ });
export const when = (iso) => (iso ? local(iso).slice(0, 16) : "");
export const day = (iso) => (iso ? (iso.length === 10 ? iso : local(iso).slice(0, 10)) : "");
export const today = () => new Date().toLocaleDateString("sv-SE", { timeZone: TZ });
export function age(seconds) {
  if (seconds < 90) return t("age.seconds", { n: Math.round(seconds) });
  if (seconds < 5400) return t("age.minutes", { n: Math.round(seconds / 60) });
  if (seconds < 172800) return t("age.hours", { n: Math.round(seconds / 3600) });
  return t("age.days", { n: Math.round(seconds / 86400) });
}
setFormatters({ money: cny, yuan, int: count, day });

// ---- words of the domain ----------------------------------------------------------------------
export const id = (text) => el("code", { class: "id" }, text);
export const badge = (kind, value) => el("span", { class: `badge ${value}` }, t(`${kind}.${value}`, { fallback: value }));
export function programmeTitle(name) {
  const found = state.programmes.find((p) => p.name === name);
  if (!found) return name || "";
  return language() === "en" ? found.title_en : found.title;
}
// A programme by its title; a name the catalogue does not know is shown as the identifier it is.
export function programme(name) {
  if (!name) return "";
  if (!state.programmes.some((p) => p.name === name)) return id(name);
  return el("span", { class: "programme", title: name }, programmeTitle(name));
}
export const may = (permission) => state.me && state.me.permissions.includes(permission);
export const table = (attrs, headings, rows) => el("table", attrs,
  el("thead", {}, el("tr", {}, headings.map((h) => el("th", { class: h.num ? "num" : "" }, h.key ? t(h.key) : "")))),
  el("tbody", {}, rows));
export const num = (...children) => el("td", { class: "num" }, ...children);
export const view = () => document.getElementById("view");

export function notice(text, bad = false) {
  const box = document.getElementById("notice");
  box.textContent = text || "";
  box.className = bad ? "bad" : "";
}
export function every(ms, action) { state.timers.push(setInterval(action, ms)); }
export function stopTimers() { for (const timer of state.timers) clearInterval(timer); state.timers = []; }

// ---- the API: every refusal carries a stable code, said in the reader's language --------------
export class Refusal extends Error {
  constructor(status, problem) {
    super(problem.detail || String(status));
    this.status = status;
    this.code = problem.code || "error";
    this.problems = problem.problems || [];
  }
  said() {
    const words = t(`error.${this.code}`, { fallback: t("error.error") });
    return this.problems.length > 1 ? `${words}${t("common.colon")}${this.problems.join("; ")}` : words;
  }
}
let onSignedOut = () => {};
export function whenSignedOut(action) { onSignedOut = action; }
export async function api(path, options = {}) {
  const headers = { "X-Requested-With": "fetch", ...(options.headers || {}) };
  if (state.me && state.me.csrf_token) headers["X-CSRF-Token"] = state.me.csrf_token;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (!response.ok) {
    let problem = { detail: response.statusText, code: null };
    try { problem = await response.json(); } catch (_) { /* not JSON */ }
    const refusal = new Refusal(response.status, problem);
    if (response.status === 401 && path !== "/api/session") onSignedOut();
    throw refusal;
  }
  return response;
}
export const getJSON = async (path) => (await api(path)).json();
export const said = (error) => (error instanceof Refusal ? error.said() : t("error.network"));

// ---- pages: each module registers itself; the nav lists those with a nav key ------------------
export const pages = {};
export function page(name, spec) { pages[name] = { name, ...spec }; }

// An action button's work: POST, say it was done (or why not), show the page again.
let again = () => {};
export function reshowWith(action) { again = action; }
export async function act(path, doneKey, args = {}) {
  try { await api(path, { method: "POST" }); notice(t(doneKey, args)); again(); } catch (e) { notice(said(e), true); }
}
export const reshow = () => again();
// What a page shows: its children, leaving out those that are not there (null, false).
export function render(...children) {
  view().replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}
