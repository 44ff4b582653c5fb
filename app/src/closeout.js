// Close-out on site: the customer fills in the service-feedback form and signs on this phone (kept in the
// outbox like everything else, so it works with no signal), or the technician hands over the one-time link.
import { actionText, effective, reloadRows, render, state } from "./main.js";
import { langPicker } from "./main.js";
import { t, when } from "./i18n.js";
import * as outbox from "./outbox.js";
import { findJob } from "./job.js";
import { signaturePad } from "./signature.js";
import { h, sheet, toast } from "./ui.js";

const DIMENSIONS = ["quality", "speed", "attitude", "accurate_information", "safety"];

export function renderClose(main, id) {
  main.dataset.screen = "close";
  const job = findJob(id);
  if (!job) return main.append(h("p", { class: "empty" }, t("job.missing")));
  const eff = effective(job);
  if (eff.confirmation) {
    const unhappy = !eff.confirmation.body.satisfied || DIMENSIONS.some((d) => eff.confirmation.body[d] <= 2);
    main.append(
      h(
        "section",
        { class: "card thanks", id: "thanks" },
        h("h1", {}, t("close.thanks")),
        h("p", {}, unhappy ? t("close.thanks-unhappy") : t("close.thanks-happy")),
        h("p", { class: "muted" }, eff.confirmation.state === "sent" ? t("close.signed-sent") : t("close.signed-waiting")),
        h("a", { class: "btn primary wide", href: "#/" }, t("nav.today")),
      ),
    );
    return;
  }
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const pane = h("div", { class: "tab-pane" });
  const show = (which) => {
    for (const b of tabs.children) b.setAttribute("aria-selected", b.dataset.tab === which ? "true" : "false");
    pane.replaceChildren(which === "sign" ? signForm(job) : linkPane(job, eff));
  };
  tabs.append(
    h("button", { type: "button", role: "tab", dataset: { tab: "sign" }, id: "tab-sign", onclick: () => show("sign") }, t("close.tab-sign")),
    h("button", { type: "button", role: "tab", dataset: { tab: "link" }, id: "tab-link", onclick: () => show("link") }, t("close.tab-link")),
  );
  main.append(h("h1", {}, t("close.title")), tabs, pane);
  show("sign");
}

function choice(name, options, { required = true } = {}) {
  return h(
    "div",
    { class: "choice", role: "radiogroup", dataset: { name } },
    options.map(([value, label]) =>
      h("label", { class: "opt" }, h("input", { type: "radio", name, value, required }), h("span", {}, label)),
    ),
  );
}

