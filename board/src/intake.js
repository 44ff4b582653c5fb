// Intake on the call: find the machine, customer or site the caller means; register a new site (typed coordinates
// or a point picked on the map, access hours, contact) and a new machine; record the complaint. A ticket opened for
// a machine the registry did not know gets its site recorded afterwards, so that it can be planned.
import { api } from "./api.js";
import { h, toast, debounce } from "./util.js";
import { t as tr, word } from "./i18n.js";
import { modal } from "./steer.js";

const EQUIPMENT = ["tower_crane", "construction_hoist", "elevator", "base_station", "facility"];
const CATEGORIES = ["equipment", "service_attitude", "service_quality", "emergency"];
const IMPACTS = ["people_trapped", "injury", "safety_risk", "equipment_down", "site_stopped", "degraded"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const field = (label, input) => h("label", { class: "field" }, h("span", {}, label), input);
const input = (name, attrs = {}) => h("input", { name, id: `intake-${name}`, type: "text", ...attrs });
const value = (el) => (el.value || "").trim() || null;

// Search the registry as the caller talks: machines, customers and sites, each one click to choose.
function registrySearch(onPick) {
  const box = input("search", { type: "search", placeholder: tr("board.intake.search-placeholder"), "aria-label": tr("board.intake.search") });
  const results = h("div", { class: "intake-results", id: "intake-results", "aria-live": "polite" });
  const pick = (kind, item) => h("button", { type: "button", class: "pick", dataset: { kind, id: item.id }, onclick: () => onPick(kind, item) },
    kind === "equipment" ? `${word("equipment", item.equipment_type)} ${item.model} · ${item.serial_number} — ${item.customer_name}, ${item.site_name}`
      : kind === "customer" ? `${item.name}${item.phone ? ` · ${item.phone}` : ""}`
        : `${item.name}, ${item.address} — ${item.customer_name}`);
  const run = debounce(async () => {
    const q = box.value.trim();
    if (q.length < 2) { results.replaceChildren(); return; }
    try {
      const found = await api("/registry/search", { params: { q, limit: 8 } });
      const group = (titleKey, kind, items) => items.length
        ? h("div", { class: `group ${kind}` }, h("h4", {}, tr(titleKey)), h("ul", {}, ...items.map((i) => h("li", {}, pick(kind, i))))) : "";
      results.replaceChildren(
        group("board.intake.machines", "equipment", found.equipment),
        group("board.intake.customers", "customer", found.customers),
        group("board.intake.sites", "site", found.sites),
        found.equipment.length + found.customers.length + found.sites.length ? "" : h("p", { class: "muted" }, tr("board.intake.nothing-found")));
    } catch (e) { results.replaceChildren(h("p", { class: "refused" }, e.message)); }
  }, 250);
  box.addEventListener("input", run);
  return { box, results };
}

// A site's position: typed coordinates, or a click on a small map (Leaflet is loaded the first time it is asked for).
function positionPicker() {
  const lat = input("lat", { inputmode: "decimal", placeholder: "28.2282" });
  const lon = input("lon", { inputmode: "decimal", placeholder: "112.9388" });
  const holder = h("div", { class: "pick-map", id: "intake-map", hidden: true });
  let map = null;
  let marker = null;
  const button = h("button", { type: "button", id: "intake-pick-map", onclick: async () => {
    holder.hidden = false;
    if (map) return;
    const { default: L } = await import("leaflet");
    await import("leaflet/dist/leaflet.css");
    const start = [Number(lat.value) || 28.2, Number(lon.value) || 112.9];
    map = L.map(holder, { zoomControl: true, attributionControl: false }).setView(start, 10);
    map.on("click", (e) => {
      lat.value = e.latlng.lat.toFixed(6);
      lon.value = e.latlng.lng.toFixed(6);
      if (marker) marker.setLatLng(e.latlng); else marker = L.circleMarker(e.latlng, { radius: 7 }).addTo(map);
    });
  } }, tr("board.intake.pick-on-map"));
  const read = () => {
    const a = Number(lat.value); const b = Number(lon.value);
    return lat.value.trim() && lon.value.trim() && Number.isFinite(a) && Number.isFinite(b) ? { lat: a, lon: b } : null;
  };
  return { el: h("div", { class: "position" }, field(tr("board.intake.lat"), lat), field(tr("board.intake.lon"), lon), button, holder), read };
}

// Weekly access hours: the same window on the chosen days, or open around the clock.
function accessHours() {
  const always = h("input", { type: "checkbox", id: "intake-always-open", checked: true });
  const from = input("open-from", { type: "time", value: "07:00" });
  const to = input("open-to", { type: "time", value: "19:00" });
  const days = DAYS.map((d) => h("label", { class: "day" }, h("input", { type: "checkbox", value: d, checked: !["sat", "sun"].includes(d) }), word("weekday", d)));
  const read = () => (always.checked ? {} : Object.fromEntries(days.filter((l) => l.firstChild.checked).map((l) => [l.firstChild.value, [[from.value, to.value]]])));
  return { el: h("fieldset", { class: "access" }, h("legend", {}, tr("board.intake.access-hours")),
    h("label", {}, always, " ", tr("board.intake.always-open")), h("div", { class: "days" }, ...days), from, " – ", to), read };
}

// The new-site form; `owner()` answers the chosen customer (id) or a new one typed in.
function siteForm(owner) {
  const name = input("site-name"); const address = input("site-address"); const region = input("site-region");
  const contact = input("contact-name"); const contactPhone = input("contact-phone", { type: "tel" });
  const customerName = input("site-customer-name"); const customerPhone = input("site-customer-phone", { type: "tel" });
  const position = positionPicker(); const hours = accessHours();
  const el = h("div", { class: "site-form" },
    h("p", { class: "muted owner" }, tr("board.intake.site-owner-hint")),
    field(tr("board.intake.customer-name"), customerName), field(tr("board.intake.customer-phone"), customerPhone),
    field(tr("board.intake.site-name"), name), field(tr("board.intake.address"), address), field(tr("board.intake.region"), region),
    position.el, hours.el, field(tr("board.intake.contact-name"), contact), field(tr("board.intake.contact-phone"), contactPhone));
  async function register() {
    const pos = position.read();
    if (!value(name) || !value(address) || !pos) throw new Error(tr("board.intake.site-incomplete"));
    const chosen = owner();
    const body = { name: value(name), address: value(address), region: value(region), position: pos, access_hours: hours.read(),
      contact_name: value(contact), contact_phone: value(contactPhone) };
    if (chosen) body.customer_id = chosen.id;
    else body.customer = { name: value(customerName) || value(contact) || value(name), phone: value(customerPhone) || value(contactPhone) };
    return api("/sites", { method: "POST", body });
  }
  return { el, register };
}

function problemText(e) {
  const pointers = (e.problem?.errors || []).map((x) => `${x.pointer}: ${x.detail}`);
  return [e.message, ...pointers].join("\n");
}

// The whole call: who and what, the new site and machine when needed, the four intake questions.
export function openIntake({ onOpened }) {
  const chosen = { equipment: null, customer: null, site: null };
  const summary = h("p", { class: "chosen", id: "intake-chosen" }, tr("board.intake.nothing-chosen"));
  const paint = () => {
    const parts = [];
    if (chosen.equipment) parts.push(`${word("equipment", chosen.equipment.equipment_type)} ${chosen.equipment.serial_number}`);
    if (chosen.site) parts.push(`${chosen.site.name}, ${chosen.site.address}`);
    if (chosen.customer) parts.push(chosen.customer.name);
    summary.textContent = parts.length ? tr("board.intake.chosen", { what: parts.join(" · ") }) : tr("board.intake.nothing-chosen");
    machine.hidden = Boolean(chosen.equipment);
  };
  const search = registrySearch((kind, item) => {
    if (kind === "equipment") {
      chosen.equipment = item;
      chosen.site = { id: item.site_id, name: item.site_name, address: item.site_address };
      chosen.customer = { id: item.customer_id, name: item.customer_name };
      if (item.open_ticket_id) toast(tr("board.intake.joins-open", { ticket: item.open_ticket_id }));
    } else if (kind === "site") {
      chosen.site = item; chosen.customer = { id: item.customer_id, name: item.customer_name }; chosen.equipment = null;
    } else { chosen.customer = item; }
    paint();
  });
  const serial = input("serial"); const model = input("model"); const made = input("manufacture-date", { type: "date" });
  const type = h("select", { id: "intake-equipment-type", "aria-label": tr("board.intake.equipment-type") },
    h("option", { value: "" }, "–"), ...EQUIPMENT.map((e) => h("option", { value: e }, word("equipment", e))));
  const machine = h("fieldset", { class: "machine" }, h("legend", {}, tr("board.intake.machine")),
    field(tr("board.intake.serial"), serial), field(tr("board.intake.model"), model), field(tr("board.intake.equipment-type"), type),
    field(tr("board.intake.manufacture-date"), made));
  const site = siteForm(() => chosen.customer);
  const siteBox = h("details", { class: "new-site", id: "intake-new-site" }, h("summary", {}, tr("board.intake.new-site")), site.el,
    h("button", { type: "button", id: "intake-register-site", onclick: async () => {
      try {
        const s = await site.register();
        chosen.site = s; chosen.customer = { id: s.customer_id, name: s.customer_name }; paint();
        toast(tr("board.intake.site-registered", { name: s.name }));
        siteBox.open = false;
      } catch (e) { toast(problemText(e), "error"); }
    } }, tr("board.intake.register-site")));
  const callerName = input("caller-name"); const callerPhone = input("caller-phone", { type: "tel" });
  const category = h("select", { id: "intake-category", "aria-label": tr("board.intake.category") }, ...CATEGORIES.map((c) => h("option", { value: c }, word("category", c))));
  const symptom = h("textarea", { id: "intake-symptom", rows: 2, required: true, "aria-label": tr("board.intake.symptom") });
  const where = input("location-detail"); const condition = input("working-condition"); const request = input("special-request");
  const impacts = IMPACTS.map((k) => h("label", { class: "impact" }, h("input", { type: "checkbox", value: k }), tr(`board.intake.impact.${k}`)));
  const body = h("div", { class: "form intake", id: "intake-form" },
    search.box, search.results, summary, machine, siteBox,
    h("fieldset", {}, h("legend", {}, tr("board.intake.caller")), field(tr("board.intake.caller-name"), callerName), field(tr("board.intake.caller-phone"), callerPhone)),
    h("fieldset", {}, h("legend", {}, tr("board.intake.problem")), field(tr("board.intake.category"), category), field(tr("board.intake.symptom"), symptom),
      field(tr("board.intake.location-detail"), where), field(tr("board.intake.working-condition"), condition),
      h("div", { class: "impacts" }, ...impacts), field(tr("board.intake.special-request"), request)));

  async function submit(close) {
    if (!value(symptom)) { symptom.focus(); toast(tr("board.intake.symptom-required"), "error"); return; }
    let equipment = chosen.equipment;
    try {
      // A new machine at a known site is registered first, so the ticket is planned like any other.
      if (!equipment && value(serial) && chosen.site && type.value && value(model)) {
        equipment = await api("/equipment", { method: "POST", body: { site_id: chosen.site.id, equipment_type: type.value, model: value(model), serial_number: value(serial), manufacture_date: value(made) } });
      }
      const complaint = {
        channel: "phone", category: category.value, symptom: value(symptom), location_detail: value(where),
        working_condition: value(condition), special_request: value(request), reporter_name: value(callerName), reporter_phone: value(callerPhone),
        impact: Object.fromEntries(impacts.map((l) => [l.firstChild.value, l.firstChild.checked])),
      };
      if (equipment) complaint.equipment_id = equipment.id;
      else if (value(serial)) complaint.equipment = { serial_number: value(serial), model: value(model), manufacture_date: value(made), equipment_type: type.value || null };
      if (!equipment && chosen.site) complaint.site_id = chosen.site.id;
      if (chosen.customer) complaint.customer_id = chosen.customer.id;
      else if (value(callerName) && value(callerPhone)) complaint.customer = { name: value(callerName), phone: value(callerPhone) };
      const opened = await api("/complaints", { method: "POST", body: complaint });
      toast(opened.intake.message);
      close();
      onOpened(opened);
    } catch (e) { toast(problemText(e), "error"); }
  }
  modal(tr("board.intake.title"), body, [
    { label: tr("board.intake.submit"), primary: true, run: submit },
    { label: tr("board.cancel") },
  ]);
  search.box.focus();
}

// A ticket without a site (an unknown serial): choose a registered site, or register a new one, and record it.
export function recordSite(ticket, { onDone }) {
  let chosen = null;
  const summary = h("p", { class: "chosen", id: "record-site-chosen" }, tr("board.intake.nothing-chosen"));
  const search = registrySearch((kind, item) => {
    if (kind === "site") chosen = item;
    else if (kind === "equipment") chosen = { id: item.site_id, name: item.site_name, address: item.site_address, equipment_id: item.id };
    else return;
    summary.textContent = tr("board.intake.chosen", { what: `${chosen.name}, ${chosen.address}` });
  });
  const site = siteForm(() => (ticket.customer ? { id: ticket.customer.id, name: ticket.customer.name } : null));
  const body = h("div", { class: "form intake", id: "record-site-form" },
    h("p", {}, tr("board.intake.record-site-intro", { ticket: ticket.id, serial: ticket.reported_serial || "–" })),
    search.box, search.results, summary,
    h("details", { class: "new-site" }, h("summary", {}, tr("board.intake.new-site")), site.el));
  modal(tr("board.intake.record-site", { ticket: ticket.id }), body, [
    { label: tr("board.intake.record"), primary: true, run: async (close) => {
      try {
        const target = chosen || (await site.register());
        await api(`/tickets/${ticket.id}/site`, { method: "PUT", body: { site_id: target.id, equipment_id: target.equipment_id || null } });
        toast(tr("board.intake.site-recorded", { ticket: ticket.id }));
        close(); onDone();
      } catch (e) { toast(problemText(e), "error"); }
    } },
    { label: tr("board.cancel") },
  ]);
}
