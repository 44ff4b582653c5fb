// The app's words in zh-CN, en and ko; the server's texts (states, actions, refusals) come in the same
// language because every request carries it in Accept-Language.
import en from "./locales/en.js";
import zh from "./locales/zh-CN.js";
import ko from "./locales/ko.js";

export const LANGS = { "zh-CN": zh, en, ko };
export const LANG_NAMES = { "zh-CN": "中文", en: "English", ko: "한국어" };
const STORE = "onsite24.app.lang";

let current = "en";

export function pick(wanted) {
  for (const w of wanted) {
    if (!w) continue;
    const l = w.toLowerCase();
    if (l.startsWith("zh")) return "zh-CN";
    if (l.startsWith("ko")) return "ko";
    if (l.startsWith("en")) return "en";
  }
  return null;
}

export function initLang() {
  const html = document.documentElement;
  current =
    pick([localStorage.getItem(STORE)]) ||
    pick(navigator.languages || [navigator.language]) ||
    pick([html.dataset.defaultLang]) ||
    "en";
  html.lang = current;
  return current;
}

export function setLang(l, { remember = true } = {}) {
  current = LANGS[l] ? l : "en";
  if (remember) localStorage.setItem(STORE, current);
  document.documentElement.lang = current;
}

/** The language picked on this phone with the switcher (null: none picked, the phone's or the account's). */
export function chosenLang() {
  return pick([localStorage.getItem(STORE)]);
}

export function lang() {
  return current;
}

/** t("key", {n: 3}) — the word in the current language, English when a catalogue lacks it. */
export function t(key, params = {}) {
  const s = LANGS[current][key] ?? en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (params[k] === undefined ? `{${k}}` : String(params[k])));
}

const fmtCache = new Map();
function fmt(zone, opts) {
  const key = `${current}|${zone}|${JSON.stringify(opts)}`;
  if (!fmtCache.has(key)) fmtCache.set(key, new Intl.DateTimeFormat(current, { timeZone: zone || undefined, ...opts }));
  return fmtCache.get(key);
}

/** A time of day in the site's time zone (what the technician's watch says there). */
export function clock(iso, zone) {
  if (!iso) return "–";
  return fmt(zone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}

/** Date and time in the site's zone; the date only when it is not today there. */
export function when(iso, zone) {
  if (!iso) return "–";
  const d = new Date(iso);
  const day = fmt(zone, { year: "numeric", month: "2-digit", day: "2-digit" });
  if (day.format(d) === day.format(new Date())) return clock(iso, zone);
  return fmt(zone, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);
}

export function date(iso, zone) {
  if (!iso) return "–";
  return fmt(zone, { year: "numeric", month: "short", day: "numeric" }).format(new Date(iso));
}

/** "3 h 05 min" / "overdue 20 min" style durations from seconds. */
export function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h >= 48) return t("dur.days", { d: Math.floor(h / 24), h: h % 24 });
  if (h > 0) return t("dur.hm", { h, m: String(m).padStart(2, "0") });
  return t("dur.m", { m });
}

export function distance(metres) {
  if (metres == null) return "–";
  return metres >= 1000 ? t("dist.km", { km: (metres / 1000).toFixed(1) }) : t("dist.m", { m: Math.round(metres) });
}
