// Every lesson, start to end, in the browser: each cell's Run performs its step in the engine's
// worker, and what it did is checked; progress survives a reload and a lesson can be reset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, foreignRequests, SCREENSHOTS } from './harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LESSONS = path.join(ROOT, 'src/lessons');

// The lessons as the app shows them: slug from the file name, the cell titles from `## ` headings.
const lessons = fs.readdirSync(LESSONS).filter((f) => f.endsWith('.md')).sort().map((file) => {
  const text = fs.readFileSync(path.join(LESSONS, file), 'utf8');
  const cells = text.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3).trim());
  return { slug: file.replace(/^\d+-/, '').replace(/\.md$/, ''), title: text.split('\n')[0].slice(2).trim(), cells };
});

let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

// What each lesson's cells must have shown, beyond every cell finishing without an error.
const checks = {
  'why-track': async (page) => {
    const table = page.locator('table', { hasText: 'params.alpha' }).first();
    await table.getByRole('cell', { name: '0.1', exact: true }).waitFor();
    await table.getByRole('cell', { name: '0.01', exact: true }).waitFor();
  },
  'where-mlflow-keeps-things': async (page) => {
    await page.locator('pre.output', { hasText: /\/params\/alpha\s+← 0\.1/ }).first().waitFor();
    await page.getByRole('cell', { name: 'latest_metrics', exact: true }).first().waitFor();
  },
  tuning: async (page) => {
    await page.getByText(/trials as nested runs under one parent run/).first().waitFor();
  },
  autolog: async (page) => {
    await page.getByText(/Run '.*' finished: val_root_mean_squared_error = \d/).first().waitFor();
  },
  'artifacts-and-models': async (page) => {
    await page.locator('pre.output', { hasText: 'flavors:' }).first().waitFor();
    const predictions = page.locator('table', { hasText: 'prediction' }).first();
    assert.equal(await predictions.locator('tbody tr').count(), 5);
  },
  'custom-models': async (page) => {
    await page.locator('pre.output', { hasText: '"predictions"' }).first().waitFor();
  },
  registry: async (page) => {
    await page.getByRole('cell', { name: 'Production' }).first().waitFor();
    await page.getByRole('cell', { name: /@Champion/ }).first().waitFor();
    await page.getByRole('cell', { name: /@Fastest/ }).first().waitFor();
  },
  'feature-lookup': async (page) => {
    await page.locator('pre.output', { hasText: "feature table 'taxi_zone_features' has no row with PULocationID = 999" }).first().waitFor();
  },
  monitoring: async (page) => {
    await page.getByText(/That is data drift\./).first().waitFor();
    await page.getByText(/That is concept drift\./).first().waitFor();
    await page.getByRole('img', { name: 'residual, reference against current' }).waitFor();
  },
  'take-it-to-mlflow': async (page) => {
    const link = page.getByRole('link', { name: 'Save mlflow-db.zip' });
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const file = await download.path();
    assert.ok(fs.statSync(file).size > 10000, 'the bundle has content');
  },
};

async function runLesson(page, lesson) {
  await page.goto(env.url + `#/lessons/${lesson.slug}`);
  await page.getByRole('heading', { name: lesson.title, level: 2 }).waitFor({ timeout: 30000 });
  const cells = page.locator('article.cell');
  await cells.first().waitFor(); // cells appear once the learner's progress is read from the store
  assert.equal(await cells.count(), lesson.cells.length, `${lesson.slug}: every cell is shown`);
  for (let i = 0; i < lesson.cells.length; i++) {
    const cell = cells.nth(i);
    await cell.getByRole('heading', { name: lesson.cells[i] }).waitFor();
    assert.ok((await cell.locator('pre code.python').innerText()).trim().length > 0, `${lesson.cells[i]} shows its Python`);
    await cell.getByRole('button', { name: /Run this step in Flowbook|Mark as read/ }).click();
    await cell.locator('.outcome, [role=alert]').first().waitFor({ timeout: 180000 });
    const alert = cell.getByRole('alert');
    if (await alert.count()) assert.fail(`${lesson.slug} / ${lesson.cells[i]}: ${await alert.innerText()}`);
    await cell.getByLabel('done').waitFor();
  }
}

test('the lessons are listed, each with its progress', async () => {
  const { page } = env;
  await page.goto(env.url + '#/lessons');
  assert.ok(lessons.length >= 10, 'at least ten lessons');
  for (const l of lessons) await page.getByRole('link', { name: l.title }).waitFor();
  assert.equal(await page.getByText(/ · 0 of \d+ cells done/).count(), lessons.length);
});

for (const lesson of lessons) {
  test(`lesson ${lesson.title} runs from start to end`, async () => {
    const { page } = env;
    await runLesson(page, lesson);
    await checks[lesson.slug]?.(page);
    await page.screenshot({ path: path.join(SCREENSHOTS, `lesson-${lesson.slug}.png`), fullPage: true });
    assert.deepEqual(env.problems, []);
  });
}

test('progress survives a reload, and a lesson can be reset', async () => {
  const { page } = env;
  const first = lessons[0];
  await page.goto(env.url + '#/lessons');
  await page.reload();
  await page.getByText(`${first.cells.length} of ${first.cells.length} cells done`).first().waitFor({ timeout: 30000 });
  await page.goto(env.url + `#/lessons/${first.slug}`);
  await page.getByLabel('done').first().waitFor();
  assert.equal(await page.getByLabel('done').count(), first.cells.length);
  await page.getByRole('button', { name: 'Reset this lesson' }).click();
  await page.locator('article.cell').first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[aria-label=done]').length === 0);
  // A cell links to the view where its result lives.
  await runLesson(page, first);
  await page.getByRole('link', { name: 'See the runs table' }).first().click();
  await page.getByRole('heading', { name: /— runs$/ }).waitFor();
  assert.deepEqual(env.problems, []);
  assert.deepEqual(foreignRequests(env), []);
});
