// Charts through Apache ECharts (vendored: /static/vendor/echarts, a global `echarts`).
// Axes, values on hover, a legend in the reader's language, zoom on daily series.
import { language, t } from "./i18n.js";
import { cny, el, yuan } from "./core.js";

const COLOURS = ["#c2410c", "#2563eb", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04"];
const live = [];
export function disposeCharts() { while (live.length) live.pop().dispose(); }
window.addEventListener("resize", () => live.forEach((c) => c.resize()));

export function chart(id, option, tall = false) {
  const box = el("div", { class: tall ? "chart-box tall" : "chart-box", id, role: "img" });
  requestAnimationFrame(() => {
    // tooltips are drawn on the canvas (richText): no HTML, no inline style (CSP)
    const made = echarts.init(box, null, { locale: language() === "zh-CN" ? "ZH" : "EN" });
    made.setOption({ color: COLOURS, textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: (v) => (v === null || v === undefined ? "" : cny(Math.round(v * 100))) },
      grid: { left: 90, right: 30, top: 50, bottom: 70 }, ...option });
    box.dataset.ready = "true";
    live.push(made);
  });
  return box;
}
const yuanAxis = (name) => ({ type: "value", name, axisLabel: { formatter: (v) => yuan(Math.round(v * 100)) } });

// Stacked bars: net yuan per programme per key (day or month).
export function stacked(id, rows, keys, keyOf, label, titleOf, zoom) {
  const programmes = [...new Set(rows.map((r) => r.programme))];
  const series = programmes.map((p) => ({
    name: titleOf(p), type: "bar", stack: "net", emphasis: { focus: "series" },
    data: keys.map((k) => { const r = rows.find((x) => keyOf(x) === k && x.programme === p); return r ? (r.paid_fen - r.clawed_back_fen) / 100 : 0; }) }));
  return chart(id, {
    legend: { type: "scroll", top: 0 },
    xAxis: { type: "category", data: keys.map(label), name: t(zoom ? "chart.axis.day" : "chart.axis.month") },
    yAxis: yuanAxis(t("chart.axis.yuan")),
    dataZoom: zoom ? [{ type: "inside" }, { type: "slider", bottom: 10 }] : [],
    series });
}

// Budget burn-down: left by day against the straight line to 31 December, and the projection.
export function burnDown(id, burn, titleOf) {
  const year = burn.as_of.slice(0, 4);
  const left = burn.spent.map((d) => [d.day, (burn.budget_fen - d.spent_fen) / 100]);
  const start = [`${year}-01-01`, burn.budget_fen / 100];
  const last = left.length ? left[left.length - 1] : start;
  const projected = burn.projected_exhaustion && !burn.exhausted_on ? [last, [burn.projected_exhaustion, 0]] : [];
  return chart(id, {
    title: { text: titleOf(burn.programme), left: "center", top: 0, textStyle: { fontSize: 14 } },
    legend: { top: 24 },
    tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: (v) => cny(Math.round(v * 100)) },
    xAxis: { type: "time", min: `${year}-01-01`, max: `${year}-12-31`, name: t("chart.axis.date") },
    yAxis: yuanAxis(t("chart.axis.left")),
    dataZoom: [{ type: "inside" }, { type: "slider", bottom: 10 }],
    grid: { left: 100, right: 30, top: 70, bottom: 70 },
    series: [
      { name: t("chart.burn.ideal"), type: "line", data: [start, [`${year}-12-31`, 0]], symbol: "none", lineStyle: { type: "dashed" } },
      { name: t("chart.burn.left"), type: "line", step: "end", data: [start, ...left], symbol: "none", areaStyle: { opacity: 0.15 } },
      { name: t("chart.burn.projected"), type: "line", data: projected, symbol: "circle", lineStyle: { type: "dotted" } },
    ] }, true);
}
