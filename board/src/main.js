// Onsite24 dispatcher board: login, the four views (queue, schedule, map, reports), live updates, shortcuts.
import "./style.css";
import { api, login, prefetched, session, setUnauthorizedHandler, BOARD_ROLES, ApiError } from "./api.js";
import { h, setTimezone, toast, debounce } from "./util.js";
import { LANGUAGES, browserLanguage, initI18n, language, match, rememberLanguage, setLanguage, storedLanguage, t, word } from "./i18n.js";
import { connectLive } from "./live.js";
import { createQueue } from "./queue.js";
import { createGantt } from "./gantt.js";
import { prefetchQueue } from "./queue.js";
import { createDrawer, createEscalations, optimise, proposeMove, modal } from "./steer.js";
import { openIntake } from "./intake.js";

const app = document.getElementById("app");
const VIEWS = ["queue", "gantt", "map", "reports"];
const title = (view) => t(`board.views.${view}`);
const notForYou = () => t("board.not-for-you");
// Each language is offered in its own words: the reader may not read the current one.
const LANGUAGE_NAMES = { "zh-CN": "中文", en: "English", ko: "한국어" };

// The language menu; `onPick` saves the choice (on the server when logged in) and redraws.
function languageSwitcher(onPick) {
  return h("select", { id: "language", class: "language", "aria-label": t("board.language"), onchange: (e) => onPick(e.target.value) },
    ...LANGUAGES.map((l) => h("option", { value: l, lang: l, selected: l === language() }, LANGUAGE_NAMES[l])));
}

function showLogin(message = "") {
  const switcher = languageSwitcher(async (lang) => { rememberLanguage(lang); await setLanguage(lang); showLogin(); });
  const user = h("input", { name: "username", id: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true });
  const msg = h("p", { class: "login-message", role: "alert" }, message);
  const form = h("form", { class: "login", onsubmit: async (e) => {
    e.preventDefault();
    msg.textContent = "";
    try {
      const res = await login(user.value.trim(), pass.value);
      if (!BOARD_ROLES.includes(res.role)) { msg.textContent = notForYou(); return; }
      session.save(res.access_token, res.role);
      start();
    } catch (err) { msg.textContent = err.message || t("board.login.failed"); }
  } },
  switcher,
  h("h1", {}, t("board.login.title")), h("p", {}, t("board.login.intro")),
  h("label", { for: "username" }, t("board.login.username")), user, h("label", { for: "password" }, t("board.login.password")), pass,
  h("button", { type: "submit", class: "primary" }, t("board.login.submit")), msg);
  app.replaceChildren(form);
  app.removeAttribute("aria-busy");
  user.focus();
}

setUnauthorizedHandler(() => { session.clear(); showLogin(t("board.login.session-ended")); });

