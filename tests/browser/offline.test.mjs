// Offline & static: a CSP is in force, and once visited the app opens with no network at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, foreignRequests } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

test('the page carries a strict Content-Security-Policy and violates none of it', async () => {
  const { page } = env;
  await page.goto(env.url);
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  const scriptSrc = csp.split(';').find((d) => d.trim().startsWith('script-src'));
  assert.doesNotMatch(scriptSrc, /'unsafe-inline'|'unsafe-eval'/);
  // An injected inline script must be refused by that policy.
  const ran = await page.evaluate(() => new Promise((resolve) => {
    window.__injected = false;
    document.addEventListener('securitypolicyviolation', () => resolve('blocked'), { once: true });
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true';
    document.body.appendChild(s);
    setTimeout(() => resolve(window.__injected ? 'ran' : 'blocked'), 500);
  }));
  assert.equal(ran, 'blocked');
  env.problems.splice(0, env.problems.length, ...env.problems.filter((p) => !p.includes('Content Security Policy')));
  assert.deepEqual(env.problems, []);
});

test('after one visit the app opens offline from the service worker', async () => {
  const { page, context } = env;
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload(); // now controlled by the service worker
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), 'page is controlled');
  await context.setOffline(true);
  try {
    await page.reload();
    await page.getByRole('heading', { name: 'Flowbook', level: 1 }).waitFor({ timeout: 30000 });
    await page.getByRole('cell', { name: 'Default' }).waitFor({ timeout: 30000 });
  } finally {
    await context.setOffline(false);
  }
  assert.deepEqual(env.problems, []);
  assert.deepEqual(foreignRequests(env), []);
});
