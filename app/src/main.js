// Onsite24 technician app: boot, state, routing between the screens.
import "./style.css";
import { ApiError, Offline, fetchJobs, loadToken, login, request, setToken, whenUnauthorized } from "./api.js";
import { blobGet, db, forgetSession, jobPut, jobsAll, jobsReplace, kvGet, kvSet } from "./db.js";
import { LANG_NAMES, chosenLang, initLang, lang, pick, setLang, t } from "./i18n.js";
import { startLive } from "./live.js";
import * as outbox from "./outbox.js";
import { renderToday } from "./today.js";
import { renderJob } from "./job.js";
import { renderReport } from "./report.js";
import { renderClose } from "./closeout.js";
import { renderOutbox } from "./outboxview.js";
import { clear, h, toast } from "./ui.js";

export const state = {
  me: null,
  config: null,
  day: null,
  jobs: [],
  rows: [],
  online: navigator.onLine,
  live: "off",
  loaded: false,
  alerts: [],
};

const root = document.getElementById("root");
let stopLive = null;

// ---- boot -----------------------------------------------------------------------------------------------------
async function boot() {
  initLang();
  registerWorker();
  whenUnauthorized(() => signedOut(true));
  window.addEventListener("online", () => {
    state.online = true;
    paintBar();
    outbox.kick();
    refresh();
  });
  window.addEventListener("offline", () => {
    state.online = false;
    paintBar();
  });
  window.addEventListener("hashchange", () => {
    if (technicianLang && !/\/close$/.test(location.hash)) {
      setLang(technicianLang, { remember: false }); // the customer is done: back to the technician's language
      technicianLang = null;
    }
    render();
  });
  outbox.onOutboxChange(async (d) => {
    state.rows = await outbox.rows();
    paintBar();
    if (d.applied) refresh();
    else if (!d.sending) render({ keepScroll: true });
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.me) {
      refresh();
      outbox.kick();
    }
  });

  const token = await loadToken();
  state.token = token;
  state.me = (await kvGet("me")) || null;
  if (!token || !state.me) return showLogin();
  await startSession();
}

async function startSession() {
  outbox.setOwner(state.me.id);
  outbox.unblock();
  state.config = (await kvGet("config")) || null;
  state.day = (await kvGet("day")) || null;
  state.jobs = await jobsAll();
  state.rows = await outbox.rows();
  state.parts = (await kvGet("parts")) || null;
  state.loaded = state.jobs.length > 0 || !!(await kvGet("etag"));
  render();
  refresh();
  outbox.kick();
  stopLive?.();
  stopLive = startLive({
    token: () => state.token,
    onChange: () => refresh(),
    onState: (s) => {
      state.live = s;
      paintBar();
      if (s === "expired") signedOut(true);
    },
  });
  setInterval(() => {
    if (state.rows.some((r) => r.state === "waiting")) outbox.kick();
  }, 20000);
}

function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
}

// ---- data -----------------------------------------------------------------------------------------------------
let refreshing = null;
let again = false;
export function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = doRefresh().finally(() => {
    refreshing = null;
    if (again) {
      again = false;
      refresh();
    }
  });
  return refreshing;
}

