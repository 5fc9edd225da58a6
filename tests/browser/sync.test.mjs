// The Sync page against a real `mlflow server` 3.17.2 that allows the page's origin: a server the
// browser cannot reach is named with the flag that fixes CORS, a push hands over a whole imported
// bundle, a second push sends nothing new, and a pull brings the server's runs into this browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start, foreignRequests } from './harness.mjs';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/mlflow3-sqlite-course.zip');
const PYTHON = process.env.FLOWBOOK_PYTHON || path.join(os.homedir(), '.cache/flowbook/venv/bin/python');
let env, mlflow, work, serverUrl, nobodyUrl;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function api(endpoint, body) {
  const r = await fetch(`${serverUrl}/api/2.0/mlflow/${endpoint}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return r.json();
}

before(async () => {
  env = await start();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-sync-'));
  const port = await freePort();
  serverUrl = `http://127.0.0.1:${port}`;
  nobodyUrl = `http://127.0.0.1:${await freePort()}`;
  mlflow = spawn(path.join(path.dirname(PYTHON), 'mlflow'), ['server', '--backend-store-uri', `sqlite:///${work}/mlflow.db`,
    '--artifacts-destination', `${work}/mlartifacts`, '--host', '127.0.0.1', '--port', String(port), '--workers', '1',
    '--cors-allowed-origins', env.origin],
  { stdio: 'ignore', detached: true, env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' } });
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${serverUrl}/health`)).ok) break; } catch { /* not up yet */ }
    if (i > 300) throw new Error('mlflow server did not start');
    await new Promise((r) => setTimeout(r, 300));
  }
});

after(async () => {
  await env?.close();
  // `mlflow server` serves from a child process: end its whole process group.
  if (mlflow) try { process.kill(-mlflow.pid, 'SIGKILL'); } catch { /* already gone */ }
  fs.rmSync(work, { recursive: true, force: true });
});

test('push a bundle to a real MLflow server, push again, pull back', async () => {
  const { page } = env;
  await page.goto(env.url + '#/transfer');
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await page.getByLabel('Choose a zip').setInputFiles(FIXTURE);
  await page.getByText(/Imported 3 experiments, 10 runs/).waitFor({ timeout: 30000 });

  await page.goto(env.url + '#/sync');
  await page.getByText(`mlflow server --cors-allowed-origins ${env.origin}`).waitFor();
  await page.getByLabel('Tracking server URL').fill(nobodyUrl);
  await page.getByRole('button', { name: 'Push to the server' }).click();
  const refused = page.getByRole('alert');
  await refused.getByText(`the browser could not reach ${nobodyUrl}`, { exact: false }).waitFor({ timeout: 30000 });
  await refused.getByText(`--cors-allowed-origins ${env.origin}`, { exact: false }).waitFor();

  await page.getByLabel('Tracking server URL').fill(serverUrl);
  await page.getByRole('button', { name: 'Push to the server' }).click();
  await page.getByRole('status').getByText(`pushed 2 experiments, 10 runs, 3 logged models, 1 registered models, 2 model versions, 24 artifacts to ${serverUrl}`, { exact: false })
    .waitFor({ timeout: 120000 });
  const exp = await api('experiments/search', { max_results: 100, filter: "name = 'nyc-taxi-experiment'" });
  const id = exp.experiments[0].experiment_id;
  const runs = await api('runs/search', { experiment_ids: [id], run_view_type: 'ALL', max_results: 100 });
  assert.equal(runs.runs.length, 10);

  await page.getByRole('button', { name: 'Push to the server' }).click();
  await page.getByRole('status').getByText(/pushed 0 experiments, 0 runs, .*already there, left as they were: 3 experiments, 10 runs/)
    .waitFor({ timeout: 60000 });
  const again = await api('runs/search', { experiment_ids: [id], run_view_type: 'ALL', max_results: 100 });
  assert.equal(again.runs.length, 10, 'a second push duplicates nothing');

  // The server's copies have their own ids: pulled, they join the experiment of the same name here.
  await page.getByLabel('Experiment on the server').fill('nyc-taxi-experiment');
  await page.getByRole('button', { name: 'Pull into this browser' }).click();
  await page.getByRole('status').getByText(`pulled 0 experiments, 10 runs, 3 logged models, 0 registered models, 2 model versions, 24 artifacts from ${serverUrl}`, { exact: false })
    .waitFor({ timeout: 120000 });
  await page.goto(env.url + '#/experiments');
  await page.getByRole('link', { name: 'nyc-taxi-experiment' }).click();
  await page.getByText('18 runs').waitFor();

  // Requests left the origin only for the servers the user named.
  assert.deepEqual(foreignRequests(env).filter((u) => !u.startsWith(serverUrl + '/') && !u.startsWith(nobodyUrl + '/')), []);
  assert.deepEqual(env.problems.filter((p) => !p.includes('ERR_CONNECTION_REFUSED')), []);
});
