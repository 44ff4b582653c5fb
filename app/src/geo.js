// The phone's position for en route / on site. Never invented: without a fix the action waits for one.
export function position({ timeout = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error("unsupported"));
    navigator.geolocation.getCurrentPosition(
      (p) =>
        resolve({
          lat: p.coords.latitude,
          lon: p.coords.longitude,
          accuracy_m: p.coords.accuracy == null ? null : Math.min(Math.round(p.coords.accuracy), 100000),
        }),
      (e) => reject(e),
      { enableHighAccuracy: true, timeout, maximumAge: 30000 },
    );
  });
}

const R = 6371008.8;
/** Great-circle metres: only the phone's own estimate while offline; the server decides (PostGIS). */
export function metres(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(x)));
}

/** A link that opens the phone's navigation app at the site. */
export function navigationLink(site) {
  const ll = `${site.lat},${site.lon}`;
  if (/iPhone|iPad|iPod/.test(navigator.userAgent)) return `https://maps.apple.com/?daddr=${ll}`;
  return `geo:${ll}?q=${ll}(${encodeURIComponent(site.name || "")})`;
}
