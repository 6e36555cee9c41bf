#!/usr/bin/env node
// Serves the viewer (`make viewer`) on 127.0.0.1: www/ at /, the built npm package (pkg/) at
// /pkg/. Read-only, GET/HEAD only, no directory listings, nothing outside those two folders.
// Usage: node www/serve.mjs [--port N] (default $PORT or 8080; a busy port falls back to a
// free one). Also imported by the viewer's tests: startViewerServer({ port: 0 }).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join, extname, resolve, sep, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const WWW = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(WWW, '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

// The page's own policy, also sent as a header: nothing but this origin, ever.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

/** Starts the server; resolves to { url, port, close }. */
export async function startViewerServer({ port = 0, host = '127.0.0.1', pkg = process.env.ETCD_SNAP_PKG || join(REPO, 'pkg'), log = false } = {}) {
  pkg = resolve(pkg);
  const server = createServer(async (req, res) => {
    const send = (code, text) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return send(400, 'bad path');
    }
    if (path.endsWith('/')) path += 'index.html';
    const [base, rel] = path.startsWith('/pkg/') ? [pkg, path.slice(5)] : [WWW, path.slice(1)];
    const file = resolve(base, rel);
    if (!file.startsWith(base + sep)) return send(403, 'forbidden');
    try {
      const st = await stat(file);
      if (!st.isFile()) return send(404, 'not found');
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] || 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-store',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (log) console.log(`${req.method} ${path} 200`);
    } catch {
      send(404, 'not found');
      if (log) console.log(`${req.method} ${path} 404`);
    }
  });
  const listen = (p) => new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(p, host, () => { server.off('error', fail); ok(); });
  });
  try {
    await listen(port);
  } catch (e) {
    if (e.code !== 'EADDRINUSE' || port === 0) throw e;
    console.error(`viewer: port ${port} is busy; picking a free one`);
    await listen(0);
  }
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`,
    port: actual,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] || '').href) {
  const i = process.argv.indexOf('--port');
  const port = Number(i > 0 ? process.argv[i + 1] : process.env.PORT || 8080);
  const pkgDir = resolve(process.env.ETCD_SNAP_PKG || join(REPO, 'pkg'));
  try {
    await stat(join(pkgDir, 'browser.js'));
  } catch {
    console.error(`viewer: ${pkgDir}/browser.js is missing: run \`make package\` (make viewer does)`);
    process.exit(1);
  }
  const s = await startViewerServer({ port, pkg: pkgDir });
  console.log(`etcd-snap viewer: ${s.url}`);
  console.log(`  sample folder (real etcd 3.4.23 files): ${s.url}  ->  "Sample folder"`);
  console.log(`  sample data dir with its WAL (real etcd 3.4.23 files): ${s.url}  ->  "Sample data dir"`);
  console.log('  serving www/ and pkg/ on 127.0.0.1 only; Ctrl-C to stop');
  const stop = () => s.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
