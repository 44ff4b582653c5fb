// Today: my route in order with ETAs, time left to each promise, urgent first, the drive home at the end.
import { dismissAlert, effective, render, state } from "./main.js";
import { clock, duration, t, when } from "./i18n.js";
import { h } from "./ui.js";

const ACTIVE = new Set(["assigned", "accepted", "en_route", "on_site", "paused"]);

/** Urgent: a major job, or one whose ETA is already after its promise (it will be late unless someone acts). */
export function urgent(job, eff) {
  return job.grade === "major" || late(job, eff);
}

function late(job, eff) {
  return !!eff.eta && Date.parse(eff.eta) > Date.parse(job.due_on_site_at);
}

function order(a, b) {
  const day = (j) => (j.planned_start_at ? j.planned_start_at.slice(0, 10) : "9999");
  return (
    day(a).localeCompare(day(b)) ||
    (a.sequence ?? 1e9) - (b.sequence ?? 1e9) ||
    String(a.planned_start_at || "").localeCompare(String(b.planned_start_at || "")) ||
    a.id - b.id
  );
}

export function renderToday(main) {
  main.dataset.screen = "today";
  const jobs = state.jobs.filter((j) => !j.gone).sort(order);
  const rows = jobs.map((j) => ({ job: j, eff: effective(j) }));
  const open = rows.filter((r) => ACTIVE.has(r.eff.status) && !r.eff.completed);
  const done = rows.filter((r) => !ACTIVE.has(r.eff.status) || r.eff.completed);
  const first = open.filter((r) => urgent(r.job, r.eff));
  const rest = open.filter((r) => !urgent(r.job, r.eff));

  for (const a of state.alerts) {
    main.append(
      h(
        "div",
        { class: "banner major", role: "alert", id: `alert-${a.id}` },
        h("strong", {}, a.title),
        h("span", {}, a.body),
        h(
          "div",
          { class: "banner-actions" },
          h("a", { class: "btn primary", href: `#/job/${a.id}`, onclick: () => dismissAlert(a.id) }, t("alert.open")),
          h("button", { class: "btn ghost", type: "button", onclick: () => (dismissAlert(a.id), render()) }, t("alert.dismiss")),
        ),
      ),
    );
  }
  if ("Notification" in window && Notification.permission === "default") {
    main.append(
      h(
        "button",
        {
          class: "btn ghost wide",
          type: "button",
          id: "enable-alerts",
          onclick: async () => {
            await Notification.requestPermission();
            render();
          },
        },
        t("alert.enable"),
      ),
    );
  }

  if (!state.loaded) {
    main.append(h("p", { class: "empty" }, state.online ? t("today.loading") : t("today.offline-empty")));
    return;
  }
  main.dataset.loaded = "true";
  const list = h("ol", { class: "jobs", id: "jobs" });
  if (first.length) {
    main.append(h("h2", { class: "section urgent" }, t("today.urgent")));
    main.append(h("ol", { class: "jobs urgent", id: "jobs-urgent" }, first.map((r) => card(r.job, r.eff))));
  }
  main.append(h("h2", { class: "section" }, t("today.route"), " ", h("span", { class: "count" }, String(open.length))));
  if (!open.length) main.append(h("p", { class: "empty" }, t("today.none")));
  list.append(...rest.map((r) => card(r.job, r.eff)));
  main.append(list);
  const home = state.day?.home;
  if (home && open.length) {
    main.append(
      h(
        "div",
        { class: "home", id: "drive-home" },
        h("span", { class: "seq" }, "⌂"),
        h(
          "div",
          {},
          h("strong", {}, t("today.home", { name: home.name || "" })),
          state.day.return_at
            ? h("span", { class: "muted" }, t("today.home-eta", { at: clock(state.day.return_at, home.timezone) }), state.day.travel_home_s ? ` · ${duration(state.day.travel_home_s)}` : "")
            : null,
        ),
      ),
    );
  }
  if (done.length) {
    main.append(h("h2", { class: "section" }, t("today.done")));
    main.append(h("ol", { class: "jobs done" }, done.map((r) => card(r.job, r.eff))));
  }
  tick(main);
}

function card(job, eff) {
  const zone = job.site?.timezone;
  const left = (Date.parse(job.due_on_site_at) - Date.now()) / 1000;
  const isLate = late(job, eff);
  return h(
    "li",
    {
      class: `job grade-${job.grade}${isLate ? " late" : ""}${left < 0 ? " breached" : ""}`,
      dataset: { id: job.id, status: eff.status, grade: job.grade },
    },
    h(
      "a",
      { href: `#/job/${job.id}` },
      h("span", { class: "seq" }, job.sequence == null ? "·" : String(job.sequence + 1)),
      h(
        "div",
        { class: "job-main" },
        h(
          "div",
          { class: "job-top" },
          h("span", { class: `grade ${job.grade}` }, job.grade_text || job.grade),
          h("span", { class: "status" }, eff.statusText),
          eff.pending ? h("span", { class: "pending", title: t("outbox.waiting") }, t("job.pending", { n: eff.pending })) : null,
        ),
        h("strong", { class: "site" }, job.site?.name || t("job.no-site")),
        h("span", { class: "symptom" }, job.symptom),
        h(
          "div",
          { class: "job-times" },
          h("span", { class: "eta" }, t("job.eta"), " ", h("b", {}, when(eff.eta, zone))),
          eff.completed
            ? null
            : h(
                "span",
                { class: `left${left < 0 ? " over" : left < 7200 ? " soon" : ""}`, dataset: { due: job.due_on_site_at } },
                leftText(left),
              ),
        ),
      ),
    ),
  );
}

export function leftText(seconds) {
  return seconds < 0 ? t("job.overdue", { d: duration(seconds) }) : t("job.left", { d: duration(seconds) });
}

let timer = null;
/** The time left counts down on screen (each minute matters to a promise). */
function tick(main) {
  clearInterval(timer);
  timer = setInterval(() => {
    if (!main.isConnected) return clearInterval(timer);
    for (const el of main.querySelectorAll(".left[data-due]")) {
      const s = (Date.parse(el.dataset.due) - Date.now()) / 1000;
      el.textContent = leftText(s);
      el.classList.toggle("over", s < 0);
    }
  }, 15000);
}
