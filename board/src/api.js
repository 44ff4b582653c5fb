// Talking to the Onsite24 API: bearer token from sessionStorage, problem+json errors as ApiError.
// Every request names the board's language, so the server's texts (errors, reasons) match it.
import { language } from "./i18n.js";

const TOKEN_KEY = "onsite24.token";
const ROLE_KEY = "onsite24.role";
export const BOARD_ROLES = ["dispatcher", "manager", "admin"];

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  get role() { return sessionStorage.getItem(ROLE_KEY); },
  save(token, role) { sessionStorage.setItem(TOKEN_KEY, token); sessionStorage.setItem(ROLE_KEY, role); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(ROLE_KEY); },
};

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export async function api(path, { method = "GET", body, params, raw = false } = {}) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
    else url.searchParams.set(k, v);
  }
  const headers = { Accept: "application/json", "Accept-Language": language() };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) { onUnauthorized(); }
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, problem);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

// A response started by index.html's inline script, handled like api() would (once; null when absent).
export async function prefetched(name) {
  const early = window.__onsite24Prefetch;
  if (!early || early.token !== session.token || !early[name]) return null;
  const pending = early[name];
  early[name] = null;
  const res = await pending;
  if (res.status === 401) onUnauthorized();
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, problem);
  }
  return res.json();
}

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const res = await fetch("/api/v1/auth/token", { method: "POST", body: form, headers: { "Accept-Language": language() } });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// An endpoint that is not deployed yet (404 on the route itself, not on an object) degrades to null.
export async function optional(path, opts) {
  try {
    return await api(path, opts);
  } catch (e) {
    const missingRoute = (e.problem?.type || "").endsWith("/http-404") || e.status === 405;
    if ((e.status === 404 || e.status === 405) && missingRoute) return null;
    throw e;
  }
}
