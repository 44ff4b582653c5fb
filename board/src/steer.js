// Steering the plan: validate-and-pin moves, optimise with a previewed diff, regrade, escalations, timeline.
import { api, optional } from "./api.js";
import { GRADES, gradeLabel, h, when, now, num, reasonsText, toast } from "./util.js";
import { t as tr, word } from "./i18n.js";
import { recordSite } from "./intake.js";

const notRunning = () => tr("board.plan.not-running");

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
  if (res.eta) parts.push(tr("board.move.eta", { eta: when(res.eta) }));
  if (res.deadline) parts.push(tr("board.move.deadline", { due: when(res.deadline) }));
  if (res.late_minutes) parts.push(tr("board.move.late", { minutes: Math.round(res.late_minutes) }));
  else if (res.eta) parts.push(tr("board.move.on-time"));
  if (res.late_visits_after !== null && res.late_visits_after !== undefined) parts.push(tr("board.move.late-after", { count: res.late_visits_after }));
  return parts.join(" · ");
}

const reasonList = (reasons) => h("ul", { class: "reasons" }, ...(reasons || []).map((r) => h("li", {}, r)));

// Drag (or M) → the router checks the move (skills, shift, deadline effect) → the dispatcher pins it.
// A drop on the timeline also chooses a time: rounded to a quarter hour, and ignored when it is (nearly) now or
// earlier, so dropping on a row's left part just changes the technician.
function dropTime(at) {
  if (!at) return null;
  const quarter = 15 * 60e3;
  const t = Math.round(Date.parse(at) / quarter) * quarter;
  return t > now() + 10 * 60e3 ? new Date(t).toISOString() : null;
}

