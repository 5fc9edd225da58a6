// Trunk post-build hook (see Trunk.toml): finishes dist/ for static, offline hosting.
//  1. A Content-Security-Policy <meta> whose script-src allows exactly Trunk's inline loader
//     (by its sha256), so no other inline script can run.
//  2. sw.js: a service worker that precaches every file of this build, so the page opens with no
//     network; its cache name carries a hash of the build, so a new build replaces the old cache.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const dir = process.env.TRUNK_STAGING_DIR || process.argv[2];
if (!dir) { console.error('postbuild: no TRUNK_STAGING_DIR'); process.exit(1); }
const indexPath = path.join(dir, 'index.html');
let html = fs.readFileSync(indexPath, 'utf8');

const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
  .map((m) => `'sha256-${crypto.createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
const csp = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "style-src 'self'",
  // plotters measures chart text with a styled <span> (its web font backend): style attributes
  // only, never <style> elements or scripts.
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');
html = html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${csp}">`);
fs.writeFileSync(indexPath, html);

const files = fs.readdirSync(dir).filter((f) => f !== 'sw.js' && fs.statSync(path.join(dir, f)).isFile()).sort();
const buildHash = crypto.createHash('sha256');
for (const f of files) buildHash.update(f).update(fs.readFileSync(path.join(dir, f)));
const version = buildHash.digest('hex').slice(0, 16);
const template = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'sw.template.js'), 'utf8');
fs.writeFileSync(path.join(dir, 'sw.js'), template
  .replace('__FLOWBOOK_VERSION__', version)
  .replace('__FLOWBOOK_FILES__', JSON.stringify(['./', ...files.map((f) => `./${f}`)])));
console.log(`postbuild: CSP with ${hashes.length} inline script hash(es); sw.js precaches ${files.length} files (build ${version})`);
