// ML speed benchmark, browser side: the release dist/ served on loopback, Debian's Chromium
// (headless, via playwright-core), and the app's own Web Worker (the engine compiled to wasm32,
// as shipped) given the `bench-ml` job — the same `flowbook::ml::bench` cases the native bench
// runs. The page is a bare one on the app's origin, so this worker is the only one (it holds the
// store's lock as the app's would).
//   node benches/ml_browser.mjs DIST_DIR RESULTS_JSON   (DIST_DIR: a `trunk build --release` output)
import { start, BASE } from '../tests/browser/harness.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [distArg, out] = process.argv.slice(2);
if (!out) throw new Error('usage: node benches/ml_browser.mjs DIST_DIR RESULTS_JSON');

const env = await start({ dist: path.resolve(ROOT, distArg) });
try {
  const { page, problems } = env;
  await page.goto(env.url + 'flowbook-worker_loader.js');
  const result = await page.evaluate(async (base) => {
    const worker = new Worker(base + 'flowbook-worker_loader.js');
    const ua = navigator.userAgent;
    return await new Promise((resolve, reject) => {
      worker.onerror = (e) => reject(new Error('worker error: ' + e.message));
      worker.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        if (msg.status && msg.status.state === 'ready') {
          worker.postMessage(JSON.stringify({ id: 'bench', job: 'bench-ml', request: {} }));
        } else if (msg.status && msg.status.state === 'failed') {
          reject(new Error('worker failed: ' + JSON.stringify(msg.status)));
        } else if (msg.id === 'bench') {
          if (msg.ok) resolve({ ...msg.ok, user_agent: ua });
          else reject(new Error('bench-ml: ' + JSON.stringify(msg.error)));
        }
      };
    });
  }, BASE);
  // The bare page's own misses (its favicon) are not the engine's: only the worker's errors count.
  const fromWorker = problems.filter((p) => p.startsWith('worker error'));
  if (fromWorker.length) throw new Error(fromWorker.join('; '));
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
} finally {
  await env.close();
}
