// Steering the plan: validate-and-pin moves, optimise with a previewed diff, regrade, escalations, timeline.
import { api, optional } from "./api.js";
import { GRADES, GRADE_LABEL, h, when, clock, reasonsText, toast } from "./util.js";

const NOT_RUNNING = "The planning service is not running on this server yet.";

// A modal <dialog>: Escape closes it, focus moves into it and back afterwards.
export function modal(title, content, actions) {
  const previous = document.activeElement;
  const dlg = h("dialog", { class: "modal", "aria-label": title });
  const close = () => { dlg.close(); dlg.remove(); previous?.focus?.(); };
  dlg.append(h("h2", {}, title), content,
    h("div", { class: "actions" }, ...actions.map((a) => h("button", {
      type: "button", class: a.primary ? "primary" : "", onclick: async () => { if (a.run) await a.run(close); else close(); },
    }, a.label))));
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  dlg.querySelector("button.primary, select, input, button")?.focus();
  return close;
}

function effectText(res) {
  const parts = [];
  if (res.eta) parts.push(`ETA ${when(res.eta)}`);
  if (res.deadline) parts.push(`deadline ${when(res.deadline)}`);
  if (res.late_minutes) parts.push(`${Math.round(res.late_minutes)} min late`);
  else if (res.eta) parts.push("on time");
  if (res.late_visits_after !== null && res.late_visits_after !== undefined) parts.push(`${res.late_visits_after} late visits in the plan after the move`);
  return parts.join(" · ");
}

const reasonList = (reasons) => h("ul", { class: "reasons" }, ...(reasons || []).map((r) => h("li", {}, r)));

