#!/usr/bin/env node
/**
 * `npm run test:e2e [-- <playwright args>]`: build the web bundle if it is stale, serve it on a free
 * port, run the Playwright tests against Debian's Chromium, stop the server. Where an Electron binary
 * exists the desktop build is made too and the Electron test runs; elsewhere it says it was skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { findElectron } from '../scripts/electron-binary.js';
import { ensureWebBuild, ROOT, startServer } from '../scripts/web.js';

const extra = process.argv.slice(2);

ensureWebBuild();
const electron = findElectron();
if (electron) {
  const electronVite = path.join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js');
  const build = spawnSync(process.execPath, [electronVite, 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
} else {
  console.log('Electron end-to-end test: skipped (no Electron binary on this machine).');
}

const server = await startServer({ port: 0 });
console.log(`Serving the web build at ${server.url}`);

const cli = path.join(ROOT, 'node_modules/@playwright/test/cli.js');
const env = {
  ...process.env,
  E2E_BASE_URL: server.url,
  ELECTRON_BINARY: electron ?? '',
  // Never fetch browsers: the tests use /usr/bin/chromium.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
};
const child = spawn(process.execPath, [cli, 'test', '--config', 'tests/playwright.config.ts', ...extra], {
  cwd: ROOT,
  stdio: 'inherit',
  env,
});
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(signal ? 1 : (c ?? 1))));
await server.close();
process.exit(code);
