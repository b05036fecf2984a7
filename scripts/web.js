#!/usr/bin/env node
/**
 * Browser mode: `npm run web [-- --port 5170]`. Builds the web bundle (out/web) when it is missing or
 * older than its sources, then serves it on 127.0.0.1 with the app's Content-Security-Policy and the
 * cross-origin isolation headers. The engine runs in a Web Worker inside the page.
 *
 * Also a module: tests/run-e2e.js and tests/screenshot.js use ensureWebBuild() and startServer().
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_OUT = path.join(ROOT, 'out/web');
export const DEFAULT_PORT = 5170;

/** What the web bundle is built from: a newer file here means a rebuild. */
const SOURCES = ['renderer', 'engine', 'main/bridge-api.ts', 'vite.web.config.ts', 'package.json'];

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.d.ts': 'text/plain; charset=utf-8',
};

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(p, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(p, entry.name)));
  }
  return newest;
}

/** Build out/web unless it is newer than every source. Returns true when it built. */
export function ensureWebBuild({ force = false, log = console.log } = {}) {
  const index = path.join(WEB_OUT, 'index.html');
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(...SOURCES.map((s) => newestMtime(path.join(ROOT, s))));
  if (!force && built > sources) return false;
  log(built ? 'Sources changed since the last web build; rebuilding…' : 'Building the web bundle…');
  const vite = path.join(ROOT, 'node_modules/vite/bin/vite.js');
  const res = spawnSync(
    process.execPath,
    [vite, 'build', '--config', 'vite.web.config.ts', '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (res.status !== 0) throw new Error(`web build failed (exit ${res.status})`);
  return true;
}

function cspHeaders() {
  const csp = JSON.parse(readFileSync(path.join(ROOT, 'renderer/csp.json'), 'utf8'));
  const join = (...parts) =>
    parts
      .flatMap((p) => Object.entries(p))
      .map(([name, values]) => `${name} ${values.join(' ')}`)
      .join('; ');
  return { page: join(csp.page, csp.headerOnly), engineWorker: join(csp.engineWorker) };
}

/**
 * Serve `root` on 127.0.0.1. `port` 0 picks a free one. Resolves to {url, port, close()}.
 */
export function startServer({ port = DEFAULT_PORT, root = WEB_OUT } = {}) {
  const csp = cspHeaders();
  const base = path.resolve(root);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad path');
      return;
    }
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(base, '.' + rel);
    if (!file.startsWith(base + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const ext = file.endsWith('.d.ts') ? '.d.ts' : path.extname(file).toLowerCase();
    const isEngineWorker = /[\\/]workers[\\/]engine-[^\\/]*\.js$/.test(file);
    res.writeHead(200, {
      'Content-Type': MIME[ext] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
      'Content-Security-Policy': isEngineWorker ? csp.engineWorker : csp.page,
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // Hashed assets never change; the page itself must be fresh after a rebuild.
      'Cache-Control': ext === '.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const addr = server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : port;
      resolve({
        url: `http://127.0.0.1:${actual}/`,
        port: actual,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

function parsePort(argv) {
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i < 0) return DEFAULT_PORT;
  const raw = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`--port wants a number from 0 to 65535, got ${raw}`);
    process.exit(2);
  }
  return n;
}

/** The `npm run web` command; scripts/start.js falls back to it when there is no Electron. */
export async function runWebMode(argv = process.argv.slice(2)) {
  if (argv.includes('--help')) {
    console.log(
      'usage: npm run web [-- --port N] [-- --rebuild]\nServes IOMMU Lab in the browser on 127.0.0.1.',
    );
    return;
  }
  try {
    ensureWebBuild({ force: argv.includes('--rebuild') });
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
  const port = parsePort(argv);
  let server;
  try {
    server = await startServer({ port });
  } catch (err) {
    console.error(
      err.code === 'EADDRINUSE'
        ? `Port ${port} is in use; try --port ${port + 1} (or 0 for any free port).`
        : err.message,
    );
    process.exit(1);
  }
  console.log(`IOMMU Lab (browser mode) is at ${server.url}  — Ctrl+C to stop`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await runWebMode();
}
