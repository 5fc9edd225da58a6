// Serves a built dist/ folder on 127.0.0.1 under a base path, as a static host would
// (GitHub Pages under a sub-path, say). Used by `scripts/serve.sh` and by the browser tests.
//   node scripts/static-server.mjs DIR [--port 8080] [--base /course/flowbook/]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.webmanifest': 'application/manifest+json',
};

/** Starts serving; resolves to the http.Server once it listens. */
export function serveStatic(dir, { port = 8080, base = '/' } = {}) {
  const root = path.resolve(dir);
  if (!base.endsWith('/')) base += '/';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let pathname = decodeURIComponent(url.pathname);
    if (pathname + '/' === base) { res.writeHead(301, { Location: base }); res.end(); return; }
    if (!pathname.startsWith(base)) { res.writeHead(404); res.end('not found'); return; }
    let rel = pathname.slice(base.length) || 'index.html';
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) && file !== root) { res.writeHead(403); res.end(); return; }
    fs.stat(file, (err, st) => {
      // Unknown paths get index.html, so deep links into the app work on reload.
      const target = !err && st.isFile() ? file : path.join(root, 'index.html');
      fs.readFile(target, (err2, data) => {
        if (err2) { res.writeHead(404); res.end('not found'); return; }
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(target)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
        res.end(data);
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const dir = args[0] || 'dist';
  const port = Number(opt('--port', 8080));
  const base = opt('--base', '/');
  serveStatic(dir, { port, base }).then(() => {
    console.log(`Flowbook is being served at http://127.0.0.1:${port}${base}  (Ctrl-C stops it)`);
  }, (e) => { console.error(`cannot serve ${dir} on 127.0.0.1:${port}: ${e.message}`); process.exit(1); });
}
