/**
 * The round trip that matters to a colleague: a lab saved to a session file and loaded again runs
 * to the same trace, byte for byte (the trace digest), with the same results — for the built-in
 * scenarios and a session that uses every setting.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScript } from '../script/run-script.ts';
import { loadSession, newSession, serializeSession, type Session } from '../session/index.ts';

const SCENARIOS = new URL('../../scenarios/', import.meta.url);

/** Run a session's active tab as the app's Run does: its settings, the other tabs importable. */
function runActive(s: Session) {
  const entry = s.scripts.find((t) => t.name === s.activeScript)!;
  const r = runScript({
    fileName: entry.name,
    source: entry.source,
    files: s.scripts.filter((t) => t !== entry),
    kernel: s.kernel,
    seed: s.seed,
    params: s.params,
    disabledChecks: s.disabledChecks,
  });
  return {
    digest: r.session?.trace.digest(),
    status: r.status,
    expectations: r.expectations,
    checks: r.checks,
    console: r.console.map((l) => l.text),
    steps: r.steps,
  };
}

function roundTrip(s: Session): Session {
  const r = loadSession(serializeSession(s));
  if (!r.ok) throw new Error(r.error.message);
  return r.session;
}

describe('save → load → run gives the same trace', () => {
  const names = readdirSync(SCENARIOS).filter((f) => f.endsWith('.ts'));
  const lib = readdirSync(new URL('lib/', SCENARIOS)).map((f) => ({
    name: `lib/${f}`,
    source: readFileSync(new URL(`lib/${f}`, SCENARIOS), 'utf8'),
  }));

  it.each(names)('%s', (name) => {
    const source = readFileSync(new URL(name, SCENARIOS), 'utf8');
    const before = newSession([{ name, source }, ...lib], { kernel: 'v6.16' });
    const after = roundTrip(before);
    expect(after).toEqual(before);
    const a = runActive(before);
    const b = runActive(after);
    expect(a.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(b).toEqual(a);
  });

  it('with every setting: kernel, seed, params, checks off, several tabs', () => {
    const main = `import { lab, expect, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, iommu_unmap_fast,
  iommu_iotlb_gather_init, IOMMU_READ, SZ_4K } from 'iommu-lab';
import { build } from './helpers.ts';
const { nic } = build(lab.params.driver);
const d = iommu_paging_domain_alloc(nic);
expect(iommu_attach_device(d, nic)).toBe(0);
const pa = lab.mem.alloc(SZ_4K * 4);
const n = 1 + Math.floor(lab.random() * 3);
for (let i = 0; i < n; i++) iommu_map(d, 0x10000 + i * SZ_4K, pa + i * SZ_4K, SZ_4K, IOMMU_READ);
iommu_unmap_fast(d, 0x10000, SZ_4K, iommu_iotlb_gather_init());
console.log('mapped', n, 'on', lab.kernel(), lab.params.driver);
`;
    const helpers = `import { lab } from 'iommu-lab';
export function build(driver: string) {
  const iommu = lab.add_iommu('iommu0', driver);
  return { iommu, nic: lab.add_device('nic0', { iommu }) };
}
`;
    const base = newSession(
      [
        { name: 'main.ts', source: main },
        { name: 'helpers.ts', source: helpers },
      ],
      { kernel: 'v6.16', seed: 12345, params: { driver: 'intel-iommu' }, notes: 'n', layout: { w: 0.5 } },
    );
    const on = runActive(roundTrip(base));
    expect(on).toEqual(runActive(base));
    expect(on.status).toBe('passed');
    expect(on.checks.map((c) => c.id)).toContain('unmap-without-sync');
    expect(on.console[0]).toMatch(/^mapped \d on v6\.16 intel-iommu$/);

    // The disabled check and the seed travel with the file and change the run as they should.
    const off = { ...base, disabledChecks: ['unmap-without-sync'] };
    const offRun = runActive(roundTrip(off));
    expect(offRun).toEqual(runActive(off));
    expect(offRun.checks.map((c) => c.id)).not.toContain('unmap-without-sync');
    const seeds = new Set([1, 2, 3, 4, 5, 6].map((seed) => runActive(roundTrip({ ...base, seed })).digest));
    expect(seeds.size).toBeGreaterThan(1);
  });
});
