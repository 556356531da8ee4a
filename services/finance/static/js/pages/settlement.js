// Settlement: batches prepared, approved by another person, exported, confirmed by the bank.
import { language, t } from "../i18n.js";
import { act, api, badge, count, el, getJSON, id, may, money, notice, num, page, programme, programmeTitle, said, state, table, when, render, reshow } from "../core.js";
import { payoutRow, payoutTable } from "./stream.js";

function batchTable(batches) {
  return table({ id: "batches" }, ["batch.col.batch", "batch.col.programme", "batch.col.day", "batch.col.status", "batch.col.payouts",
    "batch.col.amount", "batch.col.prepared_by", "batch.col.approved_by", "batch.col.exported"].map((key) => ({ key, num: ["batch.col.payouts", "batch.col.amount"].includes(key) })),
  batches.map((b) => el("tr", {},
    el("td", {}, el("a", { href: `#/batch/${encodeURIComponent(b.batch_id)}` }, id(b.batch_id))), el("td", {}, programme(b.programme)), el("td", {}, b.business_day),
    el("td", {}, badge("batch_status", b.status)), num(count(b.payout_count)), num(money(b.total_fen)),
    el("td", {}, id(b.prepared_by)), el("td", {}, b.approved_by ? id(b.approved_by) : ""), el("td", {}, b.exported_at ? when(b.exported_at) : ""))));
}
async function prepare(programmeName, businessDay) {
  try {
    const batch = await (await api("/api/batches", { method: "POST", json: { programme: programmeName, day: businessDay } })).json();
    location.hash = `#/batch/${encodeURIComponent(batch.batch_id)}`;
    notice(t("settlement.prepared", { batch: batch.batch_id, n: batch.payout_count, amount: batch.total_fen }));
  } catch (e) { notice(said(e), true); }
}
async function importFile(upload) {
  const body = new FormData();
  body.append("file", upload.elements.file.files[0]);
  try {
    const done = await (await api("/api/confirmations", { method: "POST", body })).json();
    notice(t("settlement.imported", { settled: done.settled, settled_amount: done.settled_fen, failed: done.failed, failed_amount: done.failed_fen, unchanged: done.unchanged }));
    showSettlement();
  } catch (err) { notice(said(err), true); }
}
async function showSettlement() {
  const [days, batches, failed] = await Promise.all([getJSON("/api/settlement/days?days=31"), getJSON("/api/batches"),
    getJSON("/api/payouts?status=failed&limit=100")]);
  const form = el("form", { class: "filters", id: "prepare" },
    el("label", {}, t("settlement.programme"), el("select", { name: "programme" }, state.programmes.map((p) => el("option", { value: p.name }, programmeTitle(p.name))))),
    el("label", {}, t("settlement.day"), el("input", { name: "day", type: "date", required: true })),
    el("button", { type: "submit", disabled: !may("prepare") }, t("settlement.prepare_batch")));
  form.addEventListener("submit", (e) => { e.preventDefault(); prepare(form.elements.programme.value, form.elements.day.value); });
  const upload = el("form", { class: "filters", id: "confirmation" },
    el("label", {}, t("settlement.confirmation_file"), el("input", { name: "file", type: "file", accept: ".csv,text/csv", required: true })),
    el("button", { type: "submit", disabled: !may("settle") }, t("settlement.import")));
  upload.addEventListener("submit", (e) => { e.preventDefault(); importFile(upload); });
  render(
    el("h2", {}, t("settlement.title")),
    el("h3", {}, t("settlement.prepare_title")), form,
    days.length ? table({ id: "days" }, [{ key: "settlement.col.day" }, { key: "settlement.col.programme" }, { key: "settlement.col.recorded", num: true },
      { key: "settlement.col.batched", num: true }, {}], days.map((d) => el("tr", {}, el("td", {}, d.day), el("td", {}, programme(d.programme)),
      num(count(d.recorded)), num(count(d.batched)),
      el("td", {}, may("prepare") && d.recorded > d.batched ? el("button", { class: "plain", onclick: () => prepare(d.programme, d.day) }, t("settlement.prepare")) : "")))) : el("p", { class: "empty" }, t("settlement.no_days")),
    el("h3", {}, t("settlement.batches")), batches.length ? batchTable(batches) : el("p", { class: "empty" }, t("settlement.no_batches")),
    el("h3", {}, t("settlement.confirmation")), upload,
    el("h3", {}, t("settlement.failed", { n: failed.items.length })),
    failed.items.length ? payoutTable(failed.items.map((p) => payoutRow(p)), false, { id: "failed" }) : el("p", { class: "empty" }, t("settlement.none_failed")));
}
async function download(batchId, format, encoding) {
  try {
    const query = new URLSearchParams({ format, lang: language() });
    if (encoding) query.set("encoding", encoding);
    const response = await api(`/api/batches/${encodeURIComponent(batchId)}/export?${query}`, { method: "POST" });
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `settlement_${batchId}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
    notice(t("batch.downloaded", { batch: batchId }));
    setTimeout(() => { if (location.hash === `#/batch/${encodeURIComponent(batchId)}`) reshow(); }, 500);
  } catch (e) { notice(said(e), true); }
}
async function showBatch(batchId) {
  const data = await getJSON(`/api/batches/${encodeURIComponent(batchId)}`);
  const b = data.batch;
  const actions = el("div", { class: "row", id: "batch-actions" });
  if (b.status === "prepared" && may("approve")) {
    actions.append(el("button", { id: "approve-batch", onclick: () => act(`/api/batches/${encodeURIComponent(b.batch_id)}/approve`, "batch.approved", { batch: b.batch_id }) }, t("batch.approve")));
  }
  if (b.status !== "prepared" && may("settle")) {
    actions.append(
      el("button", { id: "export", onclick: () => download(b.batch_id, "csv", null) }, t("batch.export.csv")),
      el("button", { id: "export-gb18030", class: "plain", onclick: () => download(b.batch_id, "csv", "gb18030") }, t("batch.export.gb18030")),
      el("button", { id: "export-xlsx", class: "plain", onclick: () => download(b.batch_id, "xlsx", null) }, t("batch.export.xlsx")));
  }
  const rows = data.payouts.map((p) => {
    const row = payoutRow(p);
    row.append(el("td", {}, p.needs_own_approval && !p.approved_by && may("approve")
      ? el("button", { class: "plain approve-payout", onclick: () => act(`/api/payouts/${encodeURIComponent(p.payout_id)}/approve`, "payout.approved") }, t("payout.approve"))
      : p.approved_by ? [t("batch.approved_by_label"), id(p.approved_by)] : ""));
    return row;
  });
  const card = (key, ...value) => el("div", { class: "card" }, el("small", {}, t(key)), ...value);
  render(
    el("h2", {}, t("batch.title"), " ", id(b.batch_id)),
    el("div", { class: "cards" },
      card("batch.status", el("b", { id: "batch-status", "data-status": b.status }, badge("batch_status", b.status))),
      card("batch.payouts", el("b", {}, count(b.payout_count))),
      card("batch.total", el("b", {}, money(b.total_fen))),
      card("batch.prepared", el("b", {}, id(b.prepared_by)), " ", when(b.prepared_at)),
      card("batch.approved_card", el("b", {}, b.approved_by ? id(b.approved_by) : "—"), " ", when(b.approved_at))),
    data.awaiting_own_approval.length ? el("p", { class: "error" }, t("batch.awaiting", { n: data.awaiting_own_approval.length })) : null,
    actions, el("h3", {}, t("batch.payouts_title")), payoutTable(rows, true));
}
page("settlement", { nav: "nav.settlement", order: 50, show: showSettlement });
page("batch", { parent: "settlement", show: showBatch });