// Drag (or M) → the router checks the move (skills, shift, deadline effect) → the dispatcher pins it.
export async function proposeMove(visit, technician, _at, technicians, { onChanged }) {
  if (!technician) {
    const sel = h("select", { "aria-label": "Technician", id: "move-technician" }, ...technicians.map((t) => h("option", { value: t.id }, `${t.name} (${t.skills.join(", ").replace(/_/g, " ")})`)));
    modal(`Move ticket #${visit.ticket_id}`, h("div", { class: "form" }, h("label", {}, "To technician ", sel)), [
      { label: "Check", primary: true, run: async (close) => {
        close();
        const t = technicians.find((x) => String(x.id) === sel.value);
        await proposeMove(visit, t, null, technicians, { onChanged });
      } },
      { label: "Cancel" },
    ]);
    return;
  }
  const body = { ticket_id: visit.ticket_id, technician_id: technician.id };
  let res;
  try {
    res = await optional("/plans/validate-move", { method: "POST", body });
  } catch (e) {
    modal("Move refused", h("div", {}, h("p", { class: "refused" }, e.message), reasonList(e.problem?.reasons)), [{ label: "OK", primary: true }]);
    return;
  }
  if (res === null) { toast(NOT_RUNNING, "error"); return; }
  if (!res.feasible) {
    modal("Move refused", h("div", { class: "refused-box" },
      h("p", { class: "refused" }, `${technician.name} cannot take ticket #${visit.ticket_id}:`), reasonList(res.reasons)), [{ label: "OK", primary: true }]);
    return;
  }
  modal(`Move ticket #${visit.ticket_id} to ${technician.name}?`, h("div", {},
    h("p", { class: "effect" }, effectText(res)), reasonList(res.reasons)), [
    { label: "Pin it", primary: true, run: async (close) => {
      try {
        await api("/plans/pin", { method: "POST", body });
        toast(`Ticket #${visit.ticket_id} pinned to ${technician.name}; the plan is being updated`);
        close();
        onChanged();
      } catch (e) {
        close();
        modal("Move refused", h("div", {}, h("p", { class: "refused" }, e.message), reasonList(e.problem?.reasons)), [{ label: "OK", primary: true }]);
      }
    } },
    { label: "Cancel" },
  ]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Optimise: ask for a draft (the worker computes it), wait for it, show the diff, apply or discard.
export async function optimise({ onChanged, technicianName }) {
  let draft;
  try {
    draft = await optional("/plans", { method: "POST", body: { reason: "dispatcher asked to optimise" } });
  } catch (e) { toast(e.message, "error"); return; }
  if (draft === null) { toast(NOT_RUNNING, "error"); return; }
  let cancelled = false;
  const waiting = h("p", { class: "waiting" }, "The optimiser is computing a draft plan…");
  const closeWait = modal("Optimising", waiting, [{ label: "Cancel", run: async (close) => {
    cancelled = true; close(); await api(`/plans/${draft.id}/discard`, { method: "POST" }).catch(() => {});
  } }]);
  const until = Date.now() + 120_000;
  while (!cancelled && draft.status === "pending" && Date.now() < until) {
    await sleep(500);
    try { draft = await api(`/plans/${draft.id}`); } catch (e) { toast(e.message, "error"); break; }
  }
  if (cancelled) return;
  closeWait();
  if (draft.status !== "ready") {
    toast(draft.status === "failed" ? `The optimiser failed: ${draft.error}` : "The draft is not ready; is the worker running?", "error");
    return;
  }
  const diff = draft.diff || {};
  const name = (id) => (id === null || id === undefined ? "unassigned" : technicianName(Number(id)) || `technician ${id}`);
  const moves = [...(diff.moves || []), ...(diff.added || []), ...(diff.removed || [])];
  const km = diff.km_delta ?? 0;
  const summary = h("dl", { class: "diff-summary" },
    h("dt", {}, "Moves"), h("dd", { id: "diff-moves" }, String((diff.moves || []).length)),
    h("dt", {}, "Newly planned / dropped"), h("dd", {}, `${(diff.added || []).length} / ${(diff.removed || []).length}`),
    h("dt", {}, "Deadlines gained"), h("dd", { class: "gain" }, (diff.deadlines_gained || []).map((t) => `#${t}`).join(" ") || "none"),
    h("dt", {}, "Deadlines lost"), h("dd", { class: "loss" }, (diff.deadlines_lost || []).map((t) => `#${t}`).join(" ") || "none"),
    h("dt", {}, "Late visits"), h("dd", {}, `${diff.late_before ?? "?"} → ${diff.late_after ?? "?"}`),
    h("dt", {}, "Unassigned"), h("dd", {}, `${diff.unassigned_before ?? "?"} → ${diff.unassigned_after ?? "?"}`),
    h("dt", {}, "Driving"), h("dd", {}, `${km > 0 ? "+" : ""}${Number(km).toFixed(1)} km`));
  const list = h("ul", { class: "moves" }, ...moves.slice(0, 200).map((m) => h("li", {},
    `Ticket #${m.visit_id}: ${name(m.from_technician)} → ${name(m.to_technician)}`)));
  modal(`Optimised plan (draft ${draft.id})`, h("div", { id: "draft-preview" }, summary, list), [
    { label: "Apply", primary: true, run: async (close) => {
      try {
        await api(`/plans/${draft.id}/apply`, { method: "POST" });
        toast("The optimised plan is now live"); close(); onChanged();
      } catch (e) {
        toast(e.status === 409 ? "The live plan changed since this draft; optimise again." : e.message, "error");
        close();
      }
    } },
    { label: "Discard", run: async (close) => { await api(`/plans/${draft.id}/discard`, { method: "POST" }).catch(() => {}); close(); } },
  ]);
}

export function createEscalations({ onOpenTicket }) {
  const count = h("span", { class: "count" }, "–");
  const button = h("button", { type: "button", id: "escalations-button", title: "Open escalations (E)", onclick: () => show() }, "Escalations ", count);
  let items = [];
  let available = true;
  async function load() {
    try {
      const res = await optional("/escalations", { params: { open: true, limit: 100 } });
      available = res !== null;
      items = res === null ? [] : Array.isArray(res) ? res : res.items || [];
    } catch { items = []; }
    count.textContent = available ? String(items.length) : "–";
    button.classList.toggle("alert", items.length > 0);
  }
  function show() {
    const body = !available ? h("p", {}, "Escalations are not running on this server yet.")
      : !items.length ? h("p", {}, "No open escalations.")
      : h("ul", { class: "escalations" }, ...items.map((e) => {
        const last = (e.fired || [])[e.fired.length - 1];
        return h("li", { dataset: { ticket: e.ticket_id } },
          h("span", { class: `badge ${e.grade}` }, e.grade), " ",
          h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); onOpenTicket(e.ticket_id); } }, `#${e.ticket_id}`),
          ` ${e.symptom || ""}`,
          h("small", {}, last ? `${last.audience}: ${last.message} (fired ${when(last.fired_at)})` : "", ` · due on site ${when(e.due_on_site_at)}`),
          h("button", { type: "button", class: "ack", onclick: async (ev) => {
            try {
              await api(`/escalations/${e.ticket_id}/acknowledge`, { method: "POST", body: { note: "taken up from the board" } });
              ev.target.closest("li").remove();
              toast(`Escalation on #${e.ticket_id} acknowledged`);
              load();
            } catch (err) { toast(err.message, "error"); }
          } }, "Acknowledge"));
      }));
    modal("Open escalations", body, [{ label: "Close", primary: true }]);
  }
  return { button, load, show };
}

