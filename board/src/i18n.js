// The board's languages (zh-CN, en, ko) with i18next; resources in ./locales/<tag>.json, bundled (no CDN).
// Chosen in this order: the user's saved setting (from /board/config), the choice made on this browser
// before logging in, the browser's languages, the site's default. Keys are symbolic (board.queue.search):
// one that escaped translation is visible as such, and tests/i18n looks for them on every page.
import i18next from "i18next";
import en from "./locales/en.json";
import ko from "./locales/ko.json";
import zhCN from "./locales/zh-CN.json";

export const LANGUAGES = ["zh-CN", "en", "ko"];
const STORE = "onsite24.lang";
const listeners = new Set();

// A supported tag for any BCP 47 tag ("zh-Hans-CN", "zh-TW", "ko-KR", "en-GB" …), else null.
export function match(tag) {
  if (!tag) return null;
  const lang = String(tag).toLowerCase().split(/[-_]/)[0];
  if (lang === "zh") return "zh-CN"; // traditional-Chinese readers get simplified text: the closest we ship
  return LANGUAGES.find((l) => l.toLowerCase() === lang) || null;
}

export function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language]) {
    const m = match(tag);
    if (m) return m;
  }
  return null;
}

export function storedLanguage() { return match(localStorage.getItem(STORE)); }
export function rememberLanguage(lang) { if (match(lang)) localStorage.setItem(STORE, match(lang)); }

export async function initI18n(lang) {
  await i18next.init({
    lng: match(lang) || "en",
    // A key missing in one language shows English (the catalogue test keeps the three complete).
    fallbackLng: "en",
    supportedLngs: LANGUAGES,
    resources: { en: { translation: en }, "zh-CN": { translation: zhCN }, ko: { translation: ko } },
    interpolation: { escapeValue: false }, // every text goes into textContent or attributes, never innerHTML
    returnNull: false,
  });
  document.documentElement.lang = i18next.language;
}

export async function setLanguage(lang) {
  const m = match(lang);
  if (!m || m === i18next.language) return;
  await i18next.changeLanguage(m);
  document.documentElement.lang = m;
  listeners.forEach((fn) => fn(m));
}

export function onLanguageChanged(fn) { listeners.add(fn); }
export function language() { return i18next.language || "en"; }
export const t = (key, options) => i18next.t(key, options);

// Codes from the API (status, grade, equipment type …) in words; an unknown code is shown as it is.
export function word(group, code) {
  if (code === null || code === undefined || code === "") return "";
  const key = `${group}.${code}`;
  return i18next.exists(key) ? i18next.t(key) : String(code).replace(/_/g, " ");
}
