// The work report that completes the job: cause, work done, parts, time spent, follow-up, photos.
import { effective, reloadRows, state } from "./main.js";
import { blobGet, kvGet } from "./db.js";
import { t } from "./i18n.js";
import * as outbox from "./outbox.js";
import { findJob } from "./job.js";
import { h, toast } from "./ui.js";

export function renderReport(main, id) {
  main.dataset.screen = "report";
  const job = findJob(id);
  if (!job) return main.append(h("p", { class: "empty" }, t("job.missing")));
  const eff = effective(job);
  const arrived = eff.rows.find((r) => r.type === "event" && r.kind === "arrived" && r.state !== "refused");
  const since = arrived ? Date.parse(arrived.device_at) : null;
  const minutes = since ? Math.max(0, Math.round((Date.now() - since) / 60000)) : "";
  const photos = eff.rows.filter((r) => r.type === "photo" && r.state !== "refused" && r.state !== "dismissed");

  const partRows = h("div", { class: "parts", id: "parts" });
  const partsList = state.parts || [];
  kvGet("parts").then((p) => {
    if (!state.parts && p) state.parts = p;
  });
  function addPart() {
    const sel = h(
      "select",
      { name: "part_id", class: "part-id" },
      h("option", { value: "" }, "–"),
      (state.parts || partsList)
        .filter((p) => !p.equipment_type || !job.equipment || p.equipment_type === job.equipment.equipment_type)
        .map((p) => h("option", { value: p.id }, `${p.code} · ${p.name} (${p.unit})`)),
    );
    const qty = h("input", { type: "number", name: "quantity", class: "part-qty", min: "0.01", step: "any", value: "1", inputmode: "decimal" });
    const row = h("div", { class: "part-row" }, sel, qty, h("button", { type: "button", class: "btn ghost small", onclick: () => row.remove(), "aria-label": t("form.remove") }, "×"));
    partRows.append(row);
  }

  const err = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "report", id: "report-form" },
    h("h1", {}, t("report.title")),
    h("p", { class: "muted" }, job.site?.name || "", " · #", job.ticket_id),
    h("label", {}, t("report.cause"), h("textarea", { name: "cause_found", id: "cause", required: true, rows: 3, maxlength: 4000 })),
    h("label", {}, t("report.work"), h("textarea", { name: "work_done", id: "work", required: true, rows: 4, maxlength: 4000 })),
    h("fieldset", {}, h("legend", {}, t("report.parts")), partRows, h("button", { type: "button", class: "btn ghost", id: "add-part", onclick: addPart }, t("report.add-part"))),
    h("label", {}, t("report.minutes"), h("input", { type: "number", name: "minutes_spent", id: "minutes", required: true, min: 0, max: 10080, value: minutes, inputmode: "numeric" })),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "follow_up_needed", id: "follow-up" }), t("report.follow-up")),
    h("label", {}, t("report.follow-up-note"), h("textarea", { name: "follow_up_note", id: "follow-up-note", rows: 2, maxlength: 2000 })),
    photos.length
      ? h(
          "fieldset",
          {},
          h("legend", {}, t("report.photos")),
          h(
            "div",
            { class: "photos pick" },
            photos.map((r) => {
              const img = h("img", { alt: "", width: 80, height: 80 });
              blobGet(r.key).then((b) => b && (img.src = URL.createObjectURL(b)));
              return h("label", { class: "pick-photo" }, h("input", { type: "checkbox", name: "photo", value: r.key, checked: true }), img);
            }),
          ),
        )
      : null,
    err,
    h("button", { type: "submit", class: "btn primary wide", id: "report-submit" }, t("report.submit")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const used = [];
    for (const row of partRows.querySelectorAll(".part-row")) {
      const pid = Number(row.querySelector(".part-id").value);
      const q = Number(row.querySelector(".part-qty").value);
      if (!pid) continue;
      if (!(q > 0)) {
        err.textContent = t("report.bad-quantity");
        err.hidden = false;
        return;
      }
      used.push({ part_id: pid, quantity: q });
    }
    const fd = new FormData(form);
    const report = {
      cause_found: String(fd.get("cause_found")).trim(),
      work_done: String(fd.get("work_done")).trim(),
      parts_used: used,
      minutes_spent: Number(fd.get("minutes_spent")),
      follow_up_needed: !!fd.get("follow_up_needed"),
      follow_up_note: String(fd.get("follow_up_note") || "").trim() || null,
      photo_ids: fd.getAll("photo").map((k) => `local:${k}`),
    };
    if (!report.cause_found || !report.work_done) {
      err.textContent = t("report.missing");
      err.hidden = false;
      return;
    }
    form.querySelector("#report-submit").disabled = true;
    await outbox.enqueueEvent(job.id, "completed", { report });
    await reloadRows();
    toast(navigator.onLine ? t("outbox.sending") : t("outbox.saved-offline"));
    location.hash = `#/job/${job.id}/close`;
  });
  main.append(form);
}
