// Flowbook's service worker (generated into dist/ by scripts/postbuild.mjs): precaches the whole
// build so the page opens offline, and answers from the cache first. Same-origin only.
const CACHE = 'flowbook-__FLOWBOOK_VERSION__';
const FILES = __FLOWBOOK_FILES__;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('flowbook-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(event.request, { ignoreSearch: true });
      if (hit) return hit;
      try {
        return await fetch(event.request);
      } catch (e) {
        // Offline deep link into the app: serve the app shell.
        if (event.request.mode === 'navigate') return (await cache.match('./')) || Response.error();
        throw e;
      }
    }),
  );
});
