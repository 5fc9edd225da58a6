// Shared set-up of the browser tests: the release dist/ served under a sub-path on loopback,
// Debian's Chromium driven by playwright-core, and a record of every request and console error.
import { chromium } from 'playwright-core';
import { serveStatic } from '../../scripts/static-server.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BASE = '/course/flowbook/';
export const SCREENSHOTS = path.join(ROOT, 'tests/browser/screenshots');

/** Serve a release build (`dist/` unless told) and open a page in a fresh browser profile. */
export async function start({ dist = path.join(ROOT, 'dist') } = {}) {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist} holds no build: run \`trunk build --release\` first`);
  const server = await serveStatic(dist, { port: 0, base: BASE });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  context.on('request', (r) => requests.push(r.url()));
  const watch = (p) => {
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    // The engine runs in a worker: its errors and panics count too.
    p.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') problems.push(`worker error: ${m.text()}`); }));
  };
  watch(page);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    page, context, origin, url: origin + BASE, requests, problems,
    /** A second tab in the same browser profile (same origin storage). */
    async newTab() { const p = await context.newPage(); watch(p); return p; },
    async close() { await browser.close(); server.close(); },
  };
}

/** Every request the page made stayed on its own origin (data:/blob: URLs are in-page). */
export function foreignRequests(env) {
  return env.requests.filter((u) => !(u.startsWith(env.origin + '/') || u.startsWith('data:') || u.startsWith('blob:')));
}
