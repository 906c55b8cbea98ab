// The back office's service worker (Workbox, served from /manage/ so that it controls only the
// back office). It keeps the shell (styles, scripts, the offline page) and the pages the
// signed-in user opened, filed under that user's key: pages come from the network first and
// from this phone only when the network fails, and another user's pages are never shown.
// Public pages are outside its scope. It also sends the outbox when Background Sync says the
// signal is back.
importScripts(...{{ imports|tojson }});

const SHELL_CACHE = {{ ("pasar-shell-" ~ shell_version)|tojson }};
const STATIC_CACHE = "pasar-static";
const PAGE_CACHE = "pasar-pages";
const SHELL = {{ shell|tojson }};
const OFFLINE_URL = {{ offline_url|tojson }};
const SCOPE = {{ scope|tojson }};
const USER_HEADER = {{ user_header|tojson }};
const NOT_CACHED = [SCOPE + "sw.js", SCOPE + "manifest.webmanifest"];
const FINGERPRINTED = /-[0-9a-f]{32}\.\w+$/;

const state = idbKeyval.createStore("pasar-sw", "state");
let user; // undefined until read: the worker may have been stopped and started again offline

async function currentUser() {
  if (user === undefined) user = (await idbKeyval.get("user", state)) || null;
  return user;
}

async function rememberUser(key) {
  if (key !== (await currentUser())) {
    user = key;
    await idbKeyval.set("user", key, state);
  }
}

// Pages are filed under the user who received them; a page from the network that names no user
// (logged out: the login page) is never kept, and it ends the offline use of what was kept.
const filedByUser = {
  fetchDidSucceed: async ({ response }) => {
    if (response.type !== "opaqueredirect") await rememberUser(response.headers.get(USER_HEADER));
    return response;
  },
  cacheKeyWillBeUsed: async ({ request }) => {
    const url = new URL(request.url);
    url.searchParams.set("pasar-user", (await currentUser()) || "-");
    return url.href;
  },
  cacheWillUpdate: async ({ response }) => {
    const owner = response.headers.get(USER_HEADER);
    return response.status === 200 && owner && owner === (await currentUser()) ? response : null;
  },
  cachedResponseWillBeUsed: async ({ cachedResponse }) =>
    cachedResponse && cachedResponse.headers.get(USER_HEADER) === (await currentUser())
      ? cachedResponse
      : null,
};

workbox.routing.registerRoute(
  ({ url }) => url.origin === self.location.origin && FINGERPRINTED.test(url.pathname),
  new workbox.strategies.CacheFirst({
    cacheName: STATIC_CACHE,
    plugins: [new workbox.expiration.ExpirationPlugin({ maxEntries: 60 })],
  }),
);

workbox.routing.registerRoute(
  ({ url, request }) =>
    request.method === "GET" &&
    url.origin === self.location.origin &&
    url.pathname.startsWith(SCOPE) &&
    !NOT_CACHED.includes(url.pathname),
  new workbox.strategies.NetworkFirst({
    cacheName: PAGE_CACHE,
    // A market hall's signal that hangs is no better than none.
    networkTimeoutSeconds: 8,
    plugins: [filedByUser],
  }),
);

workbox.routing.setCatchHandler(async ({ request }) => {
  if (request.destination !== "document") return Response.error();
  return (await caches.match(OFFLINE_URL, { cacheName: SHELL_CACHE })) || Response.error();
});

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll([new Request(OFFLINE_URL, { credentials: "omit" }), ...SHELL]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((name) => name.startsWith("pasar-shell-") && name !== SHELL_CACHE)
            .map((name) => caches.delete(name)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

async function forgetUser() {
  user = null;
  await idbKeyval.clear(state);
  await caches.delete(PAGE_CACHE);
}

async function sendOutbox() {
  const key = await currentUser();
  if (!key) return;
  const result = await PasarOutbox.send(key);
  const pages = await self.clients.matchAll({ type: "window" });
  pages.forEach((page) => page.postMessage({ type: "outbox" }));
  // Rejecting asks the browser to try this sync again later.
  if (result.stopped) throw new Error("the outbox could not be sent yet");
}

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "logout") event.waitUntil(forgetUser());
});

self.addEventListener("sync", (event) => {
  if (event.tag === PasarOutbox.SYNC_TAG) event.waitUntil(sendOutbox());
});
