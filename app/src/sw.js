/* Onsite24 technician app: service worker (scope /app/).
 *
 * The app shell (the page, its hashed scripts and styles, the manifest and icons) is precached at install
 * and answered from the cache first: after the first visit the app opens with no network at all, and on a
 * slow link it opens at once. A new build has a new VERSION: it installs beside the old one, precaches the
 * new shell, takes over and deletes the old cache; the page reloads itself once when told.
 *
 * The API is never cached here: the app keeps its jobs and its outbox in IndexedDB and decides itself what
 * to show when offline (a cached API answer could be another technician's after a sign-out).
 */
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const CACHE = `onsite24-app-${VERSION}`;
const SCOPE = new URL("./", self.location).pathname; // "/app/"

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((f) => new Request(SCOPE + (f === "./" ? "" : f), { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("onsite24-app-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  if (request.mode === "navigate") {
    // Every page of the app is the one shell (the screens are #routes).
    event.respondWith(caches.match(SCOPE, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
    return;
  }
  event.respondWith(caches.match(request, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
});

self.addEventListener("message", (event) => {
  if (event.data === "version") event.source?.postMessage({ version: VERSION });
});

// A tap on the "new major job" notification opens (or focuses) the app on that job.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = SCOPE + (event.notification.data?.hash || "");
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((wins) => {
      for (const w of wins) {
        if (w.url.startsWith(self.location.origin + SCOPE)) {
          w.navigate(target);
          return w.focus();
        }
      }
      return self.clients.openWindow(target);
    }),
  );
});
