// Trace steps and decision reasons as sentences of the reader's language, from the structured
// fields the API gives (key, args: money in fen), with catalogue templates.
import { has, t } from "./i18n.js";
import { el, money, programmeTitle } from "./core.js";

// Arguments that are identifiers (a batch, a payout, an event...) are shown as such, <code>;
// so is a note, a person's own words verbatim (in whatever language they wrote them).
const IDENTIFIERS = ["batch", "payout", "signal", "note", "transaction", "event", "filter", "actor", "preparer", "rule", "outcome", "token", "who", "key"];
export function sentence(step) {
  const known = step.key !== "trace.raw" && has(step.key);
  const args = known ? { ...step.args } : { rule: step.rule, outcome: step.outcome };
  if (args.programme) args.programme = programmeTitle(args.programme);
  const marked = [];
  for (const name of IDENTIFIERS) {
    if (args[name] !== undefined) args[name] = `\u0001${marked.push(String(args[name])) - 1}\u0001`;
  }
  const parts = t(known ? step.key : "trace.raw", args).split(/\u0001(\d+)\u0001/);
  return parts.map((part, i) => (i % 2 ? el("code", { class: "id" }, marked[Number(part)]) : part));
}
export const ruleName = (step) => t(`rule.${step.key.split(".")[1] || "raw"}`, { fallback: step.rule });

// "limit_reached:daily_rides" says which limit: its kind and period are in the same trace.
export function reason(code, trace = []) {
  if (!code) return "";
  const [name, limit] = code.split(":");
  if (name === "limit_reached" && limit) {
    const step = trace.find((s) => s.key.startsWith("trace.limit.") && s.args.limit === limit);
    if (step) return t(`reason.limit_reached.${step.key.split(".")[2]}`, step.args);
  }
  return t(`reason.${name}`, { fallback: code });
}

export function steps(trace, id) {
  return el("ol", { class: "steps", id }, trace.map((s) => el("li", { "data-key": s.key },
    el("span", { class: "rule" }, ruleName(s)),
    el("span", { class: "sentence" }, sentence(s)),
    el("span", { class: "amount" }, s.amount_fen === null || s.amount_fen === undefined ? "" : money(s.amount_fen)))));
}
