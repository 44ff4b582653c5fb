// Talking to the API: the bearer token, the technician's language, problem+json errors, ETags.
import { kvGet, kvSet } from "./db.js";
import { lang } from "./i18n.js";

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** No answer at all (no signal, the server away): the caller keeps its work for later. */
export class Offline extends Error {}

let token = null;
let onUnauthorized = () => {};

export async function loadToken() {
  token = (await kvGet("token")) || null;
  return token;
}

export function setToken(t) {
  token = t;
}

export function hasToken() {
  return !!token;
}

export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export async function request(path, { method = "GET", body, headers = {}, form, raw = false, timeout = 20000 } = {}) {
  const h = { Accept: "application/json", "Accept-Language": lang(), ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  let res;
  try {
    res = await fetch(API + path, { method, headers: h, body: payload, signal: ctl.signal, cache: "no-store" });
  } catch (e) {
    throw new Offline(String(e));
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 401 && !path.startsWith("/auth/token")) {
    onUnauthorized();
  }
  if (raw) return res;
  if (res.status === 304) return { status: 304, etag: res.headers.get("ETag") };
  if (res.status >= 500 && res.status !== 503) throw new Offline(`HTTP ${res.status}`);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (res.status === 503) throw new Offline(data?.detail || "503");
  if (!res.ok) throw new ApiError(res.status, data);
  return { status: res.status, data, etag: res.headers.get("ETag") };
}

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const res = await request("/auth/token", {
    method: "POST",
    form,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  token = res.data.access_token;
  return res.data;
}

/** The job list, or null when the app's copy is still current (304). */
export async function fetchJobs() {
  const etag = await kvGet("etag");
  const headers = etag ? { "If-None-Match": etag } : {};
  const res = await request("/me/jobs?limit=100", { headers });
  if (res.status === 304) return null;
  await kvSet("etag", res.etag);
  return res.data;
}
