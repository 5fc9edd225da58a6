// The course flow end to end in the browser: train two Lasso runs (alpha 0.1 and 0.01), compare them, run
// a small TPE search, register the better model, set the alias `champion`, reload — everything is still
// there — export as mlruns and as mlflow.db, and real MLflow reads both exports with those runs and that alias.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start, foreignRequests, SCREENSHOTS } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXPERIMENT = 'course-flow';
const MODEL = 'nyc-taxi-regressor';
let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

async function train(page, params, runName, search = 'none', trials = '4') {
  await page.getByLabel('Experiment').fill(EXPERIMENT);
  await page.getByLabel('Model', { exact: true }).selectOption('Lasso');
  await page.getByLabel('Parameters').fill(params);
  await page.getByLabel('Run name').fill(runName);
  await page.getByLabel('Hyperparameter search').selectOption(search);
  if (search !== 'none') await page.getByLabel('Trials').fill(trials);
  await page.getByRole('button', { name: 'Train' }).click();
}

async function metricOfRun(page, runName) {
  await page.getByRole('link', { name: runName, exact: true }).click();
  await page.getByRole('heading', { name: runName, level: 2 }).waitFor();
  const row = await page.getByRole('row', { name: /^val_root_mean_squared_error/ }).first().innerText();
  const id = page.url().split('/runs/')[1];
  await page.goBack();
  return { id, rmse: parseFloat(row.split(/\s+/)[1]) };
}

test('the course flow, from training to real MLflow reading the exports', async () => {
  const { page } = env;
  await page.goto(env.url + '#/train');
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await train(page, 'alpha=0.1', 'lasso-0.1');
  await page.getByText(/Run finished/).waitFor({ timeout: 60000 });
  await train(page, 'alpha=0.01', 'lasso-0.01');
  await page.getByText(/Run finished: .*/).waitFor({ timeout: 60000 });
  await train(page, '', 'tpe-search', 'tpe', '4');
  await page.getByText(/Search finished: 4 trials/).waitFor({ timeout: 120000 });

  // Compare the two Lasso runs.
  await page.getByRole('link', { name: 'all runs' }).click();
  await page.getByLabel('Select lasso-0.1').check();
  await page.getByLabel('Select lasso-0.01').check();
  await page.getByRole('button', { name: 'Compare' }).click();
  await page.getByRole('heading', { name: 'Compare 2 runs' }).waitFor();
  await page.getByRole('rowheader', { name: 'param alpha' }).waitFor();
  await page.goBack();

  // Register the better one and make it the champion.
  const a = await metricOfRun(page, 'lasso-0.1');
  const b = await metricOfRun(page, 'lasso-0.01');
  const best = a.rmse <= b.rmse ? { ...a, name: 'lasso-0.1' } : { ...b, name: 'lasso-0.01' };
  await page.getByRole('link', { name: best.name, exact: true }).click();
  // The run page has settled (its artifacts listed) before the form is filled.
  await page.getByRole('button', { name: /plots/ }).waitFor();
  await page.getByLabel('Register as').fill(MODEL);
  await page.getByRole('button', { name: 'Register model' }).click();
  await page.getByText(`Registered ${MODEL} version 1`).waitFor();
  await page.goto(env.url + `#/models/${MODEL}`);
  await page.getByLabel('Alias').fill('champion');
  await page.locator('#alias-version').fill('1');
  await page.getByRole('button', { name: 'Set alias' }).click();
  await page.getByRole('cell', { name: '@champion', exact: true }).waitFor();

  // Reload: the store is on OPFS.
  await page.reload();
  await page.getByRole('cell', { name: '@champion', exact: true }).waitFor({ timeout: 30000 });
  await page.screenshot({ path: path.join(SCREENSHOTS, 'course-model.png'), fullPage: true });

  // Export both formats, and let real MLflow read them.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-course-'));
  const saved = {};
  await page.goto(env.url + '#/transfer');
  for (const [button, name] of [['Export as mlruns', 'flowbook-mlruns.zip'], ['Export as mlflow.db', 'flowbook-mlflow-db.zip']]) {
    await page.getByRole('button', { name: button }).click();
    const link = page.getByRole('link', { name: new RegExp(`Save ${name.replace('.', '\\.')}`) });
    await link.waitFor({ timeout: 60000 });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    saved[name] = path.join(dir, name);
    await download.saveAs(saved[name]);
  }
  const python = process.env.FLOWBOOK_PYTHON || path.join(os.homedir(), '.cache/flowbook/venv/bin/python');
  const out = execFileSync(python, [path.join(ROOT, 'tests/compat/check_course_export.py'),
    saved['flowbook-mlruns.zip'], saved['flowbook-mlflow-db.zip'], EXPERIMENT, MODEL, best.id], { encoding: 'utf8' });
  assert.match(out, /\.\/mlruns ok: .*champion is version 1/);
  assert.match(out, /sqlite:.* ok: .*champion is version 1/);
  fs.rmSync(dir, { recursive: true });
  assert.deepEqual(env.problems, []);
  assert.deepEqual(foreignRequests(env), []);
});
