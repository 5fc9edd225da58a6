// The runs table over more runs than one window holds: the worker answers the count and the rows
// in view, sorted and filtered in SQL; scrolling far down asks for the rows there, and only the
// rows in view are in the DOM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, SCREENSHOTS } from './harness.mjs';

const RUNS = 300;
let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

/** An MLflow file store of RUNS runs, as MLflow writes it: run-i starts i seconds after run-0 and
 * logs score = (i * 7) % RUNS, so the score order differs from the creation order. */
function writeMlruns(root) {
  const t0 = 1_700_000_000_000;
  const put = (p, text) => { fs.mkdirSync(path.dirname(p), { recursive: true }); fs.writeFileSync(p, text); };
  const exp = path.join(root, 'mlruns', '1');
  put(path.join(exp, 'meta.yaml'), `artifact_location: file://${exp}\ncreation_time: ${t0}\nexperiment_id: '1'\n`
    + `last_update_time: ${t0}\nlifecycle_stage: active\nname: many-runs\n`);
  for (let i = 0; i < RUNS; i++) {
    const id = i.toString(16).padStart(32, '0');
    const dir = path.join(exp, id);
    put(path.join(dir, 'meta.yaml'), `artifact_uri: file://${dir}/artifacts\nend_time: ${t0 + i * 1000 + 500}\n`
      + `entry_point_name: ''\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: '${id}'\nrun_name: run-${i}\n`
      + `run_uuid: '${id}'\nsource_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: ${t0 + i * 1000}\n`
      + `status: 3\ntags: []\nuser_id: tester\n`);
    put(path.join(dir, 'metrics', 'score'), `${t0 + i * 1000} ${(i * 7) % RUNS} 0\n`);
    put(path.join(dir, 'params', 'index'), String(i));
    put(path.join(dir, 'tags', 'mlflow.runName'), `run-${i}`);
  }
  fs.mkdirSync(path.join(exp, '..', '.trash'), { recursive: true });
  return path.join(root, 'mlruns');
}

const rowName = (page, index) => page.locator(`table.runs tbody tr[aria-rowindex="${index}"] a`);
const drawnRows = (page) => page.locator('table.runs tbody tr[aria-rowindex]').count();

test('a table of 300 runs scrolls, sorts and filters through windows of rows', async () => {
  const { page } = env;
  const mlruns = writeMlruns(fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-many-')));
  await page.goto(env.url + '#/transfer');
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await page.getByLabel('Choose a folder').setInputFiles(mlruns);
  const outcome = page.locator('#import-heading ~ [role=status], #import-heading ~ [role=alert]');
  await outcome.waitFor({ timeout: 120000 });
  assert.match(await outcome.innerText(), new RegExp(`^Imported 1 experiments?, ${RUNS} runs`));
  await page.goto(env.url + '#/experiments');
  await page.getByRole('link', { name: 'many-runs', exact: true }).click();
  await page.getByText(`${RUNS} runs`).waitFor();
  // Newest first: run-299 on top; the table is sized for every run but draws only those in view.
  assert.equal(await rowName(page, 2).innerText(), `run-${RUNS - 1}`);
  assert.equal(await page.locator('table.runs').getAttribute('aria-rowcount'), String(RUNS + 1));
  assert.ok(await drawnRows(page) < 40, `only the rows in view are drawn, not ${await drawnRows(page)}`);

  // Far down (past the first window): the rows there arrive from the worker.
  const region = page.getByRole('region', { name: 'Runs', exact: true });
  await region.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await rowName(page, RUNS + 1).waitFor();
  assert.equal(await rowName(page, RUNS + 1).innerText(), 'run-0', 'the oldest run is last');
  await region.evaluate((el) => { el.scrollTop = 150 * 34; });
  await page.waitForFunction(() => document.querySelector('table.runs tbody tr[aria-rowindex="152"] a')?.textContent === 'run-149');
  await page.screenshot({ path: path.join(SCREENSHOTS, 'runs-table-scrolled.png') });
  assert.ok(await drawnRows(page) < 40);

  // Sorted by the metric in SQL: ascending score 0, 1, 2 … whatever the window.
  await region.evaluate((el) => { el.scrollTop = 0; });
  await page.getByRole('button', { name: /^score/ }).click();
  await page.getByRole('button', { name: /^score ▼/ }).click();
  await page.waitForFunction(() => document.querySelector('table.runs thead')?.textContent.includes('score ▲'));
  // score = (i * 7) % 300 is 0 for run-0, 1 for run-43 (43 * 7 = 301), 2 for run-86.
  await page.waitForFunction(() => document.querySelector('table.runs tbody tr[aria-rowindex="2"] a')?.textContent === 'run-0');
  assert.equal(await rowName(page, 3).innerText(), 'run-43');
  assert.equal(await rowName(page, 4).innerText(), 'run-86');

  // Filtered in SQL: the count and the rows follow; a bad filter shows the engine's error.
  await page.getByLabel('Filter').fill('metrics.score >= 250');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('50 runs', { exact: true }).waitFor();
  assert.equal(await page.locator('table.runs').getAttribute('aria-rowcount'), '51');
  await page.getByLabel('Filter').fill('metrics.score >=');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('.filter-error').waitFor();
  assert.match(await page.locator('.filter-error').innerText(), /Invalid|expected|value/i);
  assert.deepEqual(env.problems, []);
});
