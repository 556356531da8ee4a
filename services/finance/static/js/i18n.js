// Messages: one catalogue per language (/static/i18n/<language>.json), flat "page.thing" keys.
// A template names its arguments: {name}, or {name|pipe} to format one:
//   money: ¥1,234.56 from fen    yuan: 1,234.56 from fen    int: 12,345
//   key:PREFIX: the message PREFIX.<value> (a programme, a status, a period word...)
export const LANGUAGES = ["zh-CN", "en"];
export const DEFAULT_LANGUAGE = "zh-CN";
const STORE = "puhui.language";
const catalogues = {};
let current = DEFAULT_LANGUAGE;
let formatters = {};

export const language = () => current;
export const remembered = () => (LANGUAGES.includes(localStorage.getItem(STORE)) ? localStorage.getItem(STORE) : DEFAULT_LANGUAGE);

export async function useLanguage(lang) {
  const chosen = LANGUAGES.includes(lang) ? lang : DEFAULT_LANGUAGE;
  if (!catalogues[chosen]) {
    const response = await fetch(`/static/i18n/${chosen}.json`, { credentials: "same-origin" });
    catalogues[chosen] = await response.json();
  }
  current = chosen;
  localStorage.setItem(STORE, chosen);
  document.documentElement.lang = chosen;
  document.title = t("app.title");
  translateStatic(document);
}

export function setFormatters(found) { formatters = found; }
export const has = (key) => Object.prototype.hasOwnProperty.call(catalogues[current] || {}, key);

export function t(key, args = {}) {
  const template = has(key) ? catalogues[current][key] : null;
  if (template === null) return args.fallback !== undefined ? String(args.fallback) : key;
  return template.replace(/\{(\w+)(?:\|([\w:.]+))?\}/g, (whole, name, pipe) => {
    const value = args[name];
    if (value === undefined || value === null) return "";
    if (!pipe) return String(value);
    if (pipe.startsWith("key:")) {
      const sub = `${pipe.slice(4)}.${value}`;
      return has(sub) ? t(sub, args) : String(value);
    }
    return formatters[pipe] ? formatters[pipe](value) : String(value);
  });
}

// Elements written in index.html name their message: data-i18n (text), data-i18n-label (aria-label).
export function translateStatic(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
}
