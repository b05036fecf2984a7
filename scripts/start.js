#!/usr/bin/env node
/**
 * `npm start`: the desktop app when an Electron binary is available (build with electron-vite, then
 * run it), otherwise one line saying so and the browser mode instead (scripts/web.js).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { findElectron } from './electron-binary.js';
import { ROOT, runWebMode } from './web.js';

const argv = process.argv.slice(2);
const electron = findElectron({ download: true });
if (!electron) {
  console.log('The Electron runtime is not available on this machine; starting the browser mode instead.');
  await runWebMode(argv);
} else {
  const electronVite = path.join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js');
  const build = spawnSync(process.execPath, [electronVite, 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(electron, ['.', ...argv], { cwd: ROOT, stdio: 'inherit', env });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
}
