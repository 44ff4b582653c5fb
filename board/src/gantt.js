// The Gantt: one row per technician over today and tomorrow — shifts, travel and work blocks, the visit in
// progress, ETA against deadline markers — and a side list of unassigned and late visits with the reason.
// Drag a work block to another row (or press M on it) to ask the router whether the move is possible.
import { api } from "./api.js";
import { h, clock, when, day, now } from "./util.js";
import { t, word } from "./i18n.js";

export function createGantt({ onMove, onOpenTicket }) {
  const status = h("p", { class: "gantt-status" });
  const axis = h("div", { class: "axis" });
  const rowsBox = h("div", { class: "gantt-rows", role: "list" });
  const side = h("aside", { class: "side", "aria-label": t("board.gantt.side-label") });
  const chart = h("div", { class: "gantt-chart" }, axis, rowsBox);
  const root = h("section", { class: "view gantt", id: "view-gantt", "aria-label": t("board.gantt.label") },
    h("div", { class: "gantt-main" }, status, chart), side);
  let data = null;
  let technicians = [];

  const pos = (iso) => ((Date.parse(iso) - Date.parse(data.start)) / (Date.parse(data.end) - Date.parse(data.start))) * 100;
  const clamp = (x) => Math.max(0, Math.min(100, x));
  function span(a, b) {
    const l = clamp(pos(a)), r = clamp(pos(b));
    return `left:${l}%;width:${Math.max(0.2, r - l)}%`;
  }

  function renderAxis() {
    axis.replaceChildren(h("div", { class: "label" }, t("board.gantt.technician")));
    const track = h("div", { class: "track" });
    const start = Date.parse(data.start), end = Date.parse(data.end);
    const step = (end - start) / 3600e3 > 36 ? 6 : 3;
    for (let t = start; t < end; t += step * 3600e3) {
      const iso = new Date(t).toISOString();
      const label = clock(iso) === "00:00" ? day(iso) : clock(iso);
      track.append(h("span", { class: `tick${clock(iso) === "00:00" ? " day" : ""}`, style: `left:${pos(iso)}%` }, label));
    }
    axis.append(track);
  }

  function block(v, tech) {
    const frag = [];
    if (v.travel_from && v.start) frag.push(h("div", { class: "travel", style: span(v.travel_from, v.eta || v.start), title: t("board.gantt.travel", { from: clock(v.travel_from), to: clock(v.eta || v.start) }) }));
    if (v.start && v.end) {
      const label = `#${v.ticket_id} ${v.site_name || ""}`;
      const el = h("div", {
        class: `work ${v.grade}${v.in_progress ? " in-progress" : ""}${v.late ? " late" : ""}${v.pinned ? " pinned" : ""}`,
        style: span(v.start, v.end), tabindex: "0", draggable: "true", role: "button",
        dataset: { visit: v.visit_id, ticket: v.ticket_id, technician: tech.id },
        title: [
          label,
          word("status", v.status) + (v.pinned ? ` · ${t("board.gantt.pinned")}` : ""),
          t("board.queue.eta-due", { eta: clock(v.eta), due: clock(v.due_at) }) + (v.late ? ` · ${t("board.gantt.late")}` : ""),
          ...(v.reasons || []),
          t("board.gantt.drag-hint"),
        ].join("\n"),
        ondragstart: (e) => { e.dataTransfer.setData("text/plain", String(v.visit_id)); e.dataTransfer.effectAllowed = "move"; },
        onkeydown: (e) => {
          if (e.key === "Enter") onOpenTicket(v.ticket_id);
          if (e.key === "m" || e.key === "M") onMove(v, null, null, technicians);
        },
        ondblclick: () => onOpenTicket(v.ticket_id),
      }, label);
      frag.push(el);
    }
    if (v.eta) frag.push(h("div", { class: "marker eta", style: `left:${clamp(pos(v.eta))}%`, title: t("board.gantt.eta", { eta: clock(v.eta) }) }));
    frag.push(h("div", { class: `marker due${v.late ? " late" : ""}`, style: `left:${clamp(pos(v.due_at))}%`, title: t("board.gantt.deadline", { ticket: v.ticket_id, due: clock(v.due_at) }) }));
    return frag;
  }

  function renderRows() {
    const nowPct = pos(new Date(now()).toISOString());
    rowsBox.replaceChildren(...data.rows.map((r) => {
      const track = h("div", { class: "track", dataset: { technician: r.technician.id } },
        ...r.shifts.map((s) => h("div", { class: `shift${s.on_call ? " on-call" : ""}`, style: span(s.start, s.end), title: t("board.gantt.shift", { from: clock(s.start), to: clock(s.end) }) })),
        ...r.visits.flatMap((v) => block(v, r.technician)),
        // The drive home after the last visit: the day ends at home base, inside the shift.
        ...(r.home || []).map((b) => h("div", { class: "travel home", style: span(b.start, b.end),
          title: t("board.gantt.drive-home", { place: t(`board.gantt.end-place.${(b.kind || "service centre").replaceAll(" ", "_")}`), from: clock(b.start), to: clock(b.end) }) })),
        nowPct >= 0 && nowPct <= 100 ? h("div", { class: "now", style: `left:${nowPct}%` }) : null);
      track.addEventListener("dragover", (e) => { e.preventDefault(); track.classList.add("drop"); });
      track.addEventListener("dragleave", () => track.classList.remove("drop"));
      track.addEventListener("drop", (e) => {
        e.preventDefault();
        track.classList.remove("drop");
        const visitId = Number(e.dataTransfer.getData("text/plain"));
        const v = data.rows.flatMap((x) => x.visits).find((x) => x.visit_id === visitId);
        const rect = track.getBoundingClientRect();
        const frac = Math.max(0, Math.min(1, (e.clientX - rect.left) / rect.width));
        const at = new Date(Date.parse(data.start) + frac * (Date.parse(data.end) - Date.parse(data.start)));
        if (v) onMove(v, r.technician, at.toISOString(), technicians);
      });
      return h("div", { class: "row", role: "listitem", dataset: { technician: r.technician.id } },
        h("div", { class: "label", title: r.skills.map((k) => word("equipment", k)).join(", ") }, r.technician.name, h("small", {}, r.skills.map((k) => word("equipment", k)).join(" · "))),
        track);
    }));
  }

  function renderSide() {
    const item = (x) => h("li", { tabindex: "0", class: x.grade, onkeydown: (e) => e.key === "Enter" && onOpenTicket(x.ticket_id), onclick: () => onOpenTicket(x.ticket_id) },
      h("strong", {}, `#${x.ticket_id} `, x.site_name || ""), h("small", {}, `${t("board.queue.due", { due: when(x.due_at) })} — ${x.reason}`));
    side.replaceChildren(
      h("h3", {}, t("board.gantt.unassigned", { count: data.unassigned.length })),
      h("ul", { class: "unassigned" }, ...data.unassigned.map(item)),
      h("h3", {}, t("board.gantt.late-count", { count: data.late.length })),
      h("ul", { class: "late" }, ...data.late.map(item)));
  }

  async function load() {
    const focusedVisit = root.contains(document.activeElement) ? document.activeElement.dataset?.visit : null;
    data = await api("/board/schedule", { params: { limit: 200 } });
    technicians = data.rows.map((r) => ({ ...r.technician, skills: r.skills }));
    const visits = data.rows.reduce((n, r) => n + r.visits.length, 0);
    status.textContent = data.rows.length
      ? t("board.gantt.status", { technicians: data.total_technicians, visits, from: when(data.start), to: when(data.end),
        source: t(data.source === "live plan" ? "board.gantt.source-live" : "board.gantt.source-recorded") })
      : t("board.gantt.no-technicians");
    renderAxis();
    renderRows();
    renderSide();
    root.dataset.loaded = "true";
    if (focusedVisit) rowsBox.querySelector(`.work[data-visit="${focusedVisit}"]`)?.focus({ preventScroll: true });
  }

  return { root, load, technicians: () => technicians };
}
