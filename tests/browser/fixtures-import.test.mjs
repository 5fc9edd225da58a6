// Each bundle real MLflow wrote (../shared/fixtures, copied to tests/fixtures) imported through the
// page into a store of its own, then found where a learner looks: every active run of the course
// experiment in the runs table with its status, the deleted run left out, a run's params, and the
// registered model with its versions, stages and alias — all as the bundle's expected.json says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { start, foreignRequests } from './harness.mjs';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const BUNDLES = ['mlflow2-filestore-course.zip', 'mlflow3-filestore-course.zip', 'mlflow3-sqlite-course.zip'];

/** The bundle's expected.json, read with Python's zipfile (the harness has no zip reader of its own). */
function expected(zip) {
  const code = 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("expected.json").decode())';
  return JSON.parse(execFileSync('python3', ['-c', code, zip], { encoding: 'utf8' }));
}

let env;
before(async () => { env = await start(); });
after(async () => { await env?.close(); });

for (const bundle of BUNDLES) {
  test(`${bundle} imports through the page and shows its runs and registered model`, async () => {
    const zip = path.join(FIXTURES, bundle);
    const want = expected(zip);
    // A profile of its own: each bundle goes into an empty store.
    const context = await env.context.browser().newContext({ viewport: { width: 1024, height: 768 } });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    try {
      await page.goto(env.url + '#/transfer');
      await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
      await page.getByLabel('Choose a zip').setInputFiles(zip);
      await page.getByText(new RegExp(`Imported \\d+ experiments, ${want.counts.all_runs_in_experiment} runs, 1 registered models, 2 model versions, \\d+ artifacts from ${bundle.replace(/\./g, '\\.')}`))
        .waitFor({ timeout: 60000 });

      // The runs table: every active run, by name, with its status; the deleted run is not there.
      await page.goto(env.url + '#/experiments');
      await page.getByRole('link', { name: want.experiment, exact: true }).click();
      await page.getByText(`${want.counts.active_runs_in_experiment} runs`, { exact: true }).waitFor({ timeout: 30000 });
      await page.locator('table.runs tbody tr[aria-rowindex] a').first().waitFor();
      const rows = await page.locator('table.runs tbody tr[aria-rowindex]').evaluateAll((trs) => trs.map((tr) => ({
        name: tr.querySelector('a')?.textContent, status: tr.children[3]?.textContent, run: tr.querySelector('a')?.getAttribute('href'),
      })));
      const shown = Object.fromEntries(rows.map((r) => [r.name, r.status]));
      const wanted = Object.fromEntries(Object.entries(want.runs).map(([name, r]) => [name, r.status]));
      assert.deepEqual(shown, wanted);
      assert.ok(!rows.some((r) => r.run?.includes(want.deleted_run)), 'the deleted run is not listed');

      // A run's page: its params as MLflow logged them.
      const [name, run] = Object.entries(want.runs).find(([n]) => n === 'lasso-0.1');
      await page.getByRole('link', { name, exact: true }).click();
      await page.getByRole('heading', { name, level: 2 }).waitFor();
      for (const [key, value] of Object.entries(run.params)) {
        const row = page.locator('tr', { has: page.getByRole('rowheader', { name: key, exact: true }) });
        assert.equal(await row.locator('td').first().innerText(), value, `param ${key}`);
      }

      // The registry: the model, each version's stage, and the alias on its version.
      const [model, reg] = Object.entries(want.registered_models)[0];
      await page.goto(env.url + '#/models');
      await page.getByRole('link', { name: model, exact: true }).click();
      await page.locator('h3:text-is("Versions") + table tbody tr').first().waitFor();
      assert.equal(await page.locator('#model-desc').inputValue(), reg.description);
      const versions = await page.locator('h3:text-is("Versions") + table tbody tr').evaluateAll((trs) => trs.map((tr) => ({
        version: tr.children[0].textContent.trim(), stage: tr.children[1].textContent.trim(), aliases: tr.children[2].textContent.trim(),
      })));
      for (const [version, v] of Object.entries(reg.versions)) {
        const row = versions.find((r) => r.version === version);
        assert.ok(row, `version ${version} is listed (saw ${JSON.stringify(versions)})`);
        assert.equal(row.stage, v.stage, `stage of version ${version}`);
        const aliases = Object.entries(reg.aliases).filter(([, to]) => String(to) === version).map(([a]) => `@${a}`);
        for (const a of aliases) assert.ok(row.aliases.includes(a), `version ${version} carries ${a} (saw ${JSON.stringify(versions)})`);
      }
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
    assert.deepEqual(foreignRequests(env), []);
  });
}
