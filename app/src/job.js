// The job: what is broken and where, who to call, what happened before, and the buttons for what comes next.
import { actionText, effective, render, state } from "./main.js";
import { blobGet, jobGet } from "./db.js";
import { request } from "./api.js";
import { clock, date, distance, t, when } from "./i18n.js";
import { leftText } from "./today.js";
import { metres, navigationLink, position } from "./geo.js";
import { compress } from "./photo.js";
import * as outbox from "./outbox.js";
import { h, sheet, toast } from "./ui.js";

const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export function findJob(id) {
  return state.jobs.find((j) => j.id === id);
}

export function renderJob(main, id) {
  main.dataset.screen = "job";
  const job = findJob(id);
  if (!job) {
    main.append(h("p", { class: "empty" }, t("job.missing")));
    jobGet(id).then((j) => j && render());
    return;
  }
  const eff = effective(job);
  const zone = job.site?.timezone;
  const left = (Date.parse(job.due_on_site_at) - Date.now()) / 1000;
  main.dataset.id = job.id;
  main.dataset.status = eff.status;

  main.append(
    h(
      "section",
      { class: `job-head grade-${job.grade}` },
      h("div", { class: "job-top" }, h("span", { class: `grade ${job.grade}` }, job.grade_text), h("span", { class: "status", id: "job-status" }, eff.statusText), h("span", { class: "muted" }, `#${job.ticket_id}`)),
      h("h1", {}, job.site?.name || t("job.no-site")),
      h(
        "div",
        { class: "job-times" },
        h("span", {}, t("job.eta"), " ", h("b", { id: "job-eta" }, when(eff.eta, zone))),
        h("span", {}, t("job.promise"), " ", h("b", {}, when(job.due_on_site_at, zone))),
        eff.completed ? null : h("span", { class: `left${left < 0 ? " over" : ""}`, dataset: { due: job.due_on_site_at } }, leftText(left)),
      ),
    ),
  );

  main.append(arrivalNote(job, eff));
  main.append(actions(job, eff));
  main.append(pendingList(eff));

  // The four intake answers.
  const eq = job.equipment;
  main.append(
    section(
      t("job.what"),
      dl([
        [t("job.equipment"), eq ? `${state.config?.texts?.equipment_type?.[eq.equipment_type] || eq.equipment_type} ${eq.model}` : job.reported_model || "–"],
        [t("job.serial"), eq?.serial_number || job.reported_serial || "–"],
        [t("job.made"), eq?.manufacture_date ? date(eq.manufacture_date, "UTC") : "–"],
      ]),
    ),
    section(
      t("job.problem"),
      h("p", { class: "symptom-full" }, job.symptom),
      dl([
        [t("job.where"), job.location_detail || "–"],
        [t("job.condition"), job.working_condition || "–"],
      ]),
    ),
    section(t("job.impact"), impactList(job)),
    section(t("job.request"), h("p", {}, job.special_request || "–")),
  );

  if ((job.customer_photos || []).length) {
    const strip = h("div", { class: "photos", id: "customer-photos" });
    for (const url of job.customer_photos) strip.append(photoThumb(url));
    main.append(section(t("job.customer-photos"), strip));
  }

  main.append(site(job, zone));
  main.append(myPhotos(job, eff));
  main.append(history(job, zone));
}

function section(title, ...body) {
  return h("section", { class: "card" }, h("h2", {}, title), ...body);
}

