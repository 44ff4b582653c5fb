// Small DOM and formatting helpers shared by the views.
import { language, onLanguageChanged, t, word } from "./i18n.js";

export const GRADES = ["major", "serious", "general"];
export const gradeLabel = (g) => word("grade", g);

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Server time minus browser time, so countdowns agree with the server's clock.
let skewMs = 0;
export function setServerNow(iso) { if (iso) skewMs = Date.parse(iso) - Date.now(); }
export function now() { return Date.now() + skewMs; }

export function countdown(dueIso) {
  const left = Math.round((Date.parse(dueIso) - now()) / 1000);
  const abs = Math.abs(left);
  const hh = Math.floor(abs / 3600);
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, "0");
  const ss = String(abs % 60).padStart(2, "0");
  const text = `${hh}:${mm}:${ss}`;
  return { seconds: left, text: left < 0 ? t("board.countdown.overdue", { time: text }) : text };
}

// Formatters are costly to build; make them once per time zone (the policy's, from /board/config) and
// language: times are the site's local times, written the way the reader's language writes them.
let tz = "Asia/Shanghai";
let timeFmt = null;
let dateTimeFmt = null;
let dayFmt = null;
let numberFmt = null;
function formatters() {
  if (!timeFmt) {
    const lang = language();
    timeFmt = new Intl.DateTimeFormat(lang, { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    dateTimeFmt = new Intl.DateTimeFormat(lang, { timeZone: tz, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    dayFmt = new Intl.DateTimeFormat(lang, { timeZone: tz, weekday: "short", month: "short", day: "numeric" });
    numberFmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  }
}
onLanguageChanged(() => { timeFmt = null; });
export function setTimezone(zone) { if (zone && zone !== tz) { tz = zone; timeFmt = null; } }
export function timezone() { return tz; }
export function clock(iso) { if (!iso) return "–"; formatters(); return timeFmt.format(new Date(iso)); }
export function when(iso) { if (!iso) return "–"; formatters(); return dateTimeFmt.format(new Date(iso)); }
export function day(iso) { if (!iso) return "–"; formatters(); return dayFmt.format(new Date(iso)); }
export function num(x) { if (x === null || x === undefined) return "–"; formatters(); return numberFmt.format(x); }

export function reasonsText(reasons) {
  if (!reasons || !reasons.length) return t("board.reasons.none");
  return reasons.map((r) => `${r.grade ? gradeLabel(r.grade) + ": " : ""}${r.text || r.rule}`).join("\n");
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const el = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// "66.7 %" reads correctly in all three languages; Intl's percent style would differ only by the space.
export function pct(x) { return x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)} %`; }
