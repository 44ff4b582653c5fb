// The queue: open tickets grouped by grade, least time left first, live countdowns, server-side filters.
import { api, prefetched } from "./api.js";
import { GRADES, gradeLabel, countdown, h, reasonsText, setServerNow, when, clock, debounce } from "./util.js";
import { t, word } from "./i18n.js";

const tr = t; // inside row() `t` is the ticket

const PAGE = 50;
const ICON = { phone: "☎", device: "📡", web: "🌐", app: "📱" };
const source = (channel) => `${ICON[channel] || ""} ${word("channel", channel)}`.trim();
const STATUSES = ["new", "assigned", "accepted", "en_route", "on_site", "reopened"];
const EQUIPMENT = ["tower_crane", "construction_hoist", "elevator", "base_station", "facility"];

function pageParams(g, offset, filters) {
  return { grade: g, limit: PAGE, offset, region: filters.region, equipment_type: filters.equipment_type,
    status: filters.status || undefined, q: filters.q };
}

function filterParams(filters) {
  return { limit: PAGE, region: filters.region, equipment_type: filters.equipment_type,
    status: filters.status || undefined, q: filters.q };
}

// The first page of every grade in one request: started before the page is built, to overlap the config call.
export function prefetchQueue() {
  return prefetched("groups").then(
    (early) => early || api("/board/queue/groups", { params: filterParams({ region: "", equipment_type: "", status: "", q: "" }) }));
}