function signForm(job) {
  const err = h("p", { class: "form-error", role: "alert", hidden: true });
  const canvas = h("canvas", { class: "sig", id: "sig", "aria-label": t("close.signature") });
  const form = h(
    "form",
    { class: "close-form", id: "close-form" },
    h("p", { class: "note" }, t("close.hand-over")),
    langPicker(() => render(), { forCustomer: true }),
    h("section", { class: "card" }, h("h2", {}, t("close.summary")), h("p", {}, job.site?.name || ""), h("p", { class: "muted" }, job.symptom)),
    h("fieldset", {}, h("legend", {}, t("close.satisfied")), choice("satisfied", [["yes", t("form.yes")], ["no", t("form.no")]])),
    h(
      "fieldset",
      { class: "ratings" },
      h("legend", {}, t("close.ratings")),
      DIMENSIONS.map((d) =>
        h("div", { class: "rating" }, h("span", { class: "rating-label" }, t(`close.dim.${d}`)), choice(d, [1, 2, 3, 4, 5].map((n) => [String(n), String(n)]))),
      ),
      h("p", { class: "muted small" }, t("close.scale")),
    ),
    h("fieldset", {}, h("legend", {}, t("close.relationship")), choice("relationship_kept", [["yes", t("form.yes")], ["no", t("form.no")]], { required: false })),
    h(
      "fieldset",
      {},
      h("legend", {}, t("close.improve")),
      h("label", {}, t("close.improve.product"), h("textarea", { name: "improvement_product", rows: 2, maxlength: 2000 })),
      h("label", {}, t("close.improve.process"), h("textarea", { name: "improvement_process", rows: 2, maxlength: 2000 })),
      h("label", {}, t("close.improve.people"), h("textarea", { name: "improvement_people", rows: 2, maxlength: 2000 })),
    ),
    h("label", {}, t("close.comment"), h("textarea", { name: "comment", rows: 2, maxlength: 4000 })),
    h("label", {}, t("close.signer-name"), h("input", { name: "signer_name", required: true, maxlength: 200, autocomplete: "name", id: "signer-name" })),
    h("label", {}, t("close.signer-role"), h("input", { name: "signer_role", required: true, maxlength: 200, id: "signer-role" })),
    h("div", { class: "sig-box" }, h("span", { class: "sig-label" }, t("close.signature")), canvas, h("button", { type: "button", class: "btn ghost small", id: "sig-clear", onclick: () => pad.clear() }, t("close.clear"))),
    err,
    h("button", { type: "submit", class: "btn primary wide", id: "close-submit" }, t("close.submit")),
  );
  const pad = signaturePad(canvas);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    const missing = ["satisfied", ...DIMENSIONS].filter((k) => !fd.get(k));
    if (missing.length || !String(fd.get("signer_name")).trim() || !String(fd.get("signer_role")).trim()) {
      err.textContent = t("close.incomplete");
      err.hidden = false;
      return;
    }
    if (!pad.signed()) {
      err.textContent = t("close.no-signature");
      err.hidden = false;
      return;
    }
    const body = {
      satisfied: fd.get("satisfied") === "yes",
      ...Object.fromEntries(DIMENSIONS.map((d) => [d, Number(fd.get(d))])),
      comment: String(fd.get("comment") || "").trim() || null,
      signer_name: String(fd.get("signer_name")).trim(),
      signer_role: String(fd.get("signer_role")).trim(),
      signature: pad.dataUrl(),
    };
    if (fd.get("relationship_kept")) body.relationship_kept = fd.get("relationship_kept") === "yes";
    for (const k of ["improvement_product", "improvement_process", "improvement_people"]) {
      const v = String(fd.get(k) || "").trim();
      if (v) body[k] = v;
    }
    form.querySelector("#close-submit").disabled = true;
    await outbox.enqueueConfirmation(job.id, body);
    await reloadRows();
    render();
  });
  return form;
}

function linkPane(job, eff) {
  const link = eff.link;
  const box = h("section", { class: "card link-pane", id: "link-pane" });
  if (!link) {
    box.append(h("p", {}, t("close.link-later")));
  } else {
    box.append(
      h("p", {}, t("close.link-sent")),
      h("div", { class: "qr", html: link.qr_svg }),
      h("p", { class: "url" }, h("a", { href: link.url, target: "_blank", rel: "noopener" }, link.url)),
      h("p", { class: "muted" }, t("close.link-expires", { at: when(link.expires_at, job.site?.timezone) })),
      navigator.share
        ? h("button", { type: "button", class: "btn primary wide", onclick: () => navigator.share({ url: link.url, title: t("close.title") }).catch(() => {}) }, t("close.share"))
        : null,
    );
  }
  if (eff.allowed.includes("signature_refused") || (eff.completed && !eff.pending)) {
    box.append(
      h(
        "button",
        {
          type: "button",
          class: "btn ghost wide",
          id: "refuse-sign",
          onclick: async () => {
            const v = await sheet(actionText(job, "signature_refused"), (el) => {
              el.append(h("label", {}, t("form.reason"), h("textarea", { name: "reason", required: true, rows: 3, maxlength: 1000 })));
            }, { submit: t("form.send"), cancel: t("form.cancel") });
            if (!v) return;
            await outbox.enqueueEvent(job.id, "signature_refused", { reason: v.reason.trim() });
            toast(navigator.onLine ? t("outbox.sending") : t("outbox.saved-offline"));
          },
        },
        actionText(job, "signature_refused"),
      ),
    );
  }
  return box;
}
