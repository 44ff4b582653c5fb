// The map: sites with open tickets coloured by grade, technicians' last positions and routes, depots.
// Where a region's roads are imported (`onsite24 roads import`), the map draws those streets itself as vector
// lines and routes follow them; a tile server (ONSITE24_TILE_URL) still works beneath. Without either, points
// and routes sit on a plain background. Labels are text only (DOM text nodes, never markup from data).
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { api } from "./api.js";
import { h, when } from "./util.js";
import { t, word } from "./i18n.js";

const tr = t; // in the technician loop `t` is the technician

const COLOUR = { major: "#c0262d", serious: "#e08a00", general: "#2f6fb5" };
// Street widths and colours by OSM class (the larger roads drawn wider and darker).
const STREET = {
  motorway: [4, "#9aa3ad"], trunk: [4, "#9aa3ad"], primary: [3.5, "#a9b1ba"], secondary: [3, "#b7bec6"],
  tertiary: [2.5, "#c3c9d0"], residential: [2, "#cfd4da"], unclassified: [2, "#cfd4da"],
};
const LABELS_UP_TO = 40; // permanent labels while the map shows at most this many sites and technicians

function label(text) { return h("span", { class: "map-label-text" }, text); }

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
  let streets = null;
  let regions = [];
  let fitted = false;
  let streetsSeq = 0;

  function ensureMap() {
    if (map) return;
    map = L.map(holder, { preferCanvas: true, zoomControl: true, attributionControl: Boolean(tileUrl), zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false }).setView([28.2, 112.9], 8);
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19, attribution: t("board.map.attribution") }).addTo(map);
    holder.classList.toggle("no-tiles", !tileUrl);
    map.createPane("streets").style.zIndex = 350; // above tiles (200), below routes and markers (400+)
    streets = L.geoJSON(null, {
      pane: "streets",
      renderer: L.canvas({ pane: "streets" }),
      interactive: false,
      style: (f) => { const [w, c] = STREET[f.properties.class] || [1.5, "#d6dadf"]; return { weight: w, color: c, opacity: 1 }; },
    }).addTo(map);
    layer = L.layerGroup().addTo(map);
    map.on("moveend", () => loadStreets());
  }

  async function loadStreets() {
    if (!regions.length || !map) return;
    const b = map.getBounds();
    const box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    const seen = regions.some((r) => r.bbox[0] <= box[2] && r.bbox[2] >= box[0] && r.bbox[1] <= box[3] && r.bbox[3] >= box[1]);
    if (!seen || box[2] - box[0] > 5 || box[3] - box[1] > 5) { streets.clearLayers(); root.dataset.streets = "0"; return; }
    const seq = ++streetsSeq;
    const data = await api("/roads/streets", { params: { bbox: box.map((x) => x.toFixed(5)).join(","), zoom: map.getZoom() } });
    if (seq !== streetsSeq) return; // a newer view was asked for meanwhile
    streets.clearLayers();
    streets.addData(data);
    root.dataset.streets = String(data.features.length);
  }

  async function load() {
    ensureMap();
    const [data, roadRegions] = await Promise.all([api("/board/map"), api("/roads/regions")]);
    regions = roadRegions;
    holder.classList.toggle("with-streets", regions.length > 0);
    layer.clearLayers();
    const bounds = [];
    const labelled = data.sites.length + data.technicians.length <= LABELS_UP_TO;
    for (const t of data.technicians) {
      if (t.route.length > 1) {
        const style = t.route_on_roads
          ? { color: "#3d4b5c", weight: 3, opacity: 0.85 }
          : { color: "#444", weight: 2, opacity: 0.7, dashArray: "4 4" };
        L.polyline(t.route, { ...style, className: t.route_on_roads ? "route on-roads" : "route" }).addTo(layer);
      }
    }
    for (const d of data.depots) {
      const cls = d.kind === "partner_point" ? "partner" : "depot";
      L.marker([d.lat, d.lon], { icon: L.divIcon({ className: `pin ${cls}`, iconSize: [14, 14] }), keyboard: false, title: d.name })
        .bindTooltip(label(`${d.name} (${word("depot", d.kind)})`)).addTo(layer);
      bounds.push([d.lat, d.lon]);
    }
    for (const s of data.sites) {
      const text = t("board.map.site", { name: s.name, count: s.tickets, grade: word("grade", s.grade) });
      L.circleMarker([s.lat, s.lon], { radius: 6 + Math.min(6, s.tickets), color: "#fff", weight: 1, fillColor: COLOUR[s.grade], fillOpacity: 0.9, className: `site grade-${s.grade}` })
        .bindTooltip(label(text), { permanent: labelled, direction: "right", offset: [8, 0], className: "map-label site-label" })
        .on("click", () => onOpenTicket(s.ticket_ids[0]))
        .addTo(layer);
      bounds.push([s.lat, s.lon]);
    }
    for (const t of data.technicians) {
      const text = `${t.name} · ${t.at ? tr("board.map.seen", { at: when(t.at) }) : tr("board.map.at-depot")}`;
      L.marker([t.lat, t.lon], { icon: L.divIcon({ className: "pin tech", iconSize: [12, 12] }), keyboard: false, title: t.name })
        .bindTooltip(label(labelled ? t.name : text), { permanent: labelled, direction: "left", offset: [-8, 0], className: "map-label tech-label" })
        .addTo(layer);
      bounds.push([t.lat, t.lon]);
    }
    root.dataset.routesOnRoads = String(data.technicians.filter((x) => x.route_on_roads).length);
    if (!fitted) {
      // Fit the road regions the work lies in (or all of them when there is no work yet), and the work.
      const inside = (r, [lat, lon]) => lon >= r.bbox[0] && lon <= r.bbox[2] && lat >= r.bbox[1] && lat <= r.bbox[3];
      const shown = regions.filter((r) => !bounds.length || bounds.some((p) => inside(r, p)));
      const box = [...bounds, ...shown.flatMap((r) => [[r.bbox[1], r.bbox[0]], [r.bbox[3], r.bbox[2]]])];
      if (box.length) { map.fitBounds(box, { padding: [30, 30], maxZoom: shown.length ? 16 : 11, animate: false }); fitted = true; }
    }
    root.dataset.zoom = String(map.getZoom());
    await loadStreets();
    note.textContent = [
      t("board.map.summary", { sites: data.sites.length, technicians: data.technicians.length, depots: data.depots.length }),
      regions.length ? t("board.map.roads", { regions: regions.map((r) => r.region).join(", ") }) : (tileUrl ? "" : t("board.map.no-tiles")),
      data.truncated ? t("board.map.truncated") : "",
    ].filter(Boolean).join(" · ");
    root.dataset.loaded = "true";
    root.dataset.sites = String(data.sites.length);
  }

  function shown() { if (map) map.invalidateSize(); }
  return { root, load, shown };
}
