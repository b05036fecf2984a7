/**
 * `runScript`: the runner bound to the real lab module. Hosts and the CLI call this; the runner's
 * own tests use `runScriptWith` with a small stand-in module.
 */
import { createLabModule } from './module.ts';
import { runScriptWith, type RunOptions, type ScriptResult } from './runner.ts';
import { beforeLockdown } from './sandbox.ts';
import type { LabSession } from './session.ts';
import { warmUpEngine } from './warm-up.ts';

// The first run locks the realm down; the engine's paths are exercised just before (warm-up.ts).
beforeLockdown(warmUpEngine);

export type { RunOptions, ScriptResult } from './runner.ts';

export function runScript(opts: RunOptions): ScriptResult<LabSession> {
  const r = runScriptWith(createLabModule, opts);
  if (r.session) {
    // The profile in force at the end: the script may have picked one with lab.kernel(name).
    r.kernel = r.session.machine.profile.name;
    r.drivers = [...new Set(r.session.machine.iommus.map((i) => i.driver.name))];
  }
  return r;
}
