// A bundle real MLflow wrote, opened in the browser, then browsed as MLflow's UI would show it:
// the runs table with a filter (and its error inline), a run with its artifacts, a comparison, the
// registry — and the store exported again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start, foreignRequests, SCREENSHOTS } from './harness.mjs';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const FIXTURE = path.join(FIXTURES, 'mlflow3-sqlite-course.zip');
const MLFLOW2 = path.join(FIXTURES, 'mlflow2-filestore-course.zip');
let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

test('an mlflow.db bundle imports, and a bad file is refused by name', async () => {
  const { page } = env;
  await page.goto(env.url + '#/transfer');
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await page.getByLabel('Choose a zip').setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip') });
  await page.getByText(/notes\.zip was not imported \(nothing changed\): not a readable zip file/).waitFor();
  await page.getByLabel('Choose a zip').setInputFiles(FIXTURE);
  await page.getByText(/Imported 3 experiments, 10 runs, 1 registered models, 2 model versions, 24 artifacts from mlflow3-sqlite-course\.zip/)
    .waitFor({ timeout: 30000 });
  assert.deepEqual(env.problems, []);
});

test('the runs table filters with MLflow grammar and shows its errors inline', async () => {
  const { page } = env;
  await page.goto(env.url + '#/experiments');
  await page.getByRole('link', { name: 'nyc-taxi-experiment' }).click();
  await page.getByText('9 runs').waitFor();
  await page.getByLabel('Filter').fill("params.alpha = '0.1'");
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('1 runs').waitFor();
  await page.getByRole('link', { name: 'lasso-0.1' }).waitFor();
  await page.getByLabel('Filter').fill('metrics.rmse <<< 3');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('alert').getByText("Invalid comparator '<<<'").waitFor();
  await page.getByLabel('Filter').fill('');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('9 runs').waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'runs.png'), fullPage: true });
  assert.deepEqual(env.problems, []);
});

test('a run shows params, metrics, its note as text, and previews artifacts', async () => {
  const { page } = env;
  await page.getByRole('link', { name: 'lasso-0.1' }).click();
  await page.getByRole('heading', { name: 'lasso-0.1', level: 2 }).waitFor();
  await page.getByRole('rowheader', { name: 'alpha' }).waitFor();
  await page.getByRole('button', { name: /preprocessor/ }).click();
  await page.getByRole('button', { name: /preprocessor\.b/ }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'run.png'), fullPage: true });
  assert.deepEqual(env.problems, []);
});

test('the registry lists the model, its versions, stages and aliases', async () => {
  const { page } = env;
  await page.goto(env.url + '#/models');
  await page.getByRole('link', { name: 'nyc-taxi-regressor' }).click();
  await page.getByRole('cell', { name: '@champion', exact: true }).waitFor();
  const stages = await page.locator('table.grid tbody tr td:nth-child(2)').allInnerTexts();
  assert.deepEqual([...stages].sort(), ['Production', 'Staging']);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'model.png'), fullPage: true });
  assert.deepEqual(env.problems, []);
});

test('two runs compare side by side with charts', async () => {
  const { page } = env;
  await page.goto(env.url + '#/experiments');
  await page.getByRole('link', { name: 'nyc-taxi-experiment' }).click();
  await page.getByLabel('Select lasso-0.1').check();
  await page.getByLabel('Select lasso-0.01').check();
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.getByRole('heading', { name: 'Compare 2 runs' }).waitFor();
  await page.getByRole('img', { name: /Parallel coordinates/ }).waitFor();
  await page.getByRole('rowheader', { name: 'param alpha' }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'compare.png'), fullPage: true });
  assert.deepEqual(env.problems, []);
  assert.deepEqual(foreignRequests(env), []);
});

test('an mlruns folder from MLflow 2.x merges in, and every clash is listed', async () => {
  const { page } = env;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-mlruns-'));
  execFileSync('python3', ['-m', 'zipfile', '-e', MLFLOW2, dir]);
  fs.rmSync(path.join(dir, 'expected.json'));
  await page.goto(env.url + '#/transfer');
  await page.getByLabel('Choose a folder').setInputFiles(path.join(dir, 'mlruns'));
  const outcome = page.locator('#import-heading ~ [role=status], #import-heading ~ [role=alert]');
  await outcome.waitFor({ timeout: 60000 });
  console.log('folder import said:', await outcome.innerText());
  await page.getByText(/Imported 0 experiments, 10 runs, 0 registered models, 2 model versions, \d+ artifacts from mlruns\./)
    .waitFor({ timeout: 60000 });
  await page.getByText("experiment 'nyc-taxi-experiment' already exists here").waitFor();
  await page.getByText(/registered model 'nyc-taxi-regressor' already exists here/).waitFor();
  await page.getByText(/alias 'champion' of 'nyc-taxi-regressor' already points to version 1 here/).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOTS, 'import.png'), fullPage: true });
  fs.rmSync(dir, { recursive: true });
  assert.deepEqual(env.problems, []);
});

test('the store exports in both formats, as downloads', async () => {
  const { page } = env;
  await page.goto(env.url + '#/transfer');
  for (const [button, name] of [['Export as mlruns', 'flowbook-mlruns.zip'], ['Export as mlflow.db', 'flowbook-mlflow-db.zip']]) {
    await page.getByRole('button', { name: button }).click();
    const link = page.getByRole('link', { name: new RegExp(`Save ${name.replace('.', '\\.')}`) });
    await link.waitFor({ timeout: 60000 });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), name);
    const bytes = fs.readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 2).toString(), 'PK', `${name} is a zip`);
  }
  assert.deepEqual(env.problems, []);
});
