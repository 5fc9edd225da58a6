// The browser app's speed, measured in Debian's Chromium on the release dist/: cold start to
// interactive, gzipped size of what the page loads, the runs table with 10,000 runs (first render,
// sort, filter — each from the user's action to the rows painted, worker round trip included)
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
// experiments list is on screen. Timed in the page from the navigation's start to the first frame
// painted with the store open and the Default experiment listed; Playwright's time from goto to
// seeing the same is kept beside it ("automation").
function watchColdStart() {
  self.benchInteractive = new Promise((resolve) => {
    const ready = () => {
      const text = document.body?.innerText ?? '';
      return text.includes('Saved in this browser') && !!document.querySelector('h2')?.textContent.includes('Experiments')
        && [...document.querySelectorAll('a')].some((a) => a.textContent === 'Default');
    };
    const observer = new MutationObserver(() => {
      if (!ready()) return;
      observer.disconnect();
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true });
  });
}
const cold = [], coldAutomation = [];
for (let i = 0; i < REPEAT; i++) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  await context.addInitScript(watchColdStart);
  const page = await context.newPage();
  coldAutomation.push(await timed(() => page.goto(env.url), async () => {
    await page.getByText('Saved in this browser').waitFor({ timeout: 30000 });
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
    await page.getByRole('link', { name: 'Default', exact: true }).waitFor();
  }));
  cold.push(await page.evaluate(() => self.benchInteractive));
  await context.close();
}
result.cold_start_ms = median(cold);
result.cold_start_automation_ms = median(coldAutomation);

const { page } = env;
await importZip(page, env.url, tableZip);
await page.goto(env.url + '#/experiments');
await page.getByRole('link', { name: 'bench', exact: true }).click();
await page.getByText('10000 runs').waitFor({ timeout: 60000 });
const runsUrl = page.url();

// A table operation is timed inside the page, as a user meets it: from the click event's time
// stamp (or, for the first render, the route change) to the first frame painted after the table
// shows the answer. Playwright's own time for sort and filter is kept beside it ("automation"): its
// click first waits for the button to hold still over two animation frames, which is not the app's time.
async function inPage(page, { hash = null, until }) {
  await page.evaluate(({ hash, until }) => {
    self.benchDone = new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error(`the table did not show ${JSON.stringify(until)} within 60 s`)), 60000);
      let t0 = null;
      const shown = () => until.every(([selector, text]) => document.querySelector(selector)?.textContent === text);
      const onClick = (e) => { if (t0 === null) { t0 = e.timeStamp; check(); } };
      const check = () => {
        if (t0 === null || !shown()) return;
        observer.disconnect();
        document.removeEventListener('click', onClick, true);
        // The DOM holds the answer; it is on screen once the next frame is painted.
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
      };
      const observer = new MutationObserver(check);
      observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
      if (hash === null) document.addEventListener('click', onClick, true);
      else { t0 = performance.now(); location.hash = hash; }
    });
  }, { hash, until });
}
const FIRST_ROW = 'table.runs tbody tr[aria-rowindex="2"] a';
const COUNT = 'p[aria-live="polite"]';

const render = [], sort = [], filter = [], automation = { sort: [], filter: [] };
for (let i = 0; i < REPEAT; i++) {
  await page.goto(env.url + '#/experiments');
  await page.getByRole('link', { name: 'bench', exact: true }).waitFor();
  await inPage(page, { hash: new URL(runsUrl).hash, until: [[COUNT, '10000 runs'], [FIRST_ROW, 'run-9999']] });
  render.push(await page.evaluate(() => self.benchDone));
  // Newest first by default; "Created" flips it to oldest first: run-0 comes to the top.
  await inPage(page, { until: [[FIRST_ROW, 'run-0']] });
  automation.sort.push(await timed(() => page.getByRole('button', { name: /^Created/ }).click(),
    () => page.waitForFunction(() => document.querySelector('table.runs tbody tr[aria-rowindex="2"] a')?.textContent === 'run-0', null, { timeout: 60000 })));
  sort.push(await page.evaluate(() => self.benchDone));
  await page.getByLabel('Filter').fill("attributes.run_name LIKE 'run-99%'");
  // Oldest first still: of the 111 runs named run-99…, run-99 itself is the oldest.
  await inPage(page, { until: [[COUNT, '111 runs'], [FIRST_ROW, 'run-99']] });
  automation.filter.push(await timed(() => page.getByRole('button', { name: 'Search' }).click(),
    () => page.getByText('111 runs').waitFor({ timeout: 60000 })));
  filter.push(await page.evaluate(() => self.benchDone));
}
result.table_10000 = {
  first_render_ms: median(render), sort_ms: median(sort), filter_ms: median(filter),
  automation_ms: { sort: median(automation.sort), filter: median(automation.filter) },
};

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