async function doRefresh() {
  try {
    // The list and the configuration travel together (and, at a cold start, were asked for by the page itself
    // while this script was still downloading): on a slow link each round trip is half a second.
    const pre = await takePrefetch();
    const needConfig = !state.config || state.config.lang !== lang();
    const configP = needConfig ? pre.config || request("/me/app").then((r) => r.data) : null;
    configP?.catch(() => {}); // awaited below; an early failure must not count as unhandled
    const page = await (pre.jobs || fetchJobs());
    if (page) {
      const before = new Set((await kvGet("seen")) || []);
      const first = !(await kvGet("seen"));
      // Jobs that left the list stay on the phone while something waits for them or they were worked on
      // today (the "done today" list, the close-out after completion).
      const dayAgo = Date.now() - DAY_MS;
      const keep = new Set(state.rows.filter((r) => r.state === "waiting" || r.created_at > dayAgo).map((r) => r.job_id));
      await jobsReplace(page.items, (old) => keep.has(old.id));
      const news = page.items.filter((j) => !before.has(j.id));
      await kvSet("seen", [...before, ...news.map((j) => j.id)]);
      if (!first) for (const j of news) if (j.grade === "major") alertMajor(j);
      state.jobs = await jobsAll();
      state.loaded = true;
      state.online = true;
      paintBar();
      render({ keepScroll: true }); // the list is usable now; the rest follows
    }
    if (configP) {
      const cfg = await configP;
      cfg.lang = lang();
      state.config = cfg;
      await kvSet("config", cfg);
    }
    // Jobs that left the active list (completed, reassigned): their final state, for the day's record.
    const list = await jobsAll();
    const active = new Set((page ? page.items : state.jobs).map((j) => j.id));
    for (const j of list) {
      if (page && !active.has(j.id) && !j.final) {
        try {
          const one = (await request(`/me/jobs/${j.id}`)).data;
          await jobPut({ ...one, local: j.local || {}, final: true, fetched_at: Date.now() });
        } catch (e) {
          if (e instanceof ApiError && e.status === 404) await jobPut({ ...j, final: true, gone: true });
          else throw e;
        }
      }
    }
    try {
      state.day = (await request("/me/day")).data;
      await kvSet("day", state.day);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
    state.jobs = await jobsAll();
    state.loaded = true;
    state.online = true;
    if (!state.parts) {
      state.parts = (await request("/parts")).data;
      await kvSet("parts", state.parts);
    }
    prefetchCustomerPhotos();
  } catch (e) {
    if (e instanceof Offline) state.online = false;
    else if (!(e instanceof ApiError && e.status === 401)) console.warn(e);
  }
  paintBar();
  render({ keepScroll: true });
}

/** What index.html already asked for at start (same sign-in, same language): taken once, by the first refresh. */
async function takePrefetch() {
  const ready = window.__onsite24Prefetch;
  window.__onsite24Prefetch = null;
  const pre = ready ? await ready : null;
  if (!pre || pre.lang !== lang() || pre.token !== state.token) return {};
  const take = (kind, fallback) =>
    pre[kind].then(async (res) => {
      if (!res) throw new Offline("prefetch failed");
      if (kind === "jobs" && res.status === 304) return null;
      if (res.status === 401) {
        signedOut(true);
        throw new ApiError(401, null);
      }
      if (!res.ok) return fallback();
      if (kind === "jobs") await kvSet("etag", res.headers.get("ETag"));
      return res.json();
    });
  const out = { jobs: take("jobs", fetchJobs), config: take("config", () => request("/me/app").then((r) => r.data)) };
  // Either may go unused (the configuration was still current) or fail offline: never an unhandled rejection.
  out.jobs.catch(() => {});
  out.config.catch(() => {});
  return out;
}

const DAY_MS = 24 * 3600 * 1000;

/** The customer's own photos of every job on the list, kept on the phone for the site with no signal. */
async function prefetchCustomerPhotos() {
  for (const j of state.jobs) {
    for (const url of j.customer_photos || []) {
      if (await blobGet(url)) continue;
      try {
        const res = await request(url.replace(/^\/api\/v1/, ""), { raw: true });
        if (res.ok) {
          await (await db()).put("blobs", await res.blob(), url);
        }
      } catch {
        return;
      }
    }
  }
}

// ---- new major job alert ----------------------------------------------------------------------------------------
const alerted = new Set();
function alertMajor(job) {
  if (alerted.has(job.id)) return; // once per job, however many refreshes see it arrive
  alerted.add(job.id);
  const title = t("alert.major.title");
  const body = `${job.site?.name || ""} · ${job.symptom || ""}`.slice(0, 180);
  state.alerts.push({ id: job.id, title, body });
  if ("Notification" in window && Notification.permission === "granted" && navigator.serviceWorker?.controller) {
    navigator.serviceWorker.ready.then((reg) =>
      reg.showNotification(title, {
        body,
        tag: `job-${job.id}`,
        requireInteraction: true,
        data: { hash: `#/job/${job.id}` },
        vibrate: [400, 150, 400, 150, 800],
      }),
    );
  } else if (navigator.vibrate) {
    navigator.vibrate([400, 150, 400, 150, 800]);
  }
}

/** The outbox as stored now (after this phone added to it), before drawing a screen that depends on it. */
export async function reloadRows() {
  state.rows = await outbox.rows();
  paintBar();
}

export function dismissAlert(id) {
  state.alerts = state.alerts.filter((a) => a.id !== id);
}

// ---- sign-in --------------------------------------------------------------------------------------------------
function showLogin(message) {
  stopLive?.();
  root.removeAttribute("aria-busy");
  const err = h("p", { class: "form-error", role: "alert", hidden: !message }, message || "");
  const waitingRows = state.rows.filter((r) => r.state === "waiting").length;
  const form = h(
    "form",
    { class: "login", id: "login" },
    h("div", { class: "brand" }, h("img", { src: "/app/icon.svg", alt: "", width: 56, height: 56 }), h("h1", {}, t("app.title"))),
    langPicker(() => showLogin(message)),
    h("label", {}, t("login.username"), h("input", { id: "username", name: "username", autocomplete: "username", required: true, autocapitalize: "none" })),
    h("label", {}, t("login.password"), h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true })),
    err,
    waitingRows ? h("p", { class: "note" }, t("login.waiting", { n: waitingRows })) : null,
    h("button", { class: "btn primary wide", type: "submit", id: "login-submit" }, t("login.submit")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.hidden = true;
    try {
      const tok = await login(form.username.value.trim(), form.password.value);
      if (tok.role !== "technician") {
        setToken(null);
        throw new ApiError(403, { detail: t("login.not-technician") });
      }
      state.token = tok.access_token;
      const me = (await request("/users/me")).data;
      // The account's saved language (the same on every surface) unless this phone picked one.
      const saved = pick([me.locale]);
      if (saved && !chosenLang() && saved !== lang()) setLang(saved);
      const previous = await kvGet("me");
      if (previous && previous.id !== me.id) await forgetSession();
      await kvSet("token", tok.access_token);
      await kvSet("me", me);
      state.me = me;
      state.config = null;
      await startSession();
    } catch (ex) {
      err.textContent =
        ex instanceof Offline ? t("login.offline") : ex instanceof ApiError ? ex.problem?.detail || ex.message : String(ex);
      err.hidden = false;
    }
  });
  clear(root, form);
  root.dataset.screen = "login";
}

