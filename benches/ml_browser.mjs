// ML speed benchmark, browser side: the release dist/ served on loopback, Debian's Chromium
// (headless, via playwright-core), and the app's own Web Worker (the engine compiled to wasm32,
// as shipped) given the `bench-ml` job — the same `flowbook::ml::bench` cases the native bench
// runs. The page is a bare one on the app's origin, so this worker is the only one (it holds the
// store's lock as the app's would).
//   node benches/ml_browser.mjs DIST_DIR RESULTS_JSON   (DIST_DIR: a `trunk build --release` output)
import { chromium } from 'playwright-core';
import { serveStatic } from '../scripts/static-server.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASE = '/flowbook/';
const [distArg, out] = process.argv.slice(2);
if (!out) throw new Error('usage: node benches/ml_browser.mjs DIST_DIR RESULTS_JSON');
const dist = path.resolve(ROOT, distArg);
if (!fs.existsSync(path.join(dist, 'flowbook-worker_loader.js'))) throw new Error(`${dist} holds no build: run \`trunk build --release\` first`);

const server = await serveStatic(dist, { port: 0, base: BASE });
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const page = await browser.newPage();
  const problems = [];
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); }));
  await page.goto(origin + BASE + 'flowbook-worker_loader.js');
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
  if (problems.length) throw new Error('worker errors: ' + problems.join('; '));
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
} finally {
  await browser.close();
  server.close();
}
