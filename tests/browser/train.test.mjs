// Training in the browser (the engine compiled to wasm, in its worker): the course's two Lasso runs
// with autolog, a small TPE search as nested runs, a cancelled search, and a bad request refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { start, foreignRequests, SCREENSHOTS } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

async function train(page, { model = 'Lasso', params, runName = '', search = 'none', trials = '6' }) {
  await page.getByLabel('Model', { exact: true }).selectOption(model);
  await page.getByLabel('Parameters').fill(params);
  await page.getByLabel('Run name').fill(runName);
  await page.getByLabel('Hyperparameter search').selectOption(search);
  if (search !== 'none') await page.getByLabel('Trials').fill(trials);
  await page.getByRole('button', { name: 'Train' }).click();
}

test('two Lasso runs train in the browser and land in the experiment with autolog', async () => {
  const { page } = env;
  await page.goto(env.url + '#/train');
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  for (const alpha of ['0.1', '0.01']) {
    await train(page, { params: `alpha=${alpha}`, runName: `lasso-${alpha}` });
    await page.getByText(/Run finished: .*val_root_mean_squared_error = \d/).waitFor({ timeout: 60000 });
  }
  await page.screenshot({ path: path.join(SCREENSHOTS, 'train.png'), fullPage: true });
  await page.getByRole('link', { name: 'Open the run' }).click();
  await page.getByRole('heading', { name: 'lasso-0.01', level: 2 }).waitFor();
  await page.getByRole('rowheader', { name: 'max_iter' }).waitFor();
  await page.getByRole('button', { name: /plots/ }).waitFor();
  assert.deepEqual(env.problems, []);
});

test('a TPE search runs its trials as nested runs and names the best one', async () => {
  const { page } = env;
  await page.goto(env.url + '#/train');
  await train(page, { params: '', runName: 'tpe-search', search: 'tpe', trials: '6' });
  await page.getByText(/Search finished: 6 trials; best val_root_mean_squared_error = \d/).waitFor({ timeout: 120000 });
  await page.getByRole('link', { name: 'all runs' }).click();
  await page.getByRole('link', { name: 'tpe-search' }).waitFor();
  assert.deepEqual(env.problems, []);
});

test('a long search can be cancelled, and a bad request is refused with its reason', async () => {
  const { page } = env;
  await page.goto(env.url + '#/train');
  await train(page, { params: '', runName: 'cancelled', search: 'random', trials: '300' });
  await page.locator('progress[aria-label="Training"]').waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByText(/Search finished: \d+ trials \(cancelled\)/).waitFor({ timeout: 60000 });
  await train(page, { params: 'alpha=lots', runName: 'bad' });
  await page.getByRole('alert').getByText('parameter alpha=lots is not a number').waitFor();
  assert.deepEqual(env.problems, []);
  assert.deepEqual(foreignRequests(env), []);
});

test('monitoring a champion shows data drift and concept drift', async () => {
  const { page } = env;
  await page.goto(env.url + '#/train');
  await page.getByLabel('Data set').selectOption('linear');
  await page.getByLabel('Model', { exact: true }).selectOption('LinearRegression');
  await page.getByLabel('Parameters').fill('');
  await page.getByLabel('Run name').fill('linear');
  await page.getByLabel('Hyperparameter search').selectOption('none');
  await page.getByRole('button', { name: 'Train' }).click();
  await page.getByText(/Run finished/).waitFor({ timeout: 60000 });
  await page.getByRole('link', { name: 'Open the run' }).click();
  await page.getByRole('button', { name: /plots/ }).waitFor();
  await page.getByLabel('Register as').fill('linear-model');
  await page.getByRole('button', { name: 'Register model' }).click();
  await page.getByText('Registered linear-model version 1').waitFor();
  await page.goto(env.url + '#/models/linear-model');
  await page.getByLabel('Alias').fill('champion');
  await page.locator('#alias-version').fill('1');
  await page.getByRole('button', { name: 'Set alias' }).click();
  await page.getByRole('cell', { name: '@champion', exact: true }).waitFor();
  await page.goto(env.url + '#/monitor');
  await page.getByLabel('Current data').selectOption('linear-data-drift');
  await page.getByRole('button', { name: 'Evaluate' }).click();
  await page.getByRole('row', { name: /^x .* yes$/ }).waitFor({ timeout: 30000 });
  await page.getByLabel('Current data').selectOption('linear-concept-drift');
  await page.getByRole('button', { name: 'Evaluate' }).click();
  await page.getByText(/Error shift \(current − reference\): \+\d+\.\d+ — the model's error moved/).waitFor({ timeout: 30000 });
  // The charts were drawn: residuals and each feature's distributions, reference against current.
  for (const name of ['Residuals, reference against current', 'Distribution of x, reference against current']) {
    const chart = page.getByRole('img', { name });
    await chart.waitFor();
    const inked = await chart.evaluate((canvas) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] < 200 || data[i + 2] < 200) n++;
      return n;
    });
    assert.ok(inked > 2000, `${name}: ${inked} inked pixels`);
  }
  await page.screenshot({ path: path.join(SCREENSHOTS, 'monitor.png'), fullPage: true });
  assert.deepEqual(env.problems, []);
});

test("the learner's own CSV trains a run, and a ragged CSV is refused with the line it names", async () => {
  const { page } = env;
  await page.goto(env.url + '#/train');
  await page.getByLabel('Data set').selectOption('your CSV file…');
  let rows = 'zone,km,minutes\n';
  for (let i = 0; i < 80; i++) rows += `${['a', 'b', 'c'][i % 3]},${(1 + (i % 9) * 0.7).toFixed(1)},${(4 + (i % 9) * 2.1 + (i % 3)).toFixed(2)}\n`;
  await page.getByLabel(/CSV file/).setInputFiles({ name: 'my-trips.csv', mimeType: 'text/csv', buffer: Buffer.from(rows) });
  await page.getByText('my-trips.csv: 80 rows, 3 columns').waitFor();
  assert.equal(await page.getByLabel('Target column').inputValue(), 'minutes');
  assert.ok(await page.getByRole('checkbox', { name: 'zone' }).isChecked());
  await page.getByLabel('Model', { exact: true }).selectOption('LinearRegression');
  await page.getByLabel('Parameters').fill('');
  await page.getByLabel('Run name').fill('my-csv-run');
  await page.getByLabel('Hyperparameter search').selectOption('none');
  await page.getByRole('button', { name: 'Train' }).click();
  await page.getByText(/Run finished: .*val_r2_score = (0\.9|1\.0)/).waitFor({ timeout: 60000 });
  await page.getByLabel(/CSV file/).setInputFiles({ name: 'ragged.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n3\n') });
  await page.getByRole('alert').getByText('ragged.csv: line 3 has 1 fields, the header has 2').waitFor();
  assert.deepEqual(env.problems, []);
});
