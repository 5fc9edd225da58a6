// The store lives in a Web Worker on OPFS: it survives a reload, and two tabs never share it
// silently — the second is told, and can take it over.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, foreignRequests, SCREENSHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

async function createExperiment(page, name) {
  await page.getByLabel('New experiment').fill(name);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('cell', { name, exact: true }).waitFor();
}

test('experiments survive a reload (OPFS)', async () => {
  const { page } = env;
  await page.goto(env.url);
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await createExperiment(page, 'kept-after-reload');
  await page.reload();
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await page.getByRole('cell', { name: 'kept-after-reload', exact: true }).waitFor();
  assert.deepEqual(env.problems, []);
  assert.deepEqual(foreignRequests(env), []);
});

test('a second tab is told the store is held, and can take it over', async () => {
  const first = env.page;
  const second = await env.newTab();
  await second.goto(env.url);
  const held = second.getByText('Flowbook is open in another tab');
  await held.waitFor({ timeout: 30000 });
  await second.screenshot({ path: path.join(SCREENSHOTS, 'second-tab.png') });
  await second.getByRole('button', { name: 'Use the store in this tab' }).click();
  await second.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await second.getByRole('cell', { name: 'kept-after-reload', exact: true }).waitFor();
  await first.getByText('Another tab took over the Flowbook store.').waitFor({ timeout: 10000 });
  // The tab that took over writes, and its writes are durable.
  await createExperiment(second, 'written-by-second-tab');
  await second.reload();
  await second.getByRole('cell', { name: 'written-by-second-tab', exact: true }).waitFor({ timeout: 30000 });
  assert.deepEqual(env.problems, []);
  assert.deepEqual(foreignRequests(env), []);
});

test('without OPFS the store lives in memory, and the page says so', async () => {
  // A browser without OPFS: the worker's StorageManager has no getDirectory (as where the
  // Origin Private File System is missing or switched off). The app must still work, in memory.
  const context = await env.context.browser().newContext({ viewport: { width: 1024, height: 768 }, serviceWorkers: 'block' });
  const problems = [];
  await context.route(/flowbook-worker_loader\.js$/, async (route) => {
    const response = await route.fetch();
    const body = 'delete StorageManager.prototype.getDirectory;\n' + await response.text();
    await route.fulfill({ response, body });
  });
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(env.url);
    await page.getByText('In memory only').waitFor({ timeout: 30000 });
    await page.getByRole('status').getByText(/no OPFS storage: your work lives in memory and is lost on reload/).waitFor();
    await createExperiment(page, 'held-in-memory');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'in-memory.png') });
    // Gone after a reload, as the notice said — and the notice is there again.
    await page.reload();
    await page.getByText('In memory only').waitFor({ timeout: 30000 });
    await page.getByRole('cell', { name: 'Default', exact: true }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'held-in-memory', exact: true }).count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