async function start() {
  if (!session.token) { showLogin(); return; }
  // The first queue pages are fetched alongside the configuration: one round trip to first paint.
  const firstPages = prefetchQueue();
  let config;
  try {
    config = (await prefetched("config")) || (await api("/board/config"));
  } catch (e) {
    firstPages.catch(() => {});
    session.clear();
    showLogin(e instanceof ApiError && e.status === 403 ? notForYou() : e.message);
    return;
  }
  // The saved setting wins; without one, this browser's choice, its languages, then the site's default.
  await setLanguage(match(config.locale) || storedLanguage() || browserLanguage() || config.default_locale);
  setTimezone(config.timezone);
  const refreshAll = () => { markAllStale(); refreshVisible(); escalations.load(); };
  const drawer = createDrawer({ onChanged: () => refreshAll() });
  const openTicket = (t) => drawer.open(t);
  const queue = createQueue({ onOpen: openTicket, firstPages });
  const gantt = createGantt({
    onOpenTicket: openTicket,
    onMove: (v, tech, at, techs) => proposeMove(v, tech, at, techs, { onChanged: refreshAll }),
  });
  const escalations = createEscalations({ onOpenTicket: openTicket });
  const runOptimise = () =>
    optimise({ onChanged: refreshAll, technicianName: (id) => gantt.technicians().find((t) => t.id === id)?.name });
  const views = { queue, gantt };
  const newCall = () => openIntake({ onOpened: (ticket) => { refreshAll(); openTicket(ticket.id); } });
  // Map (Leaflet) and reports (Chart.js) are separate chunks, loaded the first time they are shown.
  const lazy = {
    map: () => import("./map.js").then((m) => m.createMap({ tileUrl: config.tile_url, onOpenTicket: openTicket })),
    reports: () => import("./reports.js").then((m) => m.createReports()),
  };
  const slots = { map: h("div", { class: "slot" }), reports: h("div", { class: "slot" }) };
  const stale = new Set(VIEWS);
  const markAllStale = () => VIEWS.forEach((v) => stale.add(v));

  const liveDot = h("span", { class: "live-state", id: "live-state", role: "status", dataset: { state: "connecting" } }, t("board.live.connecting"));
  const tabs = h("nav", { class: "tabs", "aria-label": t("board.views.label") }, ...VIEWS.map((v, i) =>
    h("a", { href: `#${v}`, id: `tab-${v}`, dataset: { view: v }, title: `${title(v)} (${i + 1})` }, title(v))));
  // Changing the language saves it for this user (every device) and redraws the board in it.
  const switcher = languageSwitcher(async (lang) => {
    rememberLanguage(lang);
    try { await api("/me/settings", { method: "PATCH", body: { locale: lang } }); } catch (e) { toast(e.message, "error"); }
    location.reload();
  });
  const header = h("header", { class: "top" },
    h("strong", { class: "brand" }, "Onsite24"), tabs,
    h("div", { class: "actions" },
      h("button", { type: "button", id: "intake-button", title: t("board.intake.open-title"), onclick: () => newCall() }, t("board.intake.button")),
      h("button", { type: "button", id: "optimise-button", title: t("board.optimise.title"), onclick: () => runOptimise() }, t("board.optimise.button")),
      escalations.button, liveDot,
      h("span", { class: "user" }, `${config.user.name} · ${word("role", config.role)}`),
      switcher,
      h("button", { type: "button", id: "logout-button", onclick: () => signOut() }, t("board.logout"))));
  const main = h("main", {}, ...VIEWS.map((v) => views[v]?.root || slots[v]));
  app.replaceChildren(header, main, drawer.panel, h("div", { id: "toasts", "aria-live": "polite" }));
  app.removeAttribute("aria-busy");

  let current = "queue";
  async function refresh(name) {
    if (!views[name]) return;
    stale.delete(name);
    try { await views[name].load(); } catch (e) { if (!(e instanceof ApiError && e.status === 401)) toast(`${title(name)}: ${e.message}`, "error"); }
  }
  const refreshVisible = () => refresh(current);
  async function show(name) {
    current = VIEWS.includes(name) ? name : "queue";
    tabs.querySelectorAll("a").forEach((a) => a.setAttribute("aria-current", a.dataset.view === current ? "page" : "false"));
    if (!views[current] && lazy[current]) {
      const wanted = current;
      const view = await lazy[wanted]();
      if (!views[wanted]) { views[wanted] = view; slots[wanted].replaceWith(view.root); }
      if (current !== wanted) { views[wanted].root.hidden = true; return; }
    }
    for (const v of VIEWS) if (views[v]) views[v].root.hidden = v !== current;
    for (const v of Object.keys(slots)) slots[v].hidden = true;
    if (stale.has(current)) refresh(current);
    if (current === "map") setTimeout(() => views.map.shown(), 0);
  }
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  show(location.hash.slice(1));
  escalations.load();

  // Live: which views an event makes stale; the visible one reloads at once (coalesced over 100 ms).
  const AFFECTS = {
    ticket: ["queue", "gantt", "map", "reports"], alarm: ["queue", "map"], visit: ["queue", "gantt", "map"],
    plan: ["queue", "gantt", "map"], technician: ["map", "gantt"], escalation: [],
  };
  const reloadVisible = debounce(() => { if (stale.has(current)) refresh(current); }, 100);
  // Signing out ends this sign-in on the server too (a copied token stops working), then forgets it here.
  async function signOut() {
    live.close();
    try { await api("/auth/sign-out", { method: "POST" }); } catch { /* already ended on the server */ }
    session.clear(); location.hash = ""; showLogin();
  }
  const live = connectLive({
    onState: (s) => { liveDot.textContent = t(`board.live.${s}`); liveDot.dataset.state = s; },
    onEvent: (ev) => {
      if (ev.kind === "resync") { refreshAll(); return; }
      const family = ev.kind.split(".")[0];
      (AFFECTS[family] || VIEWS).forEach((v) => stale.add(v));
      if (family === "escalation" || family === "ticket") escalations.load();
      if (ev.kind === "ticket.created" && (ev.major || ev.grade === "major")) {
        const ids = ev.ids || (ev.ticket_id ? [ev.ticket_id] : []);
        toast(ids.length ? t("board.toast.new-major", { ids: ids.map((i) => `#${i}`).join(", "), count: ids.length }) : t("board.toast.new-majors"), "alert");
      }
      reloadVisible();
    },
  });

  const help = () => modal(t("board.shortcuts.title"), h("dl", { class: "shortcuts" },
    ...[["1 2 3 4", "views"], ["/", "search"], ["j / k", "next"], ["Enter", "open"], ["M", "move"], ["O", "optimise"],
      ["N", "intake"], ["E", "escalations"], ["R", "reload"], ["Esc", "close"], ["?", "help"]]
      .flatMap(([k, d]) => [h("dt", {}, h("kbd", {}, k)), h("dd", {}, t(`board.shortcuts.${d}`))])), [{ label: t("board.close"), primary: true }]);

  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea, dialog") || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key;
    if (["1", "2", "3", "4"].includes(k)) location.hash = VIEWS[Number(k) - 1];
    else if (k === "/") { e.preventDefault(); location.hash = "queue"; queue.focusSearch(); }
    else if (k === "j" || k === "k") { if (current === "queue") queue.moveFocus(k === "j" ? 1 : -1); }
    else if (k === "o" || k === "O") runOptimise();
    else if (k === "e" || k === "E") escalations.show();
    else if (k === "n" || k === "N") newCall();
    else if (k === "r" || k === "R") refresh(current);
    else if (k === "Escape") drawer.close();
    else if (k === "?") help();
  });
}

// The login page and the first paint need a language before anything is known about the user.
initI18n(storedLanguage() || browserLanguage() || document.documentElement.dataset.defaultLang || "en").then(start);
