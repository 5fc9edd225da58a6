// The browser app's speed, measured in Debian's Chromium on the release dist/: cold start to
// interactive, gzipped size of what the page loads, the runs table with 10,000 runs (first render,
// sort, filter — each from the user's action to the rows on screen, worker round trip included)
// and the metric-history chart of 100,000 points. Prints one JSON object.
//
// usage: node benches/app_browser.mjs TABLE_ZIP CHART_ZIP   (mlruns zips from benches/make_mlruns.py)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { start } from '../tests/browser/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [tableZip, chartZip] = process.argv.slice(2);
const REPEAT = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function gzippedSize() {
  const dist = path.join(ROOT, 'dist');
  const files = fs.readdirSync(dist).filter((f) => /\.(wasm|js|css)$/.test(f) && f !== 'sw.js');
  const sizes = Object.fromEntries(files.map((f) => [f, zlib.gzipSync(fs.readFileSync(path.join(dist, f)), { level: 9 }).length]));
  return { files: sizes, total: Object.values(sizes).reduce((a, b) => a + b, 0) };
}

async function timed(action, done) {
  const t0 = performance.now();
  await action();
  await done();
  return performance.now() - t0;
}

async function importZip(page, url, zip) {
  await page.goto(url + '#/transfer');
  await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
  await page.getByLabel('Choose a zip').setInputFiles(zip);
  await page.getByText(/^Imported /).first().waitFor({ timeout: 600000 });
}

const env = await start();
const browser = env.context.browser();
const result = { size_gzip: gzippedSize() };

// Cold start: a fresh profile each time (no cache, no store), until the store is open and the
// experiments list is on screen.
const cold = [];
for (let i = 0; i < REPEAT; i++) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const page = await context.newPage();
  cold.push(await timed(() => page.goto(env.url), async () => {
    await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
  }));
  await context.close();
}
result.cold_start_ms = median(cold);

const { page } = env;
await importZip(page, env.url, tableZip);
await page.goto(env.url + '#/experiments');
await page.getByRole('link', { name: 'bench', exact: true }).click();
await page.getByText('10000 runs').waitFor({ timeout: 60000 });
const runsUrl = page.url();
const firstRow = () => page.locator('table.runs tbody tr[aria-rowindex="2"] a').innerText();

const render = [], sort = [], filter = [];
for (let i = 0; i < REPEAT; i++) {
  await page.goto(env.url + '#/experiments');
  await page.getByRole('link', { name: 'bench', exact: true }).waitFor();
  render.push(await timed(() => page.goto(runsUrl), () => page.getByText('10000 runs').waitFor({ timeout: 60000 })
    .then(() => page.locator('table.runs tbody tr[aria-rowindex="2"]').waitFor())));
  // Newest first by default; "Created" flips it to oldest first: run-0 comes to the top.
  if ((await firstRow()) !== 'run-9999') throw new Error('the table does not start newest first');
  sort.push(await timed(() => page.getByRole('button', { name: /^Created/ }).click(),
    () => page.waitForFunction(() => document.querySelector('table.runs tbody tr[aria-rowindex="2"] a')?.textContent === 'run-0', null, { timeout: 60000 })));
  await page.getByLabel('Filter').fill("attributes.run_name LIKE 'run-99%'");
  filter.push(await timed(() => page.getByRole('button', { name: 'Search' }).click(),
    () => page.getByText('111 runs').waitFor({ timeout: 60000 })));
}
result.table_10000 = { first_render_ms: median(render), sort_ms: median(sort), filter_ms: median(filter) };

// The chart in a profile of its own: the chart bundle reuses the table bundle's run ids.
const chartContext = await browser.newContext({ viewport: { width: 1024, height: 768 } });
const chartPage = await chartContext.newPage();
await importZip(chartPage, env.url, chartZip);
await chartPage.goto(env.url + '#/experiments');
await chartPage.getByRole('link', { name: 'bench', exact: true }).click();
await chartPage.getByRole('link', { name: 'run-0', exact: true }).click();
await chartPage.getByRole('img', { name: 'Metric history by step' }).waitFor({ timeout: 60000 });
const runUrl = chartPage.url();
const chart = [];
for (let i = 0; i < REPEAT; i++) {
  await chartPage.goto(env.url + '#/experiments');
  await chartPage.getByRole('link', { name: 'bench', exact: true }).waitFor();
  // From the navigation to the chart's last repaint: the canvas mounts at once and is drawn again
  // when the history arrives, so the canvas is watched until it stops changing (0.5 s).
  const t0 = await chartPage.evaluate(() => performance.now());
  await chartPage.evaluate((hash) => { location.hash = hash; }, new URL(runUrl).hash);
  await chartPage.getByRole('img', { name: 'Metric history by step' }).waitFor({ timeout: 60000 });
  const drawnAt = await chartPage.evaluate(async () => {
    const canvas = document.querySelector('canvas[aria-label="Metric history by step"]');
    let last = canvas.toDataURL(), changedAt = performance.now();
    while (performance.now() - changedAt < 500) {
      await new Promise((r) => requestAnimationFrame(r));
      const now = canvas.toDataURL();
      if (now !== last) { last = now; changedAt = performance.now(); }
    }
    return changedAt;
  });
  chart.push(drawnAt - t0);
}
await chartPage.screenshot({ path: path.join(ROOT, 'tests/browser/screenshots/bench-chart-100000.png') });
await chartContext.close();
result.chart_100000_ms = median(chart);
result.problems = env.problems;
await env.close();
console.log(JSON.stringify(result));
