// The phone's service worker: keeps a copy of the event page and its files so that a reload
// without a connection still opens the app (with the votes waiting in localStorage).
// Network first, always: when the network answers, the phone gets today's page and files and
// the copy is refreshed; the copy is used only when the network fails or hangs.
// API calls and the websocket are never touched: a vote is only "saved" when the server says so.

const CACHE = "unconf-phone-v1";
const NETWORK_PATIENCE_MS = 4000;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// The page tells us what to keep (its own URL and the static files it loaded).
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  const urls = data.urls.filter((url) => new URL(url, self.location.href).origin === self.location.origin);
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(urls))
      .then(
        () => event.ports[0] && event.ports[0].postMessage({ cached: urls.length }),
        () => event.ports[0] && event.ports[0].postMessage({ cached: 0 }),
      ),
  );
});

function keepable(request) {
  if (request.method !== "GET") return false;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return false;
  if (url.pathname.startsWith("/static/")) return true;
  // The event page itself (and the schedule page): this worker's scope is /e/<slug>/.
  const scope = new URL(self.registration.scope).pathname;
  return request.mode === "navigate" && (url.pathname === scope || url.pathname === `${scope}schedule/`);
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  const network = fetch(request).then(async (response) => {
    // Only whole, direct answers are worth keeping (not a redirect to the join page).
    if (response.ok && response.type === "basic" && !response.redirected) {
      await cache.put(request, response.clone());
    }
    return response;
  });
  const copy = await cache.match(request, { ignoreSearch: true });
  if (!copy) return network;
  // Flaky Wi-Fi: do not leave the attendee staring at a blank page; the copy wins after a while.
  const patience = new Promise((resolve) => setTimeout(() => resolve(copy), NETWORK_PATIENCE_MS));
  return Promise.race([network.catch(() => copy), patience]);
}

self.addEventListener("fetch", (event) => {
  if (keepable(event.request)) event.respondWith(networkFirst(event.request));
});
