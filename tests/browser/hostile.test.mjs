// A hostile bundle: markup and scripts in an experiment name, a run name, a param, a tag, the run's
// note and its artifacts (HTML, SVG, Markdown). Imported through the page and browsed everywhere it
// shows up, it must execute nothing and inject no element: every one of those strings is on screen
// as the text it is. (The page's CSP would refuse inline scripts and handlers too; a refusal would be a
// console error, which fails the test, so this checks the rendering itself, not only the policy.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, foreignRequests } from './harness.mjs';

/** Markup that would set window.__pwned (and fetch `x-<where>`) if it ever became DOM. */
const evil = (where) => `<img src="x-${where}" onerror="window.__pwned='${where}'"><script>window.__pwned='${where}'</script>`;
const EXPERIMENT = `exp ${evil('experiment')}`;
const RUN = `run ${evil('run-name')}`;
const PARAM = `p ${evil('param')}`;
const TAG = `t ${evil('tag')}`;
const NOTE = `# Result ${evil('note-heading')}\n\nSee ${evil('note')} and **${evil('note-strong')}**\n\n- \`${evil('note-code')}\``;
const ARTIFACTS = {
  'report.html': `<html><body onload="window.__pwned='html'">${evil('html')}<iframe src="javascript:parent.__pwned='iframe'"></iframe></body></html>`,
  'plot.svg': `<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned='svg'"><script>window.__pwned='svg-script'</script></svg>`,
  'readme.md': `# Notes ${evil('markdown-artifact')}`,
};

/** An MLflow file store (mlruns/) with one hostile run and one plain one, written as MLflow lays it out. */
function hostileMlruns() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flowbook-hostile-'));
  const mlruns = path.join(root, 'mlruns');
  const write = (rel, text) => {
    fs.mkdirSync(path.dirname(path.join(mlruns, rel)), { recursive: true });
    fs.writeFileSync(path.join(mlruns, rel), text);
  };
  // JSON strings are YAML scalars, so every hostile value goes in quoted exactly.
  const yaml = (o) => Object.entries(o).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n';
  const t0 = 1_700_000_000_000;
  write('7/meta.yaml', yaml({ artifact_location: `file://${mlruns}/7`, creation_time: t0, experiment_id: '7', last_update_time: t0, lifecycle_stage: 'active', name: EXPERIMENT }));
  const runs = [['a1b2c3d4e5f60718293a4b5c6d7e8f90', RUN, true], ['0f9e8d7c6b5a49382716f5e4d3c2b1a0', 'plain', false]];
  runs.forEach(([id, name, hostile], i) => {
    const dir = `7/${id}`;
    write(`${dir}/meta.yaml`, yaml({
      artifact_uri: `file://${mlruns}/${dir}/artifacts`, end_time: t0 + i * 1000 + 500, entry_point_name: '', experiment_id: '7',
      lifecycle_stage: 'active', run_id: id, run_name: name, run_uuid: id, source_name: '', source_type: 4, source_version: '',
      start_time: t0 + i * 1000, status: 3, user_id: 'mallory',
    }) + 'tags: []\n');
    write(`${dir}/params/alpha`, hostile ? PARAM : '0.1');
    write(`${dir}/metrics/rmse`, `${t0} ${0.5 + i} 0\n`);
    write(`${dir}/tags/mlflow.runName`, name);
    write(`${dir}/tags/comment`, hostile ? TAG : 'fine');
    if (hostile) write(`${dir}/tags/mlflow.note.content`, NOTE);
    for (const [file, text] of Object.entries(hostile ? ARTIFACTS : {})) write(`${dir}/artifacts/${file}`, text);
    if (!hostile) fs.mkdirSync(path.join(mlruns, dir, 'artifacts'), { recursive: true });
  });
  return { root, mlruns };
}

let env;
const dialogs = [];
before(async () => {
  env = await start();
  env.page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
});
after(async () => { await env?.close(); });

/** Nothing ran, nothing was injected, nothing was fetched for the markup. */
async function assertInert(page, where) {
  const state = await page.evaluate(() => ({
    pwned: self.__pwned ?? null,
    injected: [...document.querySelectorAll('img[src^="x-"], iframe, [onload], [onerror], svg[xmlns] script')].map((e) => e.outerHTML),
    scripts: [...document.querySelectorAll('script')].filter((s) => s.textContent.includes('__pwned')).length,
  }));
  assert.deepEqual(state, { pwned: null, injected: [], scripts: 0 }, `after ${where}`);
  assert.deepEqual(env.requests.filter((u) => /\/x-[a-z-]+$/.test(u)), [], `no request for the markup's images (${where})`);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(env.problems, [], `no page errors or CSP refusals (${where})`);
}

test('a hostile bundle executes nothing: its text is shown as text everywhere', async () => {
  const { page } = env;
  const { root, mlruns } = hostileMlruns();
  try {
    await page.goto(env.url + '#/transfer');
    await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
    await page.getByLabel('Choose a folder').setInputFiles(mlruns);
    await page.getByText(/Imported 1 experiments, 2 runs, 0 registered models, 0 model versions, 3 artifacts from mlruns/)
      .waitFor({ timeout: 60000 });
    await assertInert(page, 'the import');

    await page.goto(env.url + '#/experiments');
    await page.getByRole('link', { name: EXPERIMENT, exact: true }).click();
    await page.getByText('2 runs', { exact: true }).waitFor();
    assert.equal(await page.getByRole('link', { name: RUN, exact: true }).textContent(), RUN);
    await assertInert(page, 'the experiments list and the runs table');

    await page.getByLabel(`Select ${RUN}`).check();
    await page.getByLabel('Select plain').check();
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByRole('heading', { name: 'Compare 2 runs' }).waitFor();
    await page.getByText(PARAM, { exact: true }).first().waitFor();
    await assertInert(page, 'the comparison');

    await page.goBack();
    await page.getByRole('link', { name: RUN, exact: true }).click();
    await page.getByRole('heading', { name: RUN, level: 2 }).waitFor();
    await page.getByText(PARAM, { exact: true }).waitFor();
    await page.getByText(TAG, { exact: true }).waitFor();
    // The note's Markdown: heading, emphasis and code keep the markup as their text.
    await page.getByRole('heading', { name: `Result ${evil('note-heading')}` }).waitFor();
    await page.locator('strong', { hasText: evil('note-strong') }).waitFor();
    await page.locator('li code', { hasText: evil('note-code') }).waitFor();
    await assertInert(page, 'the run page');

    for (const [file, text] of Object.entries(ARTIFACTS)) {
      await page.getByRole('button', { name: new RegExp(`^${file.replace('.', '\\.')} \\(`) }).click();
      const preview = page.locator('.preview');
      await preview.getByRole('heading', { name: file }).waitFor();
      assert.ok((await preview.innerText()).includes(text), `${file} is previewed as its text`);
      await assertInert(page, `the preview of ${file}`);
    }
    assert.deepEqual(foreignRequests(env), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
