// The map: sites with open tickets coloured by grade, technicians' last positions and routes, depots.
// Works with no tile server: without a tile URL (or when tiles fail) points and routes sit on a plain background.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { api } from "./api.js";
import { h, when } from "./util.js";
import { t, word } from "./i18n.js";

const tr = t; // in the technician loop `t` is the technician

const COLOUR = { major: "#c0262d", serious: "#e08a00", general: "#2f6fb5" };

export function createMap({ tileUrl, onOpenTicket }) {
  const holder = h("div", { class: "map-canvas", id: "map-canvas" });
  const legend = h("div", { class: "legend" },
    ...Object.entries(COLOUR).map(([g, c]) => h("span", {}, h("i", { style: `background:${c}` }), word("grade", g))),
    h("span", {}, h("i", { class: "tech" }), t("board.map.technician")),
    h("span", {}, h("i", { class: "depot" }), word("depot", "service_centre")),
    h("span", {}, h("i", { class: "partner" }), word("depot", "partner_point")));
  const note = h("p", { class: "map-note" });
  const root = h("section", { class: "view map", id: "view-map", "aria-label": t("board.views.map") }, note, holder, legend);
  let map = null;
  let layer = null;
  let fitted = false;

  function ensureMap() {
    if (map) return;
    map = L.map(holder, { preferCanvas: true, zoomControl: true, attributionControl: Boolean(tileUrl), zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false }).setView([28.2, 112.9], 8);
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19, attribution: t("board.map.attribution") }).addTo(map);
    holder.classList.toggle("no-tiles", !tileUrl);
    layer = L.layerGroup().addTo(map);
  }

  async function load() {
    ensureMap();
    const data = await api("/board/map");
    layer.clearLayers();
    const bounds = [];
    for (const t of data.technicians) {
      if (t.route.length > 1) L.polyline(t.route, { color: "#444", weight: 2, opacity: 0.7, dashArray: "4 4" }).addTo(layer);
    }
    for (const d of data.depots) {
      const cls = d.kind === "partner_point" ? "partner" : "depot";
      L.marker([d.lat, d.lon], { icon: L.divIcon({ className: `pin ${cls}`, iconSize: [14, 14] }), keyboard: false, title: d.name })
        .bindTooltip(`${d.name} (${word("depot", d.kind)})`).addTo(layer);
      bounds.push([d.lat, d.lon]);
    }
    for (const s of data.sites) {
      L.circleMarker([s.lat, s.lon], { radius: 6 + Math.min(6, s.tickets), color: "#fff", weight: 1, fillColor: COLOUR[s.grade], fillOpacity: 0.9, className: `site grade-${s.grade}` })
        .bindTooltip(t("board.map.site", { name: s.name, count: s.tickets, grade: word("grade", s.grade) }))
        .on("click", () => onOpenTicket(s.ticket_ids[0]))
        .addTo(layer);
      bounds.push([s.lat, s.lon]);
    }
    for (const t of data.technicians) {
      L.marker([t.lat, t.lon], { icon: L.divIcon({ className: "pin tech", iconSize: [12, 12] }), keyboard: false, title: t.name })
        .bindTooltip(`${t.name} · ${t.at ? tr("board.map.seen", { at: when(t.at) }) : tr("board.map.at-depot")}`).addTo(layer);
      bounds.push([t.lat, t.lon]);
    }
    if (!fitted && bounds.length) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 11, animate: false }); fitted = true; }
    note.textContent = [
      t("board.map.summary", { sites: data.sites.length, technicians: data.technicians.length, depots: data.depots.length }),
      tileUrl ? "" : t("board.map.no-tiles"),
      data.truncated ? t("board.map.truncated") : "",
    ].filter(Boolean).join(" · ");
    root.dataset.loaded = "true";
    root.dataset.sites = String(data.sites.length);
  }

  function shown() { if (map) map.invalidateSize(); }
  return { root, load, shown };
}
