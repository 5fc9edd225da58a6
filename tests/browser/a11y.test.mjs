// Accessibility: axe-core finds no serious or critical violation on the app's pages, in the light
// and the dark theme, at 1024 px wide; and the main controls are reachable by Tab and used by keys.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import AxeBuilder from '@axe-core/playwright';
import { start } from './harness.mjs';

let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

async function audit(page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const scheme of ['light', 'dark']) {
  test(`no serious accessibility violations (${scheme} theme)`, async () => {
    const { page } = env;
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(env.url);
    await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
    await page.getByRole('cell', { name: 'Default' }).waitFor();
    assert.deepEqual(await audit(page), []);
    await page.goto(env.url + '#/models');
    await page.getByRole('heading', { name: 'Registered models' }).waitFor();
    assert.deepEqual(await audit(page), []);
    await page.goto(env.url + '#/experiments/0');
    await page.getByRole('heading', { name: /runs/ }).waitFor();
    assert.deepEqual(await audit(page), []);
    await page.goto(env.url + '#/train');
    await page.getByRole('heading', { name: 'Train a model' }).waitFor();
    await page.getByLabel('Hyperparameter search').selectOption('tpe');
    await page.getByLabel('Search space (hyperopt expressions)').waitFor();
    assert.deepEqual(await audit(page), []);
    await page.goto(env.url + '#/monitor');
    await page.getByRole('heading', { name: 'Monitor a model' }).waitFor();
    assert.deepEqual(await audit(page), []);
    await page.goto(env.url + '#/transfer');
    await page.getByRole('heading', { name: 'Import' }).waitFor();
    assert.deepEqual(await audit(page), []);
    await page.goto(env.url + '#/lessons');
    await page.getByRole('heading', { name: 'Lessons' }).waitFor();
    assert.deepEqual(await audit(page), []);
    // A lesson with a cell run: code, outcome tables and links.
    await page.getByRole('link', { name: /^1\. / }).click();
    await page.locator('article.cell').first().getByRole('button').click();
    await page.locator('.outcome').first().waitFor({ timeout: 30000 });
    assert.deepEqual(await audit(page), []);
    await page.goto(env.url + '#/features');
    await page.getByRole('heading', { name: 'Feature tables' }).waitFor();
    assert.deepEqual(await audit(page), []);
  });
}

/** Presses Tab until the focused element is the one `matches` names (at most 60 presses). */
async function tabTo(page, what, matches) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const e = document.activeElement;
      return { tag: e?.tagName, text: e?.textContent?.trim(), id: e?.id, label: e?.labels?.[0]?.textContent?.trim() ?? null };
    });
    if (matches(focused)) return;
  }
  assert.fail(`Tab never reached ${what}`);
}

test('the views and their main controls are reachable from the keyboard alone', async () => {
  const { page } = env;
  await page.goto(env.url);
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await page.getByRole('cell', { name: 'Default' }).waitFor();
  // No mouse from here: Tab to a control, then Enter or typing.
  await tabTo(page, 'the Train link', (f) => f.tag === 'A' && f.text === 'Train');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Train a model' }).waitFor();
  await tabTo(page, 'the Experiments link', (f) => f.tag === 'A' && f.text === 'Experiments');
  await page.keyboard.press('Enter');
  await tabTo(page, 'the new-experiment box', (f) => f.id === 'new-experiment');
  await page.keyboard.type('typed-by-keyboard');
  await page.keyboard.press('Enter');
  await page.getByRole('cell', { name: 'typed-by-keyboard', exact: true }).waitFor();
  await tabTo(page, 'the new experiment', (f) => f.tag === 'A' && f.text === 'typed-by-keyboard');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /typed-by-keyboard/ }).waitFor();
  await tabTo(page, 'the filter box', (f) => f.id === 'run-filter');
  await page.keyboard.type('metrics.rmse <<< 1');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').getByText("Invalid comparator '<<<'").waitFor();
  assert.deepEqual(env.problems, []);
});
