// What is waiting to be sent, what the server refused and why (in the technician's language), what went.
import { signOut, state, langPicker, render } from "./main.js";
import { clock, t } from "./i18n.js";
import * as outbox from "./outbox.js";
import { refusal, rowLabel } from "./job.js";
import { add, h } from "./ui.js";

export function renderOutbox(main) {
  main.dataset.screen = "outbox";
  const rows = [...state.rows].sort((a, b) => b.seq - a.seq);
  const waiting = rows.filter((r) => r.state === "waiting");
  const refused = rows.filter((r) => r.state === "refused");
  const sent = rows.filter((r) => r.state === "sent").slice(0, 30);
  const job = (id) => state.jobs.find((j) => j.id === id);
  const line = (r) =>
    h(
      "li",
      { class: `row ${r.state}`, dataset: { key: r.key, kind: r.kind, state: r.state, job: r.job_id } },
      h("div", {}, h("strong", {}, rowLabel(r)), " · ", job(r.job_id)?.site?.name || `#${r.job_id}`),
      h("div", { class: "muted" }, clock(r.device_at)),
      r.state === "refused"
        ? h(
            "div",
            { class: "refusal" },
            h("span", { class: "reason", dataset: { reason: r.reason || "" } }, refusal(r)),
            h("button", { type: "button", class: "btn ghost small dismiss", onclick: () => outbox.dismiss(r) }, t("outbox.dismiss")),
          )
        : null,
    );
  add(
    main,
    h("h1", {}, t("outbox.title")),
    h(
      "p",
      { class: "muted", id: "outbox-summary" },
      waiting.length ? t("outbox.summary-waiting", { n: waiting.length }) : t("outbox.summary-empty"),
      outbox.status.lastSyncAt ? ` · ${t("outbox.last-sync", { at: clock(new Date(outbox.status.lastSyncAt).toISOString()) })}` : "",
    ),
    waiting.length
      ? h("button", { type: "button", class: "btn primary wide", id: "send-now", disabled: !navigator.onLine, onclick: () => outbox.kick() }, navigator.onLine ? t("outbox.send-now") : t("outbox.when-online"))
      : null,
    refused.length ? h("h2", { class: "section refused" }, t("outbox.refused-title")) : null,
    refused.length ? h("ul", { class: "outbox-rows", id: "refused" }, refused.map(line)) : null,
    refused.length ? h("p", { class: "note" }, t("outbox.refused-help")) : null,
    waiting.length ? h("h2", { class: "section" }, t("outbox.waiting-title")) : null,
    waiting.length ? h("ul", { class: "outbox-rows", id: "waiting" }, waiting.map(line)) : null,
    sent.length ? h("h2", { class: "section" }, t("outbox.sent-title")) : null,
    sent.length ? h("ul", { class: "outbox-rows", id: "sent" }, sent.map(line)) : null,
    h("h2", { class: "section" }, t("settings.title")),
    langPicker(() => render()),
    h("button", { type: "button", class: "btn ghost wide", id: "sign-out", onclick: () => signOut() }, t("settings.sign-out")),
    waiting.length ? h("p", { class: "muted small" }, t("settings.sign-out-note")) : null,
  );
}
