// Chợ 4.0 phone pages' service worker: the static shell (styles, scripts, voice clips, icons,
// fonts) is cached on install and served cache-first; pages and the live feed always go to the
// network (they are personal and never cached).
const SHELL = "cho-shell-v1";
const FILES = [
  "/static/css/app.css",
  "/static/phone/phone.css",
  "/static/phone/app.js",
  "/static/phone/soundbox.js",
  "/static/phone/keypad.js",
  "/static/phone/share.js",
  "/static/phone/scan.js",
  "/static/phone/icon-192.png",
  "/static/phone/icon-512.png",
  "/static/vendor/htmx-2.0.11/htmx.min.js",
  "/static/vendor/jsqr-1.4.0/jsQR.js",
  "/static/fonts/BeVietnamPro-Regular.ttf",
  "/static/fonts/BeVietnamPro-Bold.ttf",
  __CLIPS__
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== SHELL).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/static/")) return;
  event.respondWith(caches.match(event.request).then((hit) => hit || fetch(event.request)));
});