async function signedOut(expired) {
  outbox.block();
  setToken(null);
  state.token = null;
  await kvSet("token", null);
  showLogin(expired ? t("login.expired") : "");
}

export async function signOut() {
  try {
    await request("/auth/sign-out", { method: "POST" });
  } catch {
    /* offline: the token ends when it expires */
  }
  await forgetSession();
  await kvSet("me", null);
  state.me = null;
  state.jobs = [];
  signedOut(false);
}

let technicianLang = null; // while the customer reads the close-out in their own language

/** The language switcher; `forCustomer`: only for the close-out screen, the technician's choice is kept. */
export function langPicker(after, { forCustomer = false } = {}) {
  const current = document.documentElement.lang;
  return h(
    "div",
    { class: "langs", role: "group", "aria-label": "Language" },
    Object.entries(LANG_NAMES).map(([code, name]) =>
      h(
        "button",
        {
          type: "button",
          class: `chip${code === current ? " on" : ""}`,
          lang: code,
          "aria-pressed": code === current ? "true" : "false",
          dataset: { lang: code },
          onclick: async () => {
            if (forCustomer) {
              technicianLang = technicianLang || lang();
              setLang(code, { remember: false });
              after();
              return;
            }
            setLang(code);
            await kvSet("etag", null); // the list's words are in the old language
            // The account keeps the choice, so the server's words (and its other surfaces) follow it.
            if (state.me) request("/me/settings", { method: "PATCH", body: { locale: code } }).catch(() => {});
            state.config = null;
            after();
            if (state.me) refresh();
          },
        },
        name,
      ),
    ),
  );
}

// ---- rendering ------------------------------------------------------------------------------------------------
let bar = null;
function topBar() {
  bar = h("header", { class: "bar" });
  paintBar();
  return bar;
}

