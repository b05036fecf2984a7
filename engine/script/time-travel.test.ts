/**
 * Determinism and time travel (ARCHITECTURE.md "How a run flows", step 5): the same scenario gives
 * the same trace byte for byte, and the state rebuilt at any step — through checkpoints, forward or
 * backward — equals a fresh lab that replayed only the first n calls.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Machine } from '../core/machine.ts';
import { domainCards, iotlbView, resvView } from './panels.ts';
import { runScript } from './run-script.ts';

const SCENARIOS = path.resolve(import.meta.dirname, '../../scenarios');
const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.ts'));

function run(file: string) {
  const source = readFileSync(path.join(SCENARIOS, file), 'utf8');
  // Scenarios may import helpers next to them (./lib/…), as the command line reads them.
  const resolveFile = (spec: string) => {
    const name = spec.endsWith('.ts') ? spec : `${spec}.ts`;
    return { name, source: readFileSync(path.join(SCENARIOS, name), 'utf8') };
  };
  const r = runScript({ fileName: file, source, timeoutMs: 60_000, resolveFile });
  expect(r.error?.message).toBeUndefined();
  return r;
}

/** Everything a panel can show of a machine, as one comparable value. */
function snapshot(m: Machine): unknown {
  return {
    domains: domainCards(m),
    resv: resvView(m),
    iotlb: iotlbView(m),
    checks: m.checks.map((c) => ({ ...c })),
    mem: m.mem.allocated_bytes,
    clock: m.clock_ms,
  };
}

describe('determinism', () => {
  it.each(files)('%s gives the same trace twice', (file) => {
    const a = run(file);
    const b = run(file);
    expect(a.status).toBe(b.status);
    expect(a.session!.trace.length).toBeGreaterThan(0);
    expect(a.session!.trace.digest()).toBe(b.session!.trace.digest());
    expect(a.checks).toEqual(b.checks);
  });
});

describe('time travel', () => {
  it.each(files)('%s: seek(n) equals a fresh replay of n calls, in any order', (file) => {
    const r = run(file);
    const session = r.session!;
    const steps = session.steps;
    expect(snapshot(session.seek(steps))).toEqual(snapshot(session.machine));
    // As the host does while idle after a run: checkpoints, so seeks restore clones of them.
    while (!session.buildCheckpoints(50));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: steps }), { minLength: 1, maxLength: 6 }), (targets) => {
        for (const n of targets) expect(snapshot(session.seek(n))).toEqual(snapshot(session.stateAt(n)));
      }),
      { numRuns: 5 },
    );
    // Step 0 is the empty lab.
    expect(domainCards(session.seek(0))).toEqual([]);
  });

  it('a state in the middle differs from the end (the test can fail)', () => {
    const session = run('strict-vs-lazy.ts').session!;
    const mid = snapshot(session.seek(Math.floor(session.steps / 2)));
    expect(mid).not.toEqual(snapshot(session.seek(session.steps)));
  });
});

describe('checkpoints', () => {
  it('share the driver objects with the live machine (a copied driver would fail the owner check on attach)', async () => {
    const { deepClone } = await import('../trace/deep-clone.ts');
    const session = run('cross-instance-attach.ts').session!;
    const clone = deepClone(session.machine);
    expect(clone.iommus.length).toBeGreaterThan(0);
    for (let i = 0; i < clone.iommus.length; i++)
      expect(clone.iommus[i].driver).toBe(session.machine.iommus[i].driver);
    expect(clone.domains.map((d) => d.owner)).toEqual(session.machine.domains.map((d) => d.owner));
  });
});
