// Reports with charts (Chart.js) and the numbers in tables beside them; every report downloads as CSV.
import { Chart, registerables } from "chart.js";
import { api } from "./api.js";
import { GRADES, gradeLabel, h, pct, toast } from "./util.js";
import { t, word } from "./i18n.js";

Chart.register(...registerables);
const COLOUR = { major: "#c0262d", serious: "#e08a00", general: "#2f6fb5" };

function table(columns, rows, fmt = {}) {
  return h("table", { class: "numbers" },
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, t(`board.reports.col.${c}`))))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...columns.map((c) => h("td", { dataset: { col: c, value: r[c] ?? "" } }, fmt[c] ? fmt[c](r[c]) : r[c] ?? "–"))))));
}

export function createReports() {
  const weeks = h("select", { "aria-label": t("board.reports.period"), id: "report-weeks", onchange: () => load() },
    ...[4, 8, 12, 26, 52].map((w) => h("option", { value: w, selected: w === 8 }, t("board.reports.last-weeks", { count: w }))));
  const by = h("select", { "aria-label": t("board.reports.by"), id: "report-by", onchange: () => loadBreakdown() },
    ...["category", "nature", "equipment_type", "channel"].map((b) => h("option", { value: b }, t(`board.reports.by-${b}`))));
  const cards = {};
  const charts = {};
  const card = (id, title, extra) => {
    const body = h("div", { class: "card-body" });
    const el = h("article", { class: "card", id: `report-${id}` },
      h("header", {}, h("h3", {}, title), extra || "", h("button", { type: "button", class: "csv", onclick: () => download(id) }, t("board.reports.csv"))), body);
    cards[id] = body;
    return el;
  };
  const root = h("section", { class: "view reports", id: "view-reports", "aria-label": t("board.views.reports") },
    h("div", { class: "filters" }, weeks),
    h("div", { class: "cards" },
      card("on-time", t("board.reports.on-time")),
      card("breakdown", t("board.reports.breakdown"), by),
      card("response-times", t("board.reports.response-times")),
      card("satisfaction", t("board.reports.satisfaction")),
      card("return-visits", t("board.reports.return-visits"))));

  const range = () => ({ from: new Date(Date.now() - Number(weeks.value) * 7 * 864e5).toISOString() });
  const path = (id) => (id === "breakdown" ? "/reports/breakdown" : `/reports/${id}`);
  const params = (id) => (id === "breakdown" ? { ...range(), by: by.value } : range());

  async function download(id) {
    try {
      const res = await api(path(id), { params: { ...params(id), format: "csv" }, raw: true });
      const url = URL.createObjectURL(await res.blob());
      const a = h("a", { href: url, download: `onsite24-${id}.csv` });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 5000);
    } catch (e) { toast(e.message, "error"); }
  }

  function chart(id, config) {
    charts[id]?.destroy();
    const canvas = h("canvas", { role: "img", "aria-label": config.label || id });
    cards[id].prepend(h("div", { class: "chart" }, canvas));
    charts[id] = new Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options } });
  }

  async function loadOnTime() {
    const r = await api("/reports/on-time", { params: range() });
    const weeksList = [...new Set(r.rows.map((x) => x.week))];
    cards["on-time"].replaceChildren(
      h("p", { class: "headline" }, t("board.reports.overall"), " ", h("strong", { id: "on-time-overall" }, pct(r.overall.rate)), " ",
        t("board.reports.decided", { onTime: r.overall.on_time, tickets: r.overall.tickets })),
      table(["week", "grade", "tickets", "on_time", "rate"], r.rows, { rate: pct, grade: gradeLabel }));
    chart("on-time", {
      type: "line", label: t("board.reports.on-time-chart"),
      data: { labels: weeksList, datasets: GRADES.map((g) => ({ label: gradeLabel(g), borderColor: COLOUR[g], backgroundColor: COLOUR[g],
        data: weeksList.map((w) => { const x = r.rows.find((y) => y.week === w && y.grade === g); return x ? x.rate * 100 : null; }) })) },
      options: { scales: { y: { min: 0, max: 100, title: { display: true, text: t("board.reports.pct-on-time") } } } },
    });
  }

  async function loadBreakdown() {
    const r = await api("/reports/breakdown", { params: params("breakdown") });
    const group = { equipment_type: "equipment" }[r.by] || r.by;
    const key = (k) => word(group, k);
    cards.breakdown.replaceChildren(h("p", { class: "headline" }, t("board.reports.tickets", { count: r.total })), table(["key", "tickets", "share"], r.rows, { share: pct, key }));
    chart("breakdown", { type: "bar", label: t(`board.reports.by-${r.by}`),
      data: { labels: r.rows.map((x) => key(x.key)), datasets: [{ label: t("board.reports.col.tickets"), data: r.rows.map((x) => x.tickets), backgroundColor: "#2f6fb5" }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } } } });
  }

  async function loadTimes() {
    const r = await api("/reports/response-times", { params: range() });
    const cols = ["grade", "tickets", "first_response_p50_min", "first_response_p90_min", "resolution_p50_min", "resolution_p90_min"];
    cards["response-times"].replaceChildren(table(cols, r.rows, { grade: gradeLabel }));
    chart("response-times", { type: "bar", label: t("board.reports.median-minutes"),
      data: { labels: r.rows.map((x) => gradeLabel(x.grade)), datasets: [
        { label: t("board.reports.col.first_response_p50_min"), data: r.rows.map((x) => x.first_response_p50_min), backgroundColor: "#6a9fd8" },
        { label: t("board.reports.col.resolution_p50_min"), data: r.rows.map((x) => x.resolution_p50_min), backgroundColor: "#274c77" }] } });
  }

  async function loadOptional(id, render) {
    const r = await api(`/reports/${id}`, { params: range() });
    if (!r.available || !r.rows.length) { charts[id]?.destroy(); cards[id].replaceChildren(h("p", { class: "muted" }, r.reason || t("board.reports.nothing"))); return; }
    render(r);
  }

  async function load() {
    const jobs = [loadOnTime(), loadBreakdown(), loadTimes(),
      loadOptional("satisfaction", (r) => {
        cards.satisfaction.replaceChildren(
          h("p", { class: "muted" }, t("board.reports.satisfaction-help")),
          table(["dimension", "importance", "performance", "answers"], r.rows, { dimension: (d) => word("dimension", d) }));
        chart("satisfaction", { type: "scatter", label: t("board.reports.satisfaction"),
          data: { datasets: [{ label: t("board.reports.col.dimension"), backgroundColor: "#c0262d", pointRadius: 6,
            data: r.rows.map((x) => ({ x: x.importance ?? 0, y: x.performance, label: word("dimension", x.dimension) })) }] },
          options: { scales: { x: { min: -1, max: 1, title: { display: true, text: t("board.reports.col.importance") } }, y: { min: 1, max: 5, title: { display: true, text: t("board.reports.col.performance") } } },
            plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => t("board.reports.point", { name: c.raw.label, importance: c.raw.x, performance: c.raw.y }) } } } } });
      }),
      loadOptional("return-visits", (r) => {
        cards["return-visits"].replaceChildren(table(["week", "due", "done", "on_time", "rate"], r.rows, { rate: pct }));
        chart("return-visits", { type: "bar", label: t("board.reports.return-visits"),
          data: { labels: r.rows.map((x) => x.week), datasets: [{ label: t("board.reports.col.on_time"), data: r.rows.map((x) => x.on_time), backgroundColor: "#3a8f5c" }, { label: t("board.reports.col.due"), data: r.rows.map((x) => x.due), backgroundColor: "#bbb" }] } });
      })];
    const results = await Promise.allSettled(jobs);
    results.filter((x) => x.status === "rejected").forEach((x) => toast(x.reason.message, "error"));
    root.dataset.loaded = "true";
  }
  return { root, load };
}