export async function proposeMove(visit, technician, at, technicians, { onChanged }) {
  if (!technician) {
    const sel = h("select", { "aria-label": tr("board.gantt.technician"), id: "move-technician" }, ...technicians.map((t) => h("option", { value: t.id }, `${t.name} (${t.skills.map((k) => word("equipment", k)).join(", ")})`)));
    modal(tr("board.move.title", { ticket: visit.ticket_id }), h("div", { class: "form" }, h("label", {}, tr("board.move.to"), " ", sel)), [
      { label: tr("board.move.check"), primary: true, run: async (close) => {
        close();
        const t = technicians.find((x) => String(x.id) === sel.value);
        await proposeMove(visit, t, null, technicians, { onChanged });
      } },
      { label: tr("board.cancel") },
    ]);
    return;
  }
  const startAt = dropTime(at);
  const body = { ticket_id: visit.ticket_id, technician_id: technician.id };
  if (startAt) body.start_at = startAt;
  let res;
  try {
    res = await optional("/plans/validate-move", { method: "POST", body });
  } catch (e) {
    modal(tr("board.move.refused"), h("div", {}, h("p", { class: "refused" }, e.message), reasonList(e.problem?.reasons)), [{ label: tr("board.ok"), primary: true }]);
    return;
  }
  if (res === null) { toast(notRunning(), "error"); return; }
  if (!res.feasible) {
    modal(tr("board.move.refused"), h("div", { class: "refused-box" },
      h("p", { class: "refused" }, tr("board.move.cannot-take", { name: technician.name, ticket: visit.ticket_id })), reasonList(res.reasons)), [{ label: tr("board.ok"), primary: true }]);
    return;
  }
  const named = { ticket: visit.ticket_id, name: technician.name, time: startAt ? when(startAt) : "" };
  modal(tr(startAt ? "board.move.confirm-at" : "board.move.confirm", named), h("div", {},
    h("p", { class: "effect" }, effectText(res)), reasonList(res.reasons)), [
    { label: tr("board.move.pin"), primary: true, run: async (close) => {
      try {
        await api("/plans/pin", { method: "POST", body });
        toast(tr(startAt ? "board.move.pinned-at" : "board.move.pinned", named));
        close();
        onChanged();
      } catch (e) {
        close();
        modal(tr("board.move.refused"), h("div", {}, h("p", { class: "refused" }, e.message), reasonList(e.problem?.reasons)), [{ label: tr("board.ok"), primary: true }]);
      }
    } },
    { label: tr("board.cancel") },
  ]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Deadlines a draft keeps or loses, with their times (older drafts carry ids only).
function deadlineList(detailed, ids) {
  if (detailed && detailed.length) {
    return h("ul", {}, ...detailed.map((d) => h("li", {}, tr("board.plan.deadline-detail", {
      ticket: d.ticket_id, due: when(d.deadline), before: d.before ? when(d.before.eta) : "–", after: d.after ? when(d.after.eta) : "–" }))));
  }
  return (ids || []).map((t) => `#${t}`).join(" ") || tr("board.none");
}

// Optimise: ask for a draft (the worker computes it), wait for it, show the diff, apply or discard.
export async function optimise({ onChanged, technicianName }) {
  let draft;
  try {
    draft = await optional("/plans", { method: "POST", body: { reason: "dispatcher asked to optimise" } });
  } catch (e) { toast(e.message, "error"); return; }
  if (draft === null) { toast(notRunning(), "error"); return; }
  let cancelled = false;
  const waiting = h("p", { class: "waiting" }, tr("board.plan.computing"));
  const closeWait = modal(tr("board.plan.optimising"), waiting, [{ label: tr("board.cancel"), run: async (close) => {
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
    toast(draft.status === "failed" ? tr("board.plan.failed", { error: draft.error }) : tr("board.plan.not-ready"), "error");
    return;
  }
  const diff = draft.diff || {};
  const name = (id) => (id === null || id === undefined ? tr("board.unassigned") : technicianName(Number(id)) || tr("board.plan.technician-id", { id }));
  const moves = [...(diff.moves || []), ...(diff.added || []), ...(diff.removed || [])];
  const km = diff.km_delta ?? 0;
  const summary = h("dl", { class: "diff-summary" },
    h("dt", {}, tr("board.plan.moves")), h("dd", { id: "diff-moves" }, String((diff.moves || []).length)),
    h("dt", {}, tr("board.plan.added-dropped")), h("dd", {}, `${(diff.added || []).length} / ${(diff.removed || []).length}`),
    h("dt", {}, tr("board.plan.gained")), h("dd", { class: "gain", id: "diff-gained" }, deadlineList(diff.deadlines_kept_now, diff.deadlines_gained)),
    h("dt", {}, tr("board.plan.lost")), h("dd", { class: "loss", id: "diff-lost" }, deadlineList(diff.deadlines_missed_now, diff.deadlines_lost)),
    h("dt", {}, tr("board.plan.late")), h("dd", {}, `${diff.late_before ?? "?"} → ${diff.late_after ?? "?"}`),
    h("dt", {}, tr("board.unassigned")), h("dd", {}, `${diff.unassigned_before ?? "?"} → ${diff.unassigned_after ?? "?"}`),
    h("dt", {}, tr("board.plan.driving")), h("dd", {}, tr("board.plan.km", { km: `${km > 0 ? "+" : ""}${num(Number(km))}` })));
  const list = h("ul", { class: "moves", id: "diff-move-list" }, ...moves.slice(0, 200).map((m) => h("li", {},
    m.deadline !== undefined
      ? tr("board.plan.move-detail", { ticket: m.ticket_id ?? m.visit_id, from: m.from_name ?? name(m.from_technician), to: m.to_name ?? name(m.to_technician),
        before: m.before ? when(m.before.eta) : "–", after: m.after ? when(m.after.eta) : "–", due: when(m.deadline) })
      : tr("board.plan.move", { ticket: m.visit_id, from: name(m.from_technician), to: name(m.to_technician) }))));
  modal(tr("board.plan.draft", { id: draft.id }), h("div", { id: "draft-preview" }, summary, list), [
    { label: tr("board.plan.apply"), primary: true, run: async (close) => {
      try {
        await api(`/plans/${draft.id}/apply`, { method: "POST" });
        toast(tr("board.plan.applied")); close(); onChanged();
      } catch (e) {
        toast(e.status === 409 ? tr("board.plan.stale") : e.message, "error");
        close();
      }
    } },
    { label: tr("board.plan.discard"), run: async (close) => { await api(`/plans/${draft.id}/discard`, { method: "POST" }).catch(() => {}); close(); } },
  ]);
}

export function createEscalations({ onOpenTicket }) {
  const count = h("span", { class: "count" }, "–");
  const button = h("button", { type: "button", id: "escalations-button", title: tr("board.escalations.open-title"), onclick: () => show() }, tr("board.escalations.button"), " ", count);
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
    const body = !available ? h("p", {}, tr("board.escalations.not-running"))
      : !items.length ? h("p", {}, tr("board.escalations.none"))
      : h("ul", { class: "escalations" }, ...items.map((e) => {
        const last = (e.fired || [])[e.fired.length - 1];
        return h("li", { dataset: { ticket: e.ticket_id } },
          h("span", { class: `badge ${e.grade}` }, gradeLabel(e.grade)), " ",
          h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); onOpenTicket(e.ticket_id); } }, `#${e.ticket_id}`),
          ` ${e.symptom || ""}`,
          h("small", {}, last ? tr("board.escalations.fired", { audience: word("audience", last.audience), message: last.message, at: when(last.fired_at) }) : "",
            ` · ${tr("board.escalations.due", { due: when(e.due_on_site_at) })}`),
          h("button", { type: "button", class: "ack", onclick: async (ev) => {
            try {
              await api(`/escalations/${e.ticket_id}/acknowledge`, { method: "POST", body: { note: tr("board.escalations.note") } });
              ev.target.closest("li").remove();
              toast(tr("board.escalations.acknowledged", { ticket: e.ticket_id }));
              load();
            } catch (err) { toast(err.message, "error"); }
          } }, tr("board.escalations.acknowledge")));
      }));
    modal(tr("board.escalations.title"), body, [{ label: tr("board.close"), primary: true }]);
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
  const pdf = h("button", { type: "button", class: "pdf", onclick: () => openPdf(id) }, tr("board.drawer.pdf"));
  if (!c) return h("section", { class: "confirmation" }, h("h3", {}, tr("board.drawer.confirmation")), h("p", { class: "muted" }, tr("board.drawer.not-signed")), pdf);
  return h("section", { class: "confirmation" }, h("h3", {}, tr("board.drawer.confirmation")),
    h("p", {}, c.satisfied ? tr("board.drawer.satisfied") : tr("board.drawer.unsatisfied"), ` — ${c.signer_name} (${c.signer_role}), ${when(c.signed_at)}`),
    h("p", {}, Object.entries(c.ratings || {}).map(([k, v]) => `${word("dimension", k)} ${v}/5`).join(" · ")),
    c.comment ? h("p", { class: "muted" }, c.comment) : "", pdf);
}

// The ticket's clocks: due, met when and by whom; the ones a person completes get a "done" action with a note.
function clocksBlock(t, { onDone }) {
  const rows = (t.clocks || []).map((c) => {
    const state = c.done_at
      ? tr(c.breached ? "board.clocks.done-late" : "board.clocks.done", { at: when(c.done_at), who: c.done_by || "" })
      : c.breached ? tr("board.clocks.overdue") : tr("board.clocks.pending");
    const note = h("input", { type: "text", class: "clock-note", "aria-label": tr("board.clocks.note"), placeholder: tr("board.clocks.note") });
    const action = c.completable ? h("form", { class: "clock-done", dataset: { clock: c.name }, onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api(`/tickets/${t.id}/clocks/${c.name}/complete`, { method: "POST", body: { note: note.value.trim() || null } });
        toast(tr("board.clocks.completed", { clock: word("clock", c.name), ticket: t.id }));
        onDone();
      } catch (err) { toast(err.message, "error"); }
    } }, note, h("button", { type: "submit" }, tr("board.clocks.mark-done"))) : "";
    return h("li", { class: `clock${c.breached ? " breached" : ""}${c.done_at ? " met" : ""}`, dataset: { clock: c.name } },
      h("strong", {}, word("clock", c.name)), " ", h("small", {}, tr("board.clocks.due", { due: when(c.due_at) })), " ",
      h("span", { class: "clock-state" }, state), c.note ? h("small", { class: "muted" }, ` — ${c.note}`) : "", action);
  });
  return h("section", { class: "clocks", id: "clocks" }, h("h3", {}, tr("board.clocks.title")), h("ul", {}, ...rows));
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
    panel.replaceChildren(h("p", {}, tr("board.drawer.loading", { ticket: id })));
    panel.focus();
    const [full, timeline, confirmation] = await Promise.all([
      optional(`/tickets/${id}`).catch(() => null),
      optional(`/tickets/${id}/timeline`).catch(() => null),
      optional(`/tickets/${id}/confirmation`).catch(() => null),
    ]);
    t = full || t;
    const grade = h("select", { "aria-label": tr("board.drawer.new-grade") }, ...GRADES.map((g) => h("option", { value: g, selected: t && t.grade === g }, gradeLabel(g))));
    const reason = h("input", { type: "text", "aria-label": tr("board.drawer.regrade-reason"), placeholder: tr("board.drawer.reason-required"), required: true });
    const regrade = h("form", { class: "regrade", onsubmit: async (e) => {
      e.preventDefault();
      if (!reason.value.trim()) { reason.focus(); return; }
      try {
        const res = await optional(`/tickets/${id}/regrade`, { method: "POST", body: { grade: grade.value, reason: reason.value.trim() } });
        if (res === null) { toast(tr("board.drawer.regrade-unavailable"), "error"); return; }
        toast(tr("board.drawer.regraded", { ticket: id, grade: gradeLabel(grade.value) })); onChanged(); open(id);
      } catch (err) { toast(err.message, "error"); }
    } }, h("h3", {}, tr("board.drawer.regrade")), grade, reason, h("button", { type: "submit" }, tr("board.drawer.regrade")));
    const entries = timeline ? (Array.isArray(timeline) ? timeline : timeline.items || timeline.entries || []) : null;
    panel.replaceChildren(
      h("header", {}, h("h2", {}, tr("board.drawer.title", { ticket: id })), h("button", { type: "button", class: "close", "aria-label": tr("board.close"), onclick: close }, "✕")),
      t ? h("dl", {},
        h("dt", {}, tr("board.drawer.grade")), h("dd", {}, h("span", { class: `badge ${t.grade}` }, gradeLabel(t.grade)), " ", h("small", {}, reasonsText(t.grade_reasons))),
        h("dt", {}, tr("board.drawer.status")), h("dd", {}, word("status", t.status)),
        h("dt", {}, tr("board.drawer.customer")), h("dd", {}, t.customer?.name || "–"),
        h("dt", {}, tr("board.drawer.site")), h("dd", {}, t.site ? `${t.site.name}, ${t.site.address || ""}` : h("span", {},
          tr("board.drawer.no-site"), " ", h("button", { type: "button", id: "record-site", onclick: () => recordSite(t, { onDone: () => { onChanged(); open(id); } }) }, tr("board.drawer.record-site")))),
        h("dt", {}, tr("board.drawer.equipment")), h("dd", {}, t.equipment ? `${word("equipment", t.equipment.equipment_type)} ${t.equipment.model} ${t.equipment.serial_number}` : "–"),
        h("dt", {}, tr("board.drawer.symptom")), h("dd", {}, t.symptom || "–"),
        h("dt", {}, tr("board.drawer.due")), h("dd", {}, when(t.due_on_site_at)),
        h("dt", {}, tr("board.gantt.technician")), h("dd", {}, t.technician ? `${t.technician.name}${t.eta ? `, ${tr("board.move.eta", { eta: when(t.eta) })}` : ""}` : tr("board.unassigned")),
        h("dt", {}, tr("board.drawer.alarms")), h("dd", {}, String(t.alarm_count ?? 0))) : h("p", {}, tr("board.drawer.unavailable")),
      t ? clocksBlock(t, { onDone: () => { onChanged(); open(id); } }) : "",
      regrade,
      confirmationBlock(id, confirmation?.confirmation),
      h("h3", {}, tr("board.drawer.timeline")),
      entries === null ? h("p", { class: "muted" }, tr("board.drawer.timeline-unavailable"))
        : h("ol", { class: "timeline", id: "timeline" }, ...entries.map((e) => {
          const pdf = e.data?.pdf_url || e.pdf_url;
          return h("li", { class: `tl-${e.kind}` },
            h("time", {}, when(e.at)), " ", h("span", { class: "tl-kind" }, word("timeline", e.kind)), " ",
            h("strong", {}, e.title || ""), e.detail ? h("small", {}, e.detail) : "", e.actor ? h("small", {}, e.actor) : "",
            pdf ? h("a", { href: pdf, target: "_blank", rel: "noopener" }, tr("board.drawer.confirmation-pdf")) : "");
        })));
    panel.querySelector("button.close").focus();
  }
  return { panel, open, close };
}