function dl(pairs) {
  return h("dl", {}, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function impactList(job) {
  const facts = Object.entries(job.impact || {}).filter(([, v]) => v === true);
  if (!facts.length) return h("p", {}, job.impact_text || "–");
  return h(
    "ul",
    { class: "facts" },
    facts.map(([k]) => h("li", {}, state.config?.texts?.impact?.[k] || k)),
  );
}

function photoThumb(url) {
  const img = h("img", { alt: "", loading: "lazy", width: 96, height: 96 });
  blobGet(url).then(async (blob) => {
    if (!blob && navigator.onLine) {
      try {
        const res = await request(url.replace(/^\/api\/v1/, ""), { raw: true });
        if (res.ok) blob = await res.blob();
      } catch {
        /* offline */
      }
    }
    if (blob) img.src = URL.createObjectURL(blob);
    else img.classList.add("missing");
  });
  return img;
}

function arrivalNote(job, eff) {
  const arrivedRow = [...eff.rows].reverse().find((r) => r.type === "event" && r.kind === "arrived" && r.state !== "dismissed");
  const radius = state.config?.geofence_radius_m;
  let text = null;
  let cls = "";
  if (arrivedRow?.state === "sent" && arrivedRow.result?.arrival) {
    const a = arrivedRow.result.arrival;
    text = a.outside_geofence
      ? t("geo.outside", { d: distance(a.distance_m), r: distance(a.radius_m) })
      : t("geo.inside", { d: distance(a.distance_m), r: distance(a.radius_m) });
    cls = a.outside_geofence ? "warn" : "ok";
  } else if (arrivedRow?.state === "waiting" && job.site && arrivedRow.body.position && radius) {
    const d = metres(arrivedRow.body.position, job.site);
    text = (d > radius ? t("geo.outside-local", { d: distance(d), r: distance(radius) }) : t("geo.inside-local", { d: distance(d), r: distance(radius) }));
    cls = d > radius ? "warn" : "ok";
  } else if (job.arrival_outside_geofence) {
    text = t("geo.outside", { d: distance(job.arrival_distance_m), r: distance(radius) });
    cls = "warn";
  }
  return text ? h("p", { class: `geofence ${cls}`, id: "geofence", dataset: { answer: cls } }, text) : "";
}

function actions(job, eff) {
  const box = h("section", { class: "actions", id: "actions" });
  const allowed = eff.allowed.filter((a) => a !== "position");
  const primary = ["accept", "en_route", "arrived", "resumed", "completed"];
  for (const a of allowed) {
    box.append(
      h(
        "button",
        {
          type: "button",
          class: `btn action ${primary.includes(a) ? "primary" : "ghost"} act-${a}`,
          dataset: { action: a },
          onclick: (e) => act(job, a, e.currentTarget),
        },
        actionText(job, a),
      ),
    );
  }
  if (["on_site", "paused", "completed"].includes(eff.status)) {
    const input = h("input", { type: "file", accept: "image/*", capture: "environment", id: "photo-input", hidden: true, multiple: true });
    input.addEventListener("change", async () => {
      for (const file of input.files) {
        try {
          const blob = await compress(file);
          await outbox.enqueuePhoto(job.id, blob);
        } catch {
          toast(t("photo.failed"), "error");
        }
      }
      input.value = "";
      toast(t("photo.saved"));
    });
    box.append(input, h("button", { type: "button", class: "btn ghost act-photo", onclick: () => input.click() }, t("photo.take")));
  }
  if (eff.completed) {
    if (!eff.confirmation) {
      box.append(h("a", { class: "btn primary act-close", href: `#/job/${job.id}/close` }, t("close.start")));
    } else {
      box.append(h("p", { class: "note ok", id: "signed-note" }, eff.confirmation.state === "sent" ? t("close.signed-sent") : t("close.signed-waiting")));
    }
  }
  if (!box.childElementCount) return "";
  return box;
}

async function act(job, action, button) {
  if (action === "completed") {
    location.hash = `#/job/${job.id}/report`;
    return;
  }
  const body = {};
  if (action === "decline" || action === "paused" || action === "signature_refused") {
    const v = await sheet(actionText(job, action), (el) => {
      el.append(h("label", {}, t("form.reason"), h("textarea", { name: "reason", required: true, rows: 3, maxlength: 1000, id: "reason" })));
    }, { submit: actionText(job, action), cancel: t("form.cancel") });
    if (!v) return;
    body.reason = v.reason.trim();
  }
  if (action === "cannot_meet_time") {
    const v = await newEtaSheet(job);
    if (!v) return;
    Object.assign(body, v);
  }
  if (action === "en_route" || action === "arrived") {
    button.disabled = true;
    button.textContent = t("geo.locating");
    try {
      body.position = await position();
      state.lastPosition = body.position;
    } catch {
      button.disabled = false;
      button.textContent = actionText(job, action);
      toast(t("geo.failed"), "error");
      return;
    }
  }
  await outbox.enqueueEvent(job.id, action, body);
  toast(navigator.onLine ? t("outbox.sending") : t("outbox.saved-offline"));
}

/** A new arrival time (in the site's time zone) and why. */
async function newEtaSheet(job) {
  const zone = job.site?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  const base = Math.max(Date.now(), Date.parse(effective(job).eta || 0) || 0) + 3600 * 1000;
  return sheet(actionText(job, "cannot_meet_time"), (el) => {
    const input = h("input", { type: "datetime-local", name: "new_eta", required: true, id: "new-eta", value: localInput(base, zone) });
    el.append(
      h("label", {}, t("form.new-eta", { zone }), input),
      h(
        "div",
        { class: "chips" },
        [30, 60, 120, 180].map((m) =>
          h("button", { type: "button", class: "chip", onclick: () => (input.value = localInput(Math.max(Date.now(), Date.parse(effective(job).eta || 0) || 0) + m * 60000, zone)) }, `+${m >= 60 ? `${m / 60} h` : `${m} min`}`),
        ),
      ),
      h("label", {}, t("form.reason-optional"), h("textarea", { name: "reason", rows: 2, maxlength: 1000, id: "eta-reason" })),
    );
    return () => {
      const at = fromLocalInput(input.value, zone);
      if (!at || at.getTime() < Date.now()) return { error: t("form.eta-past") };
      const out = { new_eta: at.toISOString() };
      const reason = el.querySelector("#eta-reason").value.trim();
      if (reason) out.reason = reason;
      return out;
    };
  }, { submit: t("form.send"), cancel: t("form.cancel") });
}

function parts(ms, zone) {
  const f = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return p;
}

function localInput(ms, zone) {
  const p = parts(ms, zone);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** "2026-11-23T14:30" read as a wall clock in `zone` → the instant. */
export function fromLocalInput(value, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!m) return null;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let guess = asUtc;
  for (let i = 0; i < 3; i++) {
    const p = parts(guess, zone);
    const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute);
    guess += asUtc - shown;
  }
  return new Date(guess);
}

function pendingList(eff) {
  const rows = eff.rows.filter((r) => r.state === "waiting" || r.state === "refused");
  if (!rows.length) return "";
  return h(
    "ul",
    { class: "outbox-rows", id: "job-outbox" },
    rows.map((r) =>
      h(
        "li",
        { class: `row ${r.state}`, dataset: { kind: r.kind, state: r.state } },
        h("strong", {}, rowLabel(r)),
        " ",
        h("span", { class: "muted" }, clock(r.device_at)),
        " · ",
        r.state === "waiting" ? t("outbox.waiting") : h("span", { class: "refusal" }, t("outbox.refused"), ": ", refusal(r)),
      ),
    ),
  );
}

/** Why the office refused a row, in the technician's words: what happened to the job, else the server's text. */
export function refusal(r) {
  if (r.reason === "job_reassigned" || r.reason === "job_not_found") return t(`refused.${r.reason}`);
  return r.detail || r.reason;
}

export function rowLabel(r) {
  if (r.type === "photo") return t("outbox.photo");
  if (r.type === "confirmation") return t("outbox.confirmation");
  return state.config?.texts?.action?.[r.kind] || r.kind;
}

function site(job, zone) {
  const s = job.site;
  if (!s) return "";
  const today = DAYS[dayIndex(zone)];
  const hours = s.access_hours || {};
  const rows = DAYS.slice(1).concat("sun").map((d) => {
    const spans = hours[d];
    const txt = Array.isArray(spans) && spans.length ? spans.map((x) => x.join("–")).join(", ") : hours && Object.keys(hours).length ? t("site.closed") : t("site.any");
    return h("li", { class: d === today ? "today" : "" }, h("span", {}, t(`day.${d}`)), h("span", {}, txt));
  });
  const contact = job.contact || {};
  return section(
    t("job.site"),
    h("p", {}, s.address),
    h("ul", { class: "hours", id: "access-hours" }, rows),
    contact.phone
      ? h("a", { class: "btn ghost wide call", href: `tel:${contact.phone.replace(/[^\d+]/g, "")}`, id: "call" }, t("site.call", { name: contact.name || "" }), " ", contact.phone)
      : h("p", { class: "muted" }, t("site.no-phone")),
    miniMap(s),
    h("a", { class: "btn primary wide", href: navigationLink(s), id: "navigate" }, t("site.navigate")),
  );
}

function dayIndex(zone) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, weekday: "short" }).format(new Date()).toLowerCase();
  return DAYS.indexOf(name.slice(0, 3));
}

