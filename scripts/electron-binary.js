/**
 * Where the Electron binary is, if there is one that runs. The `electron` package downloads its binary
 * the first time it is required; on a machine that cannot reach the download that require fails
 * noisily, so with `download: true` the attempt runs in a quiet child process with a time limit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Path of a working Electron binary, or null. */
export function findElectron({ download = false } = {}) {
  const pkg = path.join(ROOT, 'node_modules/electron');
  const pathTxt = path.join(pkg, 'path.txt');
  const rel = existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8').trim() : null;
  let bin = null;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    bin = path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel ?? 'electron');
  } else if (rel && existsSync(path.join(pkg, 'dist', rel))) {
    bin = path.join(pkg, 'dist', rel);
  } else if (download && existsSync(pkg)) {
    const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(String(require('electron')))"], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (probe.status === 0) bin = probe.stdout.trim();
  }
  if (!bin || !existsSync(bin)) return null;
  // It must also run here (right architecture, libraries present).
  const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000, env });
  return version.status === 0 ? bin : null;
}