function paintBar() {
  if (!bar) return;
  const waiting = state.rows.filter((r) => r.state === "waiting").length;
  const refused = state.rows.filter((r) => r.state === "refused").length;
  const online = state.online && navigator.onLine;
  const route = location.hash || "#/";
  clear(
    bar,
    route === "#/" || route === "#"
      ? h("span", { class: "bar-title" }, state.me?.full_name || t("app.title"))
      : h("a", { class: "back", href: "#/", "aria-label": t("nav.back") }, "‹ ", t("nav.today")),
    h(
      "span",
      { class: `net ${online ? (state.live === "live" ? "live" : "online") : "offline"}`, id: "net", dataset: { state: online ? state.live : "offline" } },
      online ? (state.live === "live" ? t("net.live") : t("net.online")) : t("net.offline"),
    ),
    h(
      "a",
      { class: `outbox-chip${refused ? " refused" : waiting ? " waiting" : ""}`, href: "#/outbox", id: "outbox-chip", dataset: { waiting, refused } },
      refused ? t("outbox.chip.refused", { n: refused }) : waiting ? t("outbox.chip.waiting", { n: waiting }) : t("outbox.chip.none"),
    ),
  );
}

let drawn = null; // what the screen shows now, to leave it alone when a refresh brought nothing new

function signature(route) {
  return JSON.stringify([
    route,
    lang(),
    state.loaded,
    state.jobs.map((j) => [j.id, j.fetched_at, j.final]),
    state.rows.map((r) => [r.key, r.state]),
    state.alerts.map((a) => a.id),
    state.config?.lang,
    state.day?.return_at,
  ]);
}

export function render({ keepScroll = false } = {}) {
  if (!state.me) return;
  // Never redraw under the fingers of someone typing or signing: the form screens draw themselves once.
  const route = (location.hash || "#/").slice(1);
  const y = window.scrollY;
  if (keepScroll && /\/(report|close)$/.test(route)) return;
  // A passive redraw (a refresh, the outbox) with nothing new would only replace the buttons under a thumb.
  const sig = signature(route);
  if (keepScroll && sig === drawn && document.getElementById("screen")) return;
  drawn = sig;
  const main = h("main", { id: "screen" });
  const page = [topBar(), main];
  root.removeAttribute("aria-busy");
  clear(root, ...page);
  let m;
  if ((m = route.match(/^\/job\/(\d+)\/report$/))) renderReport(main, Number(m[1]));
  else if ((m = route.match(/^\/job\/(\d+)\/close$/))) renderClose(main, Number(m[1]));
  else if ((m = route.match(/^\/job\/(\d+)$/))) renderJob(main, Number(m[1]));
  else if (route === "/outbox") renderOutbox(main);
  else renderToday(main);
  root.dataset.screen = main.dataset.screen || "today";
  if (keepScroll) window.scrollTo(0, y);
}

// ---- what a job is now on this phone ----------------------------------------------------------------------------
/** The job as the server last said, moved on by what is waiting in the outbox for it. */
export function effective(job) {
  const cfg = state.config;
  let status = job.status;
  let eta = job.eta;
  let pending = 0;
  const rows = state.rows.filter((r) => r.job_id === job.id);
  for (const r of rows) {
    if (r.type !== "event") continue;
    if (r.state === "waiting") {
      pending += 1;
      status = cfg?.transitions?.[status]?.[r.kind] || status;
      if (r.kind === "cannot_meet_time") eta = r.body.new_eta;
    } else if (r.state === "sent" && r.result && (r.sent_at || 0) > (job.fetched_at || 0)) {
      status = r.result.job_status || status;
    }
  }
  const allowed = pending ? cfg?.actions?.[status] || [] : job.allowed_actions || [];
  const completedRow = rows.find((r) => r.type === "event" && r.kind === "completed" && r.state !== "refused");
  const confirmationRow = rows.find((r) => r.type === "confirmation" && r.state !== "refused");
  const sentCompleted = rows.find((r) => r.type === "event" && r.kind === "completed" && r.state === "sent");
  return {
    status,
    statusText: cfg?.texts?.status?.[status] || (status === job.status ? job.status_text : status),
    eta,
    allowed,
    pending,
    rows,
    completed: status === "completed" || !!completedRow,
    confirmation: confirmationRow,
    link: sentCompleted?.result?.confirmation || job.local?.confirmation || null,
  };
}

export function actionText(job, action) {
  return state.config?.texts?.action?.[action] || job.action_texts?.[action] || action;
}

boot();