/** The site and the fence around it, drawn without any map tiles (it works with no signal). */
function miniMap(s) {
  const r = state.config?.geofence_radius_m || 300;
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "-100 -60 200 120");
  svg.setAttribute("class", "minimap");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}`);
  const el = (tag, attrs) => {
    const e = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    svg.append(e);
    return e;
  };
  el("rect", { x: -100, y: -60, width: 200, height: 120, fill: "#eef2f7" });
  for (let i = -80; i <= 80; i += 40) el("line", { x1: i, y1: -60, x2: i, y2: 60, stroke: "#d6dde8", "stroke-width": 0.5 });
  for (let i = -40; i <= 40; i += 40) el("line", { x1: -100, y1: i, x2: 100, y2: i, stroke: "#d6dde8", "stroke-width": 0.5 });
  el("circle", { cx: 0, cy: 0, r: 40, fill: "rgba(11,61,145,0.12)", stroke: "#0b3d91", "stroke-dasharray": "3 2" });
  el("circle", { cx: 0, cy: 0, r: 5, fill: "#d0021b" });
  const label = el("text", { x: 0, y: 54, "text-anchor": "middle", "font-size": 9, fill: "#334" });
  label.textContent = `${t("site.fence")} ${distance(r)} · ${s.lat.toFixed(4)}, ${s.lon.toFixed(4)}`;
  const me = state.lastPosition;
  if (me) {
    const d = metres(me, s);
    const scale = 40 / r;
    const dx = (me.lon - s.lon) * 111320 * Math.cos((s.lat * Math.PI) / 180) * scale;
    const dy = -(me.lat - s.lat) * 110540 * scale;
    const k = Math.min(1, 90 / Math.max(1, Math.hypot(dx, dy)));
    el("circle", { cx: dx * k, cy: Math.max(-55, Math.min(55, dy * k)), r: 4, fill: "#0b8a3e" });
    const tx = el("text", { x: -95, y: -48, "font-size": 9, fill: "#0b8a3e" });
    tx.textContent = t("site.you", { d: distance(d) });
  }
  return svg;
}

function myPhotos(job, eff) {
  const rows = eff.rows.filter((r) => r.type === "photo" && r.state !== "dismissed");
  if (!rows.length) return "";
  const strip = h("div", { class: "photos", id: "my-photos" });
  for (const r of rows) {
    const img = h("img", { alt: "", width: 96, height: 96, class: r.state, dataset: { key: r.key, state: r.state } });
    blobGet(r.key).then((b) => b && (img.src = URL.createObjectURL(b)));
    strip.append(img);
  }
  return section(t("job.my-photos"), strip);
}

function history(job, zone) {
  const eq = job.equipment;
  if (!eq) return "";
  const past = eq.history || [];
  const alarms = eq.open_alarms || [];
  return section(
    t("job.history"),
    past.length
      ? h(
          "ul",
          { class: "history", id: "history" },
          past.map((p) => h("li", {}, h("span", { class: `grade ${p.grade}` }, state.config?.texts?.grade?.[p.grade] || p.grade), " ", date(p.reported_at, zone), " · ", p.symptom, " · ", state.config?.texts?.status?.[p.status] || p.status)),
        )
      : h("p", { class: "muted" }, t("job.no-history")),
    h("h3", {}, t("job.alarms")),
    alarms.length
      ? h(
          "ul",
          { class: "alarms", id: "alarms" },
          alarms.map((a) => h("li", { class: `sev-${a.severity}` }, h("b", {}, a.code), " ", a.severity, " · ", when(a.device_at || a.received_at, zone), a.message ? ` · ${a.message}` : "")),
        )
      : h("p", { class: "muted" }, t("job.no-alarms")),
  );
}