async function openPdf(id) {
  try {
    const res = await api(`/tickets/${id}/report.pdf`, { raw: true });
    const url = URL.createObjectURL(await res.blob());
    window.open(url, "_blank", "noopener");
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (e) { toast(e.message, "error"); }
}

function confirmationBlock(id, c) {
  const pdf = h("button", { type: "button", class: "pdf", onclick: () => openPdf(id) }, "Service report (PDF)");
  if (!c) return h("section", { class: "confirmation" }, h("h3", {}, "Customer confirmation"), h("p", { class: "muted" }, "Not signed yet."), pdf);
  return h("section", { class: "confirmation" }, h("h3", {}, "Customer confirmation"),
    h("p", {}, c.satisfied ? "✔ satisfied" : "✘ not satisfied (reopened)", ` — ${c.signer_name} (${c.signer_role}), ${when(c.signed_at)}`),
    h("p", {}, Object.entries(c.ratings || {}).map(([k, v]) => `${k.replace(/_/g, " ")} ${v}/5`).join(" · ")),
    c.comment ? h("p", { class: "muted" }, c.comment) : "", pdf);
}

// The ticket drawer: summary, grade reasons, regrade, and the full timeline (audit, alarms, events, confirmation).
export function createDrawer({ onChanged }) {
  const panel = h("aside", { class: "drawer", id: "drawer", "aria-label": "Ticket", hidden: true, tabindex: "-1" });
  function close() { panel.hidden = true; }
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });

  async function open(ticketOrId) {
    let t = typeof ticketOrId === "object" ? ticketOrId : null;
    const id = t ? t.id : ticketOrId;
    panel.hidden = false;
    panel.replaceChildren(h("p", {}, `Loading ticket #${id}…`));
    panel.focus();
    const [full, timeline, confirmation] = await Promise.all([
      optional(`/tickets/${id}`).catch(() => null),
      optional(`/tickets/${id}/timeline`).catch(() => null),
      optional(`/tickets/${id}/confirmation`).catch(() => null),
    ]);
    t = full || t;
    const grade = h("select", { "aria-label": "New grade" }, ...GRADES.map((g) => h("option", { value: g, selected: t && t.grade === g }, GRADE_LABEL[g])));
    const reason = h("input", { type: "text", "aria-label": "Reason for the new grade", placeholder: "Reason (required)", required: true });
    const regrade = h("form", { class: "regrade", onsubmit: async (e) => {
      e.preventDefault();
      if (!reason.value.trim()) { reason.focus(); return; }
      try {
        const res = await optional(`/tickets/${id}/regrade`, { method: "POST", body: { grade: grade.value, reason: reason.value.trim() } });
        if (res === null) { toast("Regrading is not available on this server yet.", "error"); return; }
        toast(`Ticket #${id} regraded to ${grade.value}`); onChanged(); open(id);
      } catch (err) { toast(err.message, "error"); }
    } }, h("h3", {}, "Regrade"), grade, reason, h("button", { type: "submit" }, "Regrade"));
    const entries = timeline ? (Array.isArray(timeline) ? timeline : timeline.items || timeline.entries || []) : null;
    panel.replaceChildren(
      h("header", {}, h("h2", {}, `Ticket #${id}`), h("button", { type: "button", class: "close", "aria-label": "Close", onclick: close }, "✕")),
      t ? h("dl", {},
        h("dt", {}, "Grade"), h("dd", {}, h("span", { class: `badge ${t.grade}` }, t.grade), " ", h("small", {}, reasonsText(t.grade_reasons))),
        h("dt", {}, "Status"), h("dd", {}, t.status),
        h("dt", {}, "Customer"), h("dd", {}, t.customer?.name || "–"),
        h("dt", {}, "Site"), h("dd", {}, t.site ? `${t.site.name}, ${t.site.address || ""}` : "–"),
        h("dt", {}, "Equipment"), h("dd", {}, t.equipment ? `${t.equipment.equipment_type} ${t.equipment.model} ${t.equipment.serial_number}` : "–"),
        h("dt", {}, "Symptom"), h("dd", {}, t.symptom || "–"),
        h("dt", {}, "Due on site"), h("dd", {}, when(t.due_on_site_at)),
        h("dt", {}, "Technician"), h("dd", {}, t.technician ? `${t.technician.name}${t.eta ? `, ETA ${when(t.eta)}` : ""}` : "unassigned"),
        h("dt", {}, "Alarms"), h("dd", {}, String(t.alarm_count ?? 0))) : h("p", {}, "Ticket details are not available."),
      regrade,
      confirmationBlock(id, confirmation?.confirmation),
      h("h3", {}, "Timeline"),
      entries === null ? h("p", { class: "muted" }, "The timeline service is not running on this server yet.")
        : h("ol", { class: "timeline", id: "timeline" }, ...entries.map((e) => {
          const pdf = e.data?.pdf_url || e.pdf_url;
          return h("li", { class: `tl-${e.kind}` },
            h("time", {}, when(e.at)), " ", h("span", { class: "tl-kind" }, e.kind), " ",
            h("strong", {}, e.title || ""), e.detail ? h("small", {}, e.detail) : "", e.actor ? h("small", {}, e.actor) : "",
            pdf ? h("a", { href: pdf, target: "_blank", rel: "noopener" }, "Confirmation PDF") : "");
        })));
    panel.querySelector("button.close").focus();
  }
  return { panel, open, close };
}
