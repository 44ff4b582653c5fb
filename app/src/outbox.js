// The outbox: everything the technician does is stored on the phone first (IndexedDB), then sent.
//
// Events go through the batch sync (POST /me/sync) with their idempotency key, photos one by one (the server
// answers the same photo twice with the same record), the signed confirmation with its own key. A row is
// marked sent only once the server has answered for it, so a phone that dies mid-sync sends the same rows
// with the same keys again and the server answers "duplicate": nothing is lost, nothing counted twice.
// Rows keep the order they happened in; a photo is sent after the events before it (it needs the job on
// site), and a report names its photos by their local keys until they have server ids.
import { ApiError, Offline, request } from "./api.js";
import { blobGet, outboxAdd, outboxAll, outboxPrune, outboxPut } from "./db.js";

const MAX_BATCH = 500; // the server's limit per batch
const PARALLEL_UPLOADS = 2; // two photos at a time: a slow link stays busy without starving the events
const KEEP_SENT_MS = 3 * 24 * 3600 * 1000;
// After a failed send: try again soon, then less often (a phone in a dead spot should not drain its battery).
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 60000;
let retryMs = RETRY_FIRST_MS;

let lastSeq = 0;
function nextSeq() {
  // Increasing within this phone even when two things happen in the same millisecond.
  lastSeq = Math.max(Date.now() * 1000, lastSeq + 1);
  return lastSeq;
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Device time with the phone's offset (timezone-aware, as the sync contract asks). */
export function deviceNow(d = new Date()) {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const local = new Date(d.getTime() + off * 60000).toISOString().slice(0, 23);
  return `${local}${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

const listeners = new Set();
export function onOutboxChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function changed(detail) {
  for (const fn of listeners) fn(detail);
}

let owner = null; // the signed-in technician (user id): rows of another account are never sent with this token
export function setOwner(userId) {
  owner = userId;
}

export async function enqueueEvent(jobId, kind, body = {}) {
  const row = {
    key: newKey(),
    seq: nextSeq(),
    owner,
    type: "event",
    job_id: jobId,
    kind,
    device_at: deviceNow(),
    body,
    state: "waiting",
    created_at: Date.now(),
  };
  await outboxAdd(row);
  changed({ row });
  kick();
  return row;
}

export async function enqueuePhoto(jobId, blob) {
  const row = {
    key: newKey(),
    seq: nextSeq(),
    owner,
    type: "photo",
    job_id: jobId,
    kind: "photo",
    device_at: deviceNow(),
    body: { size: blob.size, type: blob.type },
    state: "waiting",
    created_at: Date.now(),
  };
  await outboxAdd(row, blob);
  changed({ row });
  kick();
  return row;
}

export async function enqueueConfirmation(jobId, form) {
  const row = {
    key: newKey(),
    seq: nextSeq(),
    owner,
    type: "confirmation",
    job_id: jobId,
    kind: "confirmation",
    device_at: deviceNow(),
    body: form,
    state: "waiting",
    created_at: Date.now(),
  };
  await outboxAdd(row);
  changed({ row });
  kick();
  return row;
}

export async function rows() {
  return (await outboxAll()).filter((r) => r.owner === owner || r.owner == null);
}

export async function waiting() {
  return (await rows()).filter((r) => r.state === "waiting");
}

// ---- sending --------------------------------------------------------------------------------------------------

let running = null;
let retryTimer = null;
let blocked = false; // 401: wait for a new sign-in
export const status = { lastError: null, lastSyncAt: null, sending: false };

export function unblock() {
  blocked = false;
}

export function block() {
  blocked = true;
}

/** Send what is waiting (soon, once); calls coalesce. */
export function kick() {
  if (running || blocked) return running;
  running = sendAll().finally(() => {
    running = null;
  });
  return running;
}

export function sending() {
  return running;
}

async function sendAll() {
  const run = async () => {
    status.sending = true;
    changed({ sending: true });
    let appliedSomething = false;
    try {
      for (;;) {
        const todo = (await waiting()).sort((a, b) => a.seq - b.seq);
        if (!todo.length) break;
        const photos = await photoIds();
        const round = plan(todo, photos);
        if (!round.batch.length && !round.uploads.length && !round.forms.length) break; // nothing can go
        if (round.batch.length) appliedSomething = (await sendEvents(round.batch, photos)) || appliedSomething;
        for (const ok of await pool(round.uploads.map((r) => () => sendPhoto(r)), PARALLEL_UPLOADS)) {
          appliedSomething = ok || appliedSomething;
        }
        for (const r of round.forms) appliedSomething = (await sendConfirmation(r)) || appliedSomething;
      }
      status.lastError = null;
      status.lastSyncAt = Date.now();
      retryMs = RETRY_FIRST_MS;
      await outboxPrune(KEEP_SENT_MS);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        blocked = true;
      } else {
        status.lastError = e;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(kick, retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    } finally {
      status.sending = false;
      changed({ sending: false, applied: appliedSomething });
    }
  };
  // One sender per phone, also with the app open in two tabs.
  if (navigator.locks) return navigator.locks.request("onsite24-outbox", run);
  return run();
}

/**
 * What can go in this round, keeping each job's order: one batch with every event that waits for nothing, then
 * the photos and signed forms whose job's earlier events are in that batch or already sent. A report naming a
 * photo not uploaded yet waits for the next round, and so does everything after it on that job; other jobs
 * are not held up. A day offline (50 events, 10 photos) goes as one batch, the photos, and one more batch.
 */
export function plan(todo, photos) {
  const held = new Set();
  const batch = [];
  const uploads = [];
  const forms = [];
  for (const r of todo) {
    if (r.type === "event") {
      const refs = r.body?.report?.photo_ids || [];
      const needsPhoto = refs.some((ref) => ref.startsWith("local:") && photos.waiting.has(ref.slice(6)));
      if (held.has(r.job_id) || needsPhoto || batch.length >= MAX_BATCH) held.add(r.job_id);
      else batch.push(r);
    } else if (!held.has(r.job_id)) {
      (r.type === "photo" ? uploads : forms).push(r);
    }
  }
  return { batch, uploads, forms };
}

/** Run `tasks` (functions returning promises) at most `n` at a time; their results in order. */
async function pool(tasks, n) {
  const results = new Array(tasks.length);
  let next = 0;
  let failure = null;
  async function worker() {
    while (next < tasks.length && !failure) {
      const i = next++;
      try {
        results[i] = await tasks[i]();
      } catch (e) {
        failure = failure || e;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  if (failure) throw failure;
  return results;
}

/** Server ids of the photos sent (null: refused or dismissed, left out of a report), and those still waiting. */
async function photoIds() {
  const ids = new Map();
  const waitingKeys = new Set();
  for (const r of await rows()) {
    if (r.type !== "photo") continue;
    if (r.state === "waiting") waitingKeys.add(r.key);
    else ids.set(r.key, r.state === "sent" ? r.result.id : null);
  }
  return { ids, waiting: waitingKeys };
}

function wire(row, photos) {
  const ev = { idempotency_key: row.key, job_id: row.job_id, kind: row.kind, device_at: row.device_at, ...row.body };
  if (ev.report) {
    const ids = [];
    for (const ref of ev.report.photo_ids || []) {
      if (!ref.startsWith("local:")) ids.push(ref);
      else {
        const id = photos.ids.get(ref.slice(6));
        if (id) ids.push(id); // a refused photo is left out; the report still goes
      }
    }
    ev.report = { ...ev.report, photo_ids: ids };
  }
  return ev;
}

async function sendEvents(batch, photos) {
  const body = { events: batch.map((r) => wire(r, photos)) };
  let res;
  try {
    res = await request("/me/sync", { method: "POST", body, timeout: 60000 });
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) {
      // The batch as a whole was refused (a malformed row): refuse the rows one by one so the rest goes.
      if (batch.length > 1) {
        for (const r of batch) await sendEvents([r], photos);
        return true;
      }
      await finish(batch[0], "refused", { reason: "invalid", detail: e.problem?.detail || e.message });
      return false;
    }
    throw e;
  }
  const byKey = new Map(res.data.results.map((r) => [r.idempotency_key, r]));
  let applied = false;
  for (const row of batch) {
    const r = byKey.get(row.key);
    if (!r) continue; // not answered: stays waiting, sent again next time
    if (r.status === "applied" || r.status === "duplicate") {
      applied = true;
      await finish(row, "sent", { result: r.result, duplicate: r.status === "duplicate" });
    } else {
      await finish(row, "refused", { reason: r.reason, detail: r.detail || r.reason });
    }
  }
  return applied;
}

async function sendPhoto(row) {
  const blob = await blobGet(row.key);
  if (!blob) {
    await finish(row, "refused", { reason: "lost", detail: "" });
    return false;
  }
  const form = new FormData();
  form.append("file", blob, `photo-${row.key}.jpg`);
  form.append("taken_at", row.device_at);
  try {
    const res = await request(`/jobs/${row.job_id}/photos`, { method: "POST", form, timeout: 120000 });
    await finish(row, "sent", { result: res.data });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status !== 401 && e.status !== 429) {
      await finish(row, "refused", { reason: String(e.status), detail: e.problem?.detail || e.message });
      return false;
    }
    throw e;
  }
}

async function sendConfirmation(row) {
  try {
    const res = await request(`/jobs/${row.job_id}/confirmation`, {
      method: "POST",
      body: { ...row.body, signed_at: row.device_at },
      headers: { "Idempotency-Key": row.key },
      timeout: 60000,
    });
    await finish(row, "sent", { result: res.data });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status !== 401 && e.status !== 429) {
      await finish(row, "refused", { reason: String(e.status), detail: e.problem?.detail || e.message });
      return false;
    }
    throw e;
  }
}

async function finish(row, state, extra) {
  const done = { ...row, ...extra, state, sent_at: Date.now() };
  await outboxPut(done);
  changed({ row: done });
}

/** The technician has read a refusal: it leaves the list (the server's answer stays in its log). */
export async function dismiss(row) {
  await outboxPut({ ...row, state: "dismissed", sent_at: Date.now() });
  changed({ row });
}

export function isOffline(e) {
  return e instanceof Offline;
}