export function createQueue({ onOpen, firstPages }) {
  let prefetched = firstPages || null;
  const filters = { region: "", equipment_type: "", status: "", q: "" };
  const offsets = { major: 0, serious: 0, general: 0 };
  const groups = {};
  let regions = [];
  let timer = null;

  const search = h("input", {
    type: "search", id: "queue-search", placeholder: t("board.queue.search-placeholder"),
    "aria-label": t("board.queue.search"),
    oninput: debounce((e) => { filters.q = e.target.value.trim(); resetAndLoad(); }, 250),
  });
  // `group` names both the filter's texts (board.queue.filter.<group>) and the words of its codes.
  const select = (name, group, options) =>
    h("select", { "aria-label": t(`board.queue.filter.${group}`), id: `filter-${name}`, onchange: (e) => { filters[name] = e.target.value; resetAndLoad(); } },
      h("option", { value: "" }, t(`board.queue.filter.all-${group}`)),
      ...options.map((o) => h("option", { value: o }, word(group, o))));
  const regionSelect = select("region", "region", regions);
  const bar = h("div", { class: "filters" }, search, regionSelect,
    select("equipment_type", "equipment", EQUIPMENT), select("status", "status", STATUSES));
  const body = h("div", { class: "queue-groups" });
  const root = h("section", { class: "view queue", id: "view-queue", "aria-label": t("board.queue.label") }, bar, body);

  for (const g of GRADES) {
    const list = h("ol", { class: "rows", "aria-label": t("board.queue.grade-tickets", { grade: gradeLabel(g) }) });
    const count = h("span", { class: "count" }, "0");
    const pager = h("div", { class: "pager" });
    const section = h("section", { class: `group grade-${g}`, dataset: { grade: g } },
      h("h2", {}, h("span", { class: `badge ${g}` }, gradeLabel(g)), " ", count), list, pager);
    groups[g] = { section, list, count, pager };
    body.append(section);
  }

  function resetAndLoad() { GRADES.forEach((g) => (offsets[g] = 0)); load(); }

  function row(t) {
    // The countdown is the ticket's next clock, as GET /tickets says (on-site, or the department notice, …).
    const next = t.next_clock;
    const li = h("li", {
      class: "ticket", tabindex: "0", dataset: { id: t.id, due: next ? next.due_at : "", clock: next ? next.name : "", grade: t.grade },
      title: reasonsText(t.grade_reasons),
      onclick: () => onOpen(t),
      onkeydown: (e) => { if (e.key === "Enter") onOpen(t); },
    },
      h("span", { class: "cd", "aria-label": tr("board.queue.time-left") }, ""),
      h("span", { class: "who" },
        h("strong", {}, `#${t.id} `, t.customer ? t.customer.name : t.reporter_name || tr("board.queue.unknown-customer")),
        h("small", {}, t.site ? [t.site.name, t.site.region].filter(Boolean).join(" · ") : tr("board.queue.no-site"))),
      h("span", { class: "what" },
        t.equipment ? `${word("equipment", t.equipment.equipment_type)} ${t.equipment.model} · ${t.equipment.serial_number}` : "",
        h("small", {}, t.symptom || "")),
      h("span", { class: "src" }, source(t.channel),
        t.alarm_count ? h("span", { class: "alarms", title: tr("board.queue.linked-alarms") }, ` ⚠ ${t.alarm_count}`) : ""),
      h("span", { class: "tech" }, t.technician ? t.technician.name : tr("board.unassigned"),
        h("small", {}, t.eta ? tr("board.queue.eta-due", { eta: clock(t.eta), due: clock(t.due_on_site_at) }) : tr("board.queue.due", { due: when(t.due_on_site_at) }))),
      h("span", { class: `status st-${t.status}` }, word("status", t.status)));
    if (t.at_risk) li.classList.add("at-risk");
    paintRow(li);
    return li;
  }

  function paintRow(li) {
    const cd = li.querySelector(".cd");
    if (!li.dataset.due) { // every clock met (the technician is on site): nothing counts down
      cd.textContent = tr("board.clocks.all-met");
      li.classList.remove("breached", "soon");
      return;
    }
    const c = countdown(li.dataset.due);
    const name = li.dataset.clock;
    cd.textContent = name && name !== "on_site" ? `${word("clock", name)} ${c.text}` : c.text;
    cd.title = word("clock", name);
    li.classList.toggle("breached", c.seconds < 0);
    li.classList.toggle("soon", c.seconds >= 0 && c.seconds < 3600);
  }

  async function loadGroup(g, ready) {
    const page = ready || (await api("/board/queue", { params: pageParams(g, offsets[g], filters) }));
    if (page.now) setServerNow(page.now);
    const grp = groups[g];
    grp.count.textContent = String(page.total);
    grp.list.replaceChildren(...page.items.map(row));
    if (!page.items.length) grp.list.append(h("li", { class: "empty" }, t("board.queue.empty")));
    const from = page.total ? page.offset + 1 : 0;
    const to = page.offset + page.items.length;
    grp.pager.replaceChildren(
      h("span", {}, t("board.queue.range", { from, to, total: page.total })),
      h("button", { type: "button", disabled: page.offset === 0, onclick: () => { offsets[g] = Math.max(0, offsets[g] - PAGE); loadGroup(g); } }, t("board.queue.prev")),
      h("button", { type: "button", disabled: to >= page.total, onclick: () => { offsets[g] += PAGE; loadGroup(g); } }, t("board.queue.next")));
    for (const it of page.items) if (it.site?.region && !regions.includes(it.site.region)) regions.push(it.site.region);
  }

  async function load() {
    // Live reloads must not take the keyboard focus away from the row the dispatcher is on.
    const focusedId = root.contains(document.activeElement) ? document.activeElement.dataset?.id : null;
    let all = null;
    if (prefetched) {
      try { all = await prefetched; } catch { all = null; }
      prefetched = null;
    }
    if (!all) all = await api("/board/queue/groups", { params: filterParams(filters) });
    setServerNow(all.now);
    // Grades the dispatcher has paged through keep their page; the others come from the one answer.
    await Promise.all(GRADES.map((g) => loadGroup(g, offsets[g] === 0 ? all.groups[g] : null)));
    const have = new Set([...regionSelect.options].map((o) => o.value));
    for (const r of regions.sort()) if (!have.has(r)) regionSelect.append(h("option", { value: r }, r));
    root.dataset.loaded = "true";
    if (focusedId) root.querySelector(`li.ticket[data-id="${focusedId}"]`)?.focus({ preventScroll: true });
    // For bench/board.py: the first frame with the queue rendered (after the next paint).
    if (!performance.getEntriesByName("onsite24:queue-painted").length) {
      requestAnimationFrame(() => setTimeout(() => performance.mark("onsite24:queue-painted"), 0));
    }
  }

  function tick() { root.querySelectorAll("li.ticket").forEach(paintRow); }
  function start() { if (!timer) timer = setInterval(tick, 1000); }
  function focusSearch() { search.focus(); }
  function moveFocus(step) {
    const rows = [...root.querySelectorAll("li.ticket")];
    if (!rows.length) return;
    const i = rows.indexOf(document.activeElement);
    rows[Math.min(rows.length - 1, Math.max(0, i + step))].focus();
  }
  start();
  return { root, load, focusSearch, moveFocus };
}
