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
