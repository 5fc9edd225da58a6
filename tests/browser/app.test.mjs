import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, foreignRequests, SCREENSHOTS, BASE } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

test('the app loads under a sub-path, shows Flowbook, with no errors and no foreign requests', async () => {
  const { page } = env;
  await page.goto(env.url);
  await page.getByRole('heading', { name: 'Flowbook', level: 1 }).waitFor({ timeout: 30000 });
  assert.equal(await page.title(), 'Flowbook');
  // The engine runs in the page: MLflow's Default experiment is listed.
  await page.getByRole('cell', { name: 'Default' }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'home.png') });
  assert.deepEqual(env.problems, []);
  assert.ok(env.requests.length >= 3, `expected the page, its script and its wasm, saw ${env.requests}`);
  assert.ok(env.requests.every((u) => !u.startsWith('http') || new URL(u).pathname.startsWith(BASE)),
    `every asset is fetched under ${BASE}: ${env.requests}`);
  assert.deepEqual(foreignRequests(env), []);
});

test('creating an experiment goes through the engine; a bad name shows its error', async () => {
  const { page } = env;
  await page.getByLabel('New experiment').fill('nyc-taxi-experiment');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('cell', { name: 'nyc-taxi-experiment' }).waitFor();
  await page.getByLabel('New experiment').fill('nyc-taxi-experiment');
  await page.getByRole('button', { name: 'Create' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /RESOURCE_ALREADY_EXISTS: Experiment\(name=nyc-taxi-experiment\) already exists/);
  await page.getByLabel('New experiment').fill('');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByText("Missing value for required parameter 'name'").waitFor();
  assert.deepEqual(env.problems, []);
  assert.deepEqual(foreignRequests(env), []);
});

test('an experiment is renamed, tagged and untagged, deleted and restored', async () => {
  const { page } = env;
  await page.goto(env.url + '#/experiments');
  await page.getByLabel('New experiment').fill('to-rename');
  await page.getByRole('button', { name: 'Create' }).click();
  const row = page.getByRole('row', { name: /to-rename/ });
  await row.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('New name').fill('renamed-experiment');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('link', { name: 'renamed-experiment' }).click();
  await page.getByRole('heading', { name: 'renamed-experiment — runs' }).waitFor();
  await page.getByText(/^Experiment tags \(0\)/).click();
  await page.getByLabel('Tag', { exact: true }).fill('team');
  await page.getByLabel('Value').fill('<b>course</b>');
  await page.getByRole('button', { name: 'Set tag' }).click();
  await page.getByText(/^Experiment tags \(1\)/).waitFor();
  await page.getByRole('cell', { name: '<b>course</b>' }).waitFor();
  await page.getByRole('button', { name: 'Delete tag team' }).click();
  await page.getByText(/^Experiment tags \(0\)/).waitFor();
  await page.goto(env.url + '#/experiments');
  const renamed = page.getByRole('row', { name: /renamed-experiment/ });
  await renamed.getByRole('button', { name: 'Delete' }).click();
  await page.getByLabel('Show deleted').check();
  await page.getByRole('row', { name: /renamed-experiment.*deleted/ }).getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('row', { name: /renamed-experiment.*active/ }).waitFor();
  assert.deepEqual(env.problems, []);
});
