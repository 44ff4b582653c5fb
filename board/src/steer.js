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
  if (res.due_at || res.due_on_site_at) parts.push(`due ${when(res.due_at || res.due_on_site_at)}`);
  if (res.deadline_effect) parts.push(typeof res.deadline_effect === "string" ? res.deadline_effect : JSON.stringify(res.deadline_effect));
  if (res.late_minutes) parts.push(`${res.late_minutes} min late`);
  return parts.join(" · ");
}

export async function proposeMove(visit, technician, startAfter, technicians, { onChanged }) {
  if (!technician) {
    // Keyboard path: choose the technician and the earliest start in a form.
    const sel = h("select", { "aria-label": "Technician" }, ...technicians.map((t) => h("option", { value: t.id }, `${t.name} (${t.skills.join(", ")})`)));
    const time = h("input", { type: "datetime-local", "aria-label": "Start after (optional)" });
    modal(`Move visit #${visit.visit_id} (ticket #${visit.ticket_id})`, h("div", { class: "form" }, h("label", {}, "Technician ", sel), h("label", {}, "Start after ", time)), [
      { label: "Check", primary: true, run: async (close) => {
        close();
        const t = technicians.find((x) => String(x.id) === sel.value);
        await proposeMove(visit, t, time.value ? new Date(time.value).toISOString() : null, technicians, { onChanged });
      } },
      { label: "Cancel" },
    ]);
    return;
  }
  const body = { visit_id: visit.visit_id, technician_id: technician.id, start_after: startAfter || undefined };
  let res;
  try {
    res = await optional("/plans/validate-move", { method: "POST", body });
  } catch (e) {
    modal("Move refused", h("p", { class: "refused" }, e.message), [{ label: "OK", primary: true }]);
    return;
  }
  if (res === null) { toast(NOT_RUNNING, "error"); return; }
  if (res.feasible === false || res.ok === false) {
    const why = res.reason || (res.reasons || []).join("; ") || "the router refused the move";
    modal("Move refused", h("p", { class: "refused" }, `${technician.name} cannot take ticket #${visit.ticket_id}: ${why}`), [{ label: "OK", primary: true }]);
    return;
  }
  modal(`Move ticket #${visit.ticket_id} to ${technician.name}?`, h("p", { class: "effect" }, effectText(res) || "The router accepts the move."), [
    { label: "Pin it", primary: true, run: async (close) => {
      try {
        // Contract (issue 5): pinning repeats the validated move with pin=true.
        await api(res.pin_url ? res.pin_url.replace(/^\/api\/v1/, "") : "/plans/pin", { method: "POST", body: { ...body, pin: true } });
        toast(`Ticket #${visit.ticket_id} pinned to ${technician.name}`);
        close();
        onChanged();
      } catch (e) { toast(e.message, "error"); }
    } },
    { label: "Cancel" },
  ]);
}

export async function optimise({ onChanged }) {
  let draft;
  try {
    draft = await optional("/plans", { method: "POST", body: {} });
  } catch (e) { toast(e.message, "error"); return; }
  if (draft === null) { toast(NOT_RUNNING, "error"); return; }
  const diff = draft.diff || {};
  const moves = diff.moves || [];
  const list = h("ul", { class: "moves" }, ...moves.slice(0, 200).map((m) => h("li", {},
    `Ticket #${m.ticket_id ?? "?"}: ${m.from_technician?.name ?? m.from ?? "unassigned"} → ${m.to_technician?.name ?? m.to ?? "unassigned"}${m.eta ? ` (ETA ${clock(m.eta)})` : ""}`)));
  const gained = diff.deadlines_gained ?? diff.gained ?? [];
  const lost = diff.deadlines_lost ?? diff.lost ?? [];
  const n = (x) => (Array.isArray(x) ? x.length : x);
  const km = diff.km_delta ?? diff.km ?? null;
  const summary = h("p", { class: "diff-summary" },
    `${moves.length} moves · deadlines gained ${n(gained)} · lost ${n(lost)}${km !== null ? ` · ${km > 0 ? "+" : ""}${Number(km).toFixed(1)} km` : ""}`);
  modal("Optimised plan (draft)", h("div", {}, summary, list), [
    { label: "Apply", primary: true, run: async (close) => {
      try {
        await api(`/plans/${draft.id}/apply`, { method: "POST" });
        toast("New plan applied"); close(); onChanged();
      } catch (e) {
        toast(e.status === 409 ? "The live plan changed since this draft; optimise again." : e.message, "error");
        close();
      }
    } },
    { label: "Discard" },
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
      : h("ul", { class: "escalations" }, ...items.map((e) => h("li", {},
        h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); onOpenTicket(e.ticket_id); } }, `#${e.ticket_id}`),
        ` ${e.step || e.level || ""} ${e.grade ? `(${e.grade})` : ""} due ${when(e.due_at || e.fired_at)} `,
        h("button", { type: "button", onclick: async (ev) => {
          try { await api(`/escalations/${e.id}/acknowledge`, { method: "POST", body: {} }); ev.target.closest("li").remove(); toast(`Escalation on #${e.ticket_id} acknowledged`); load(); }
          catch (err) { toast(err.message, "error"); }
        } }, "Acknowledge"))));
    modal("Open escalations", body, [{ label: "Close", primary: true }]);
  }
  return { button, load, show };
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
    if (!t) t = await optional(`/tickets/${id}`).catch(() => null);
    const timeline = await optional(`/tickets/${id}/timeline`).catch(() => null);
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
      h("h3", {}, "Timeline"),
      entries === null ? h("p", { class: "muted" }, "The timeline service is not running on this server yet.")
        : h("ol", { class: "timeline" }, ...entries.map((e) => h("li", {},
          h("time", {}, when(e.at || e.time || e.received_at)), " ",
          h("strong", {}, e.kind || e.action || e.type || ""), " ",
          e.text || e.reason || e.message || "",
          e.pdf_url ? h("a", { href: e.pdf_url, target: "_blank", rel: "noopener" }, " PDF") : ""))));
    panel.querySelector("button.close").focus();
  }
  return { panel, open, close };
}
