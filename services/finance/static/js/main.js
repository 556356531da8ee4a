// Puhui finance review: one page over /api. Plain DOM, ES modules, ECharts vendored; no CDN.
// A page is a module under pages/ that calls page(name, {nav, order, show}); its messages are
// its own "name.*" keys of the catalogues in /static/i18n.
import { LANGUAGES, language, remembered, t, translateStatic, useLanguage } from "./i18n.js";
import { api, getJSON, may, notice, pages, reshowWith, said, state, stopTimers, view, whenSignedOut } from "./core.js";
import { disposeCharts } from "./charts.js";
import "./pages/stream.js";
import "./pages/totals.js";
import "./pages/member.js";
import "./pages/payout.js";
import "./pages/held.js";
import "./pages/settlement.js";
import "./pages/audit.js";
import "./pages/watch.js";
import "./pages/whatif.js";

const $ = (selector) => document.querySelector(selector);

function nav() {
  const links = Object.values(pages).filter((p) => p.nav && (!p.needs || may(p.needs))).sort((a, b) => a.order - b.order);
  $("#nav").replaceChildren(...links.map((p) => {
    const link = document.createElement("a");
    link.href = `#/${p.name}`;
    link.dataset.page = p.name;
    link.textContent = t(p.nav);
    return link;
  }));
}
function showSignIn() {
  stopTimers();
  disposeCharts();
  state.me = null;
  $("#sign-in").hidden = false;
  $("#nav").hidden = true;
  $("#who").hidden = true;
  view().replaceChildren();
}
whenSignedOut(showSignIn);
function who() {
  const [before, after] = t("app.who", { name: "\u0000", role: state.me.role }).split("\u0000");
  const name = document.createElement("code");
  name.className = "id";
  name.textContent = state.me.username;
  $("#who-name").replaceChildren(before, name, after);
}
async function signedIn(me) {
  state.me = me;
  // the person's language follows them; one who never chose keeps what the page shows
  const chosen = (await getJSON("/api/preferences")).language;
  if (!chosen) await api("/api/preferences", { method: "PUT", json: { language: language() } });
  else if (chosen !== language()) await useLanguage(chosen);
  labelSwitch();
  $("#sign-in").hidden = true;
  $("#nav").hidden = false;
  $("#who").hidden = false;
  state.programmes = await getJSON("/api/programmes");
  nav();
  who();
  route();
}
function route() {
  if (!state.me) return;
  stopTimers();
  disposeCharts();
  notice("");
  const [path, query] = (location.hash.slice(2) || "stream").split("?");
  const [name, ...rest] = path.split("/");
  const shown = pages[name] || pages.stream;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.page === shown.name || link.dataset.page === shown.parent);
  }
  shown.show(decodeURIComponent(rest.join("/")), new URLSearchParams(query || "")).catch((e) => notice(said(e), true));
}
reshowWith(route);
window.addEventListener("hashchange", route);

$("#sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = $("#sign-in-error");
  error.textContent = "";
  try {
    const response = await api("/api/session", { method: "POST", json: { username: form.get("username"), password: form.get("password") } });
    event.target.reset();
    await signedIn(await response.json());
  } catch (e) { error.textContent = said(e); }
});
$("#sign-out").addEventListener("click", async () => {
  await api("/api/session", { method: "DELETE" }).catch(() => {});
  showSignIn();
});
// The switch names the other language in that language; the choice is kept for the person.
function labelSwitch() {
  $("#language").textContent = t("app.switch");
  $("#language").lang = LANGUAGES.find((l) => l !== language());
}
$("#language").addEventListener("click", async () => {
  const other = LANGUAGES.find((l) => l !== language());
  await useLanguage(other);
  labelSwitch();
  if (state.me) {
    await api("/api/preferences", { method: "PUT", json: { language: other } }).catch((e) => notice(said(e), true));
    nav();
    who();
    route();
  }
});

(async () => {
  await useLanguage(remembered());
  labelSwitch();
  try {
    await signedIn(await (await api("/api/me")).json());
    labelSwitch();
  } catch (_) { showSignIn(); }
  translateStatic(document);
})();
