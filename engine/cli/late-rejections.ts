/**
 * A promise a script rejected and never handled reaches the process only after its run returned
 * (Node reports unhandled rejections once the microtask queue drains). The commands wait for that
 * moment after each run and hand what arrived to the run that made it; main.ts reports anything
 * else as an internal error.
 */
import type { ScriptResult } from '../script/runner.ts';

let collecting: unknown[] | null = null;

/** The process's unhandledRejection listener asks first: true when a run is collecting it. */
export function claimRejection(reason: unknown): boolean {
  if (collecting === null) return false;
  collecting.push(reason);
  return true;
}

/** Let the rejections `r`'s run left behind surface, and settle them into its result. */
export async function settleLateRejections(r: ScriptResult): Promise<void> {
  const got: unknown[] = [];
  collecting = got;
  try {
    await new Promise<void>((resolve) => setImmediate(resolve));
  } finally {
    collecting = null;
  }
  for (const reason of got) r.settleRejection(reason);
}
