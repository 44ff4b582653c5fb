// Reports with charts (Chart.js) and the numbers in tables beside them; every report downloads as CSV.
import { Chart, registerables } from "chart.js";
import { api } from "./api.js";
import { GRADES, h, pct, toast } from "./util.js";

Chart.register(...registerables);
const COLOUR = { major: "#c0262d", serious: "#e08a00", general: "#2f6fb5" };

function table(columns, rows, fmt = {}) {
  return h("table", { class: "numbers" },
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c.replace(/_/g, " "))))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...columns.map((c) => h("td", { dataset: { col: c } }, fmt[c] ? fmt[c](r[c]) : r[c] ?? "–"))))));
}

export function createReports() {
  const weeks = h("select", { "aria-label": "Period", id: "report-weeks", onchange: () => load() },
    ...[4, 8, 12, 26, 52].map((w) => h("option", { value: w, selected: w === 8 }, `last ${w} weeks`)));
  const by = h("select", { "aria-label": "Break down by", id: "report-by", onchange: () => loadBreakdown() },
    ...["category", "nature", "equipment_type", "channel"].map((b) => h("option", { value: b }, b.replace("_", " "))));
  const cards = {};
  const charts = {};
  const card = (id, title, extra) => {
    const body = h("div", { class: "card-body" });
    const el = h("article", { class: "card", id: `report-${id}` },
      h("header", {}, h("h3", {}, title), extra || "", h("button", { type: "button", class: "csv", onclick: () => download(id) }, "CSV")), body);
    cards[id] = body;
    return el;
  };
  const root = h("section", { class: "view reports", id: "view-reports", "aria-label": "Reports" },
    h("div", { class: "filters" }, weeks),
    h("div", { class: "cards" },
      card("on-time", "On-time on-site rate by grade and week"),
      card("breakdown", "Top complaints and their share", by),
      card("response-times", "First response and resolution (minutes)"),
      card("satisfaction", "Satisfaction: importance against performance"),
      card("return-visits", "Return visits done on time")));

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
      h("p", { class: "headline" }, "Overall ", h("strong", { id: "on-time-overall" }, pct(r.overall.rate)), ` (${r.overall.on_time} of ${r.overall.tickets} decided tickets)`),
      table(["week", "grade", "tickets", "on_time", "rate"], r.rows, { rate: pct }));
    chart("on-time", {
      type: "line", label: "On-time rate by week",
      data: { labels: weeksList, datasets: GRADES.map((g) => ({ label: g, borderColor: COLOUR[g], backgroundColor: COLOUR[g],
        data: weeksList.map((w) => { const x = r.rows.find((y) => y.week === w && y.grade === g); return x ? x.rate * 100 : null; }) })) },
      options: { scales: { y: { min: 0, max: 100, title: { display: true, text: "% on time" } } } },
    });
  }

  async function loadBreakdown() {
    const r = await api("/reports/breakdown", { params: params("breakdown") });
    cards.breakdown.replaceChildren(h("p", { class: "headline" }, `${r.total} tickets`), table(["key", "tickets", "share"], r.rows, { share: pct }));
    chart("breakdown", { type: "bar", label: `Tickets by ${r.by}`,
      data: { labels: r.rows.map((x) => x.key), datasets: [{ label: "tickets", data: r.rows.map((x) => x.tickets), backgroundColor: "#2f6fb5" }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } } } });
  }

  async function loadTimes() {
    const r = await api("/reports/response-times", { params: range() });
    const cols = ["grade", "tickets", "first_response_p50_min", "first_response_p90_min", "resolution_p50_min", "resolution_p90_min"];
    cards["response-times"].replaceChildren(table(cols, r.rows));
    chart("response-times", { type: "bar", label: "Median minutes",
      data: { labels: r.rows.map((x) => x.grade), datasets: [
        { label: "first response p50", data: r.rows.map((x) => x.first_response_p50_min), backgroundColor: "#6a9fd8" },
        { label: "resolution p50", data: r.rows.map((x) => x.resolution_p50_min), backgroundColor: "#274c77" }] } });
  }

  async function loadOptional(id, render) {
    const r = await api(`/reports/${id}`, { params: range() });
    if (!r.available || !r.rows.length) { charts[id]?.destroy(); cards[id].replaceChildren(h("p", { class: "muted" }, r.reason || "Nothing in this period.")); return; }
    render(r);
  }

  async function load() {
    const jobs = [loadOnTime(), loadBreakdown(), loadTimes(),
      loadOptional("satisfaction", (r) => {
        cards.satisfaction.replaceChildren(
          h("p", { class: "muted" }, "Performance: mean rating 1–5. Importance: how strongly the rating goes with an overall satisfied customer (−1…1). Improve first: top left."),
          table(["dimension", "importance", "performance", "answers"], r.rows));
        chart("satisfaction", { type: "scatter", label: "importance against performance",
          data: { datasets: [{ label: "dimensions", backgroundColor: "#c0262d", pointRadius: 6,
            data: r.rows.map((x) => ({ x: x.importance ?? 0, y: x.performance, label: x.dimension })) }] },
          options: { scales: { x: { min: -1, max: 1, title: { display: true, text: "importance" } }, y: { min: 1, max: 5, title: { display: true, text: "performance" } } },
            plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${c.raw.label}: importance ${c.raw.x}, performance ${c.raw.y}` } } } } });
      }),
      loadOptional("return-visits", (r) => {
        cards["return-visits"].replaceChildren(table(["week", "due", "done", "on_time", "rate"], r.rows, { rate: pct }));
        chart("return-visits", { type: "bar", label: "Return visits on time",
          data: { labels: r.rows.map((x) => x.week), datasets: [{ label: "on time", data: r.rows.map((x) => x.on_time), backgroundColor: "#3a8f5c" }, { label: "due", data: r.rows.map((x) => x.due), backgroundColor: "#bbb" }] } });
      })];
    const results = await Promise.allSettled(jobs);
    results.filter((x) => x.status === "rejected").forEach((x) => toast(x.reason.message, "error"));
    root.dataset.loaded = "true";
  }
  return { root, load };
}
