// The phone's own store (IndexedDB): the last job list, each job, the outbox and its photos.
// Everything the technician did is written here first, in one transaction, before anything is sent.
import { openDB } from "idb";

const NAME = "onsite24-app";
let dbp = null;

export function db() {
  if (!dbp) {
    dbp = openDB(NAME, 1, {
      upgrade(d) {
        d.createObjectStore("kv");
        d.createObjectStore("jobs", { keyPath: "id" });
        // One row per thing to send: an event, a photo or a signed confirmation, in the order it happened.
        const out = d.createObjectStore("outbox", { keyPath: "key" });
        out.createIndex("seq", "seq");
        d.createObjectStore("blobs"); // photo bytes, by outbox key (kept apart so listing the outbox stays light)
      },
    });
  }
  return dbp;
}

export async function kvGet(key) {
  return (await db()).get("kv", key);
}

export async function kvSet(key, value) {
  return (await db()).put("kv", value, key);
}

export async function kvDel(key) {
  return (await db()).delete("kv", key);
}

export async function jobsAll() {
  return (await db()).getAll("jobs");
}

export async function jobGet(id) {
  return (await db()).get("jobs", Number(id));
}

export async function jobPut(job) {
  return (await db()).put("jobs", job);
}

/** Replace the cached job list with the server's page, keeping jobs the phone still has work for. */
export async function jobsReplace(items, keep) {
  const d = await db();
  const tx = d.transaction("jobs", "readwrite");
  const fresh = new Set(items.map((j) => j.id));
  for (const old of await tx.store.getAll()) {
    if (!fresh.has(old.id) && !keep(old)) await tx.store.delete(old.id);
  }
  for (const j of items) {
    const old = await tx.store.get(j.id);
    await tx.store.put({ ...j, local: old?.local || {}, fetched_at: Date.now() });
  }
  await tx.done;
}

export async function outboxAll() {
  return (await db()).getAllFromIndex("outbox", "seq");
}

/** Add an outbox row (and a photo's bytes) atomically: either both are stored or neither. */
export async function outboxAdd(row, blob) {
  const d = await db();
  const tx = d.transaction(["outbox", "blobs"], "readwrite");
  await tx.objectStore("outbox").add(row);
  if (blob) await tx.objectStore("blobs").put(blob, row.key);
  await tx.done;
}

export async function outboxPut(row) {
  return (await db()).put("outbox", row);
}

export async function blobGet(key) {
  return (await db()).get("blobs", key);
}

/** Forget sent rows older than `keepMs` (their photos' bytes too); refused rows stay until dismissed. */
export async function outboxPrune(keepMs) {
  const d = await db();
  const tx = d.transaction(["outbox", "blobs"], "readwrite");
  const cutoff = Date.now() - keepMs;
  for (const row of await tx.objectStore("outbox").getAll()) {
    if ((row.state === "sent" || row.state === "dismissed") && (row.sent_at || 0) < cutoff) {
      await tx.objectStore("outbox").delete(row.key);
      await tx.objectStore("blobs").delete(row.key);
    }
  }
  await tx.done;
}

export async function outboxDelete(key) {
  const d = await db();
  const tx = d.transaction(["outbox", "blobs"], "readwrite");
  await tx.objectStore("outbox").delete(key);
  await tx.objectStore("blobs").delete(key);
  await tx.done;
}

/** Sign-out: forget the jobs and settings; the outbox stays (it belongs to the technician, not the sign-in). */
export async function forgetSession() {
  const d = await db();
  const tx = d.transaction(["kv", "jobs"], "readwrite");
  await tx.objectStore("jobs").clear();
  for (const k of ["token", "etag", "config", "day"]) await tx.objectStore("kv").delete(k);
  await tx.done;
}
