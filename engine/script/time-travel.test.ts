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
import { dma_iova_ranges } from '../dma/dma-iommu.ts';
import { swiotlb_pool } from '../dma/swiotlb.ts';
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

describe('the IOVA depot work (v6.7+) is time-travel state', () => {
  it('seeks across the 100 ms trim, from checkpoints taken while it was pending, equal a fresh replay', () => {
    const session = run('iova-depot.ts').session!;
    while (!session.buildCheckpoints(50));
    const dma = (m: Machine) => ({
      ranges: m.domains.flatMap((d) => dma_iova_ranges(d)),
      timers: m.timers.map((t) => t.due_ms),
      clock: m.clock_ms,
    });
    const cached = (m: Machine) => dma(m).ranges.filter((r) => r.state === 'cached').length;
    // The work is pending for the last unmaps (a timer due at 100 ms), then advance_time runs it.
    const pending = session.steps - 100;
    expect(dma(session.seek(pending)).timers).toEqual([100]);
    // 382 unmapped pages cached at the end of the unmaps; the work gave 127 back, and the scenario's
    // last mapping took one from the CPU magazine.
    expect(cached(session.seek(session.steps))).toBe(382 - 127 - 1);
    for (let n = pending; n <= session.steps; n++)
      expect(dma(session.seek(n))).toEqual(dma(session.stateAt(n)));
    expect(dma(session.seek(pending))).toEqual(dma(session.stateAt(pending)));
  });
});

describe('the swiotlb pool is time-travel state', () => {
  it('seeks across bounces, copies back and releases equal a fresh replay, slots and bytes', () => {
    const session = run('untrusted-bounce.ts').session!;
    while (!session.buildCheckpoints(5));
    const bounce = (m: Machine) => {
      const pool = swiotlb_pool(m);
      return {
        pool: pool && {
          start: pool.start,
          index: pool.index,
          used: pool.used,
          slots: [...pool.slots],
          bytes: [...m.mem.read(pool.start, 0x1000)],
        },
        pages: m.mem.pages(),
        buffers: m.mem.pages().map((p) => [...m.mem.read(p.pa, 0x200)]),
      };
    };
    const states = new Set<string>();
    for (let n = session.steps; n >= 0; n--) {
      const seen = bounce(session.seek(n));
      expect(seen).toEqual(bounce(session.stateAt(n)));
      states.add(JSON.stringify(seen));
    }
    // The pool appears, fills, and empties along the run: the comparison saw it change.
    expect(states.size).toBeGreaterThan(4);
    expect(bounce(session.seek(session.steps))).toEqual(bounce(session.machine));
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

describe('time travel rebuilds what the live run did, or says it cannot', () => {
  const live = (source: string, timeoutMs = 60_000) =>
    runScript({ fileName: 'probe.ts', source: `import * as L from 'iommu-lab';\n${source}`, timeoutMs });

  it('an unmap over a hole (intel-iommu) replays with the check the live run raised', () => {
    const r = live(`
      const iommu = L.lab.add_iommu('dmar0', 'intel-iommu');
      const dev = L.lab.add_device('nic0', { iommu });
      const d = L.iommu_paging_domain_alloc(dev) as L.IommuDomain;
      L.iommu_map(d, 0x20_0000, 0x8000_0000, 0x1000, 3);
      L.iommu_unmap(d, 0x20_0000, 0x3000);
      L.iommu_map(d, 0x40_0000, 0x8000_0000, 0x1000, 3);
    `);
    const session = r.session!;
    expect(session.machine.checks.map((c) => c.id)).toContain('unmap-of-hole');
    for (let n = 0; n <= session.steps; n++)
      expect(snapshot(session.seek(n))).toEqual(snapshot(session.stateAt(n)));
    expect(snapshot(session.seek(session.steps))).toEqual(snapshot(session.machine));
  });

  it('a run that ends after iommu_unmap_fast with no sync (a check at the end, made by no call) replays to its last step', () => {
    const r = live(`
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const d = L.iommu_paging_domain_alloc(L.lab.add_device('nic0', { iommu })) as L.IommuDomain;
      L.iommu_map(d, 0x10000, 0x8000_0000, 0x1000, 1);
      L.iommu_unmap_fast(d, 0x10000, 0x1000, L.iommu_iotlb_gather_init());
    `);
    const session = r.session!;
    expect(r.checks.map((c) => c.id)).toEqual(['unmap-without-sync']);
    expect(domainCards(session.stateAt(session.steps))).toEqual(domainCards(session.machine));
    while (!session.buildCheckpoints(50));
    expect(domainCards(session.seek(session.steps - 1))).toEqual(
      domainCards(session.stateAt(session.steps - 1)),
    );
  });

  it('a call whose argument throws while it is read (a getter) leaves no step behind: later steps seek', () => {
    const r = live(`
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const d = L.iommu_paging_domain_alloc(L.lab.add_device('nic0', { iommu })) as L.IommuDomain;
      const sg = [{ paddr: 0x8000_0000, get length(): number { throw new Error('getter'); } }];
      try { L.iommu_map_sg(d, 0x100000, sg, 3); } catch (e) { console.log(String(e)); }
      L.iommu_map(d, 0x200000, 0x8000_0000, 0x1000, 3);
      L.lab.advance_time(1);
    `);
    const session = r.session!;
    expect(r.console.map((l) => l.text)).toEqual(['Error: getter']);
    for (let n = 0; n <= session.steps; n++)
      expect(snapshot(session.seek(n))).toEqual(snapshot(session.stateAt(n)));
  });

  it("an API call from a getter in another call's arguments is refused: no step inside a step, nothing unrecorded", () => {
    // The getter is read by the call log, the trace and the call itself: each nested call would be
    // a step inside a step, or (while the call runs) a change no step records.
    const r = live(`
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const d = L.iommu_paging_domain_alloc(L.lab.add_device('nic0', { iommu })) as L.IommuDomain;
      const sg = [{ paddr: 0x8000_0000, get length(): number { L.iommu_map(d, 0x900000, 0x9000_0000, 0x1000, 3); return 0x1000; } }];
      try { L.iommu_map_sg(d, 0x100000, sg, 3); } catch (e) { console.log(String(e)); }
      L.iommu_map(d, 0x300000, 0x8000_0000, 0x1000, 3);
      // Only the last map happened: neither the getter's map nor the map_sg.
      console.log([0x900000, 0x100000, 0x300000].map((iova) => L.iommu_iova_to_phys(d, iova)).join());
    `);
    expect(r.status).toBe('passed');
    expect(r.console.map((l) => l.text)).toEqual([
      'Error: iommu_map was called while iommu_map_sg was reading its arguments (from a getter, a Proxy or a conversion in them): API calls cannot nest, as each call is one step; pass plain values',
      '0,0,2147483648',
    ]);
    const session = r.session!;
    // One call event a step: no step was made inside another.
    const steps = session.trace.query(0, 100, { names: ['api_call'] }).events.map((e) => e.step);
    expect(steps).toEqual(Array.from({ length: session.steps }, (_, i) => i + 1));
    for (let n = 0; n <= session.steps; n++)
      expect(snapshot(session.seek(n))).toEqual(snapshot(session.stateAt(n)));
  });

  it('a bigint, a function or a symbol replays as one of its kind: refused where the run was refused, a cookie by identity', () => {
    const r = live(`
      try { L.lab.add_iommu(7n as any, 'arm-smmu-v3'); } catch (e) { console.log((e as Error).name); }
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      try { L.lab.add_device('a', { iommu, group: (() => 'g0') as any }); } catch (e) { console.log((e as Error).name); }
      const dev = L.lab.add_device('b', { iommu });
      const mine = Symbol('vfio');
      console.log(L.iommu_device_claim_dma_owner(dev, mine), L.iommu_device_claim_dma_owner(dev, mine));
      console.log(L.iommu_device_claim_dma_owner(dev, Symbol('vfio')));
    `);
    const session = r.session!;
    expect(r.console.map((l) => l.text)).toEqual(['TypeError', 'TypeError', '0 0', '-1']); // -EPERM: another owner
    const digest = session.trace.digest();
    for (let n = 0; n <= session.steps; n++)
      expect(snapshot(session.seek(n))).toEqual(snapshot(session.stateAt(n)));
    expect(session.stateAt(session.steps).devices.map((d) => d.name)).toEqual(['b']);
    expect(session.trace.digest()).toBe(digest);
  });

  it('a frozen sg list is refused before anything is mapped, in the run and in its replay', () => {
    const r = live(`
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const dev = L.lab.add_device('nic0', { iommu });
      const pa = L.lab.mem.alloc(0x2000);
      const sg = Object.freeze([Object.freeze({ paddr: pa, length: 0x1000 }), { paddr: pa + 0x1000, length: 0x1000 }]);
      try { L.dma_map_sg(dev, sg, L.DMA_TO_DEVICE); } catch (e) { console.log((e as Error).message); }
      const open = [{ paddr: pa, length: 0x1000 }];
      console.log(L.dma_map_sg(dev, open, L.DMA_TO_DEVICE), (open[0] as any).dma_length);
    `);
    const session = r.session!;
    expect(r.console.map((l) => l.text)).toEqual([
      'sg[0] cannot take dma_address: dma_map_sg writes dma_address and dma_length into each entry, as Linux fills in the scatterlist (pass entries that are not frozen)',
      '1 4096',
    ]);
    expect(domainCards(session.machine).map((c) => c.mappingBytes)).toEqual([0x1000]); // the refused list mapped nothing
    for (let n = 0; n <= session.steps; n++)
      expect(snapshot(session.seek(n))).toEqual(snapshot(session.stateAt(n)));
  });

  it('a spec given as a class instance or a null-prototype object replays as the call saw it', () => {
    const r = live(`
      class Spec { constructor(public iommu: L.Iommu) {} }
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      L.lab.add_device('a', new Spec(iommu));
      const spec = Object.create(null);
      spec.iommu = iommu;
      L.lab.add_device('b', spec);
    `);
    const session = r.session!;
    expect(r.error).toBeUndefined();
    const rebuilt = session.stateAt(session.steps); // seek(steps) would show the live lab itself
    expect(rebuilt.devices.map((d) => d.name)).toEqual(['a', 'b']);
    expect(snapshot(rebuilt)).toEqual(snapshot(session.machine));
  });

  it('arguments that are no numbers are traced as text, and a replay traces the same text', () => {
    const r = live(`
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const dev = L.lab.add_device('nic0', { iommu });
      const d = L.iommu_paging_domain_alloc(dev) as L.IommuDomain;
      try { L.iommu_attach_device(L.ERR_PTR(-22) as any, dev); } catch {}
      for (const v of [NaN, null, 'x', () => 1, 10n, [1, 2, 3, 4, 5], new Uint8Array(8), { a: { b: { c: 1 } } }])
        try { L.iommu_map(d, v as any, 0x8000_0000, 0x1000, 3); } catch {}
      L.iommu_device_claim_dma_owner(dev, { who: 'vfio' });
      (L.iommu_device_release_dma_owner as any)(dev, { past: 'its parameters' });
      L.iommu_domain_free(d);
      try { L.iommu_map(d, 0, 0x8000_0000, 0x1000, 3); } catch {}
    `);
    const session = r.session!;
    expect(r.error).toBeUndefined();
    const rows: string[] = [];
    for (let i = 0; i < session.trace.length; i++)
      if (session.trace.event(i).name === 'api_call')
        rows.push(session.trace.format(i).replace('api_call fn=', ''));
    expect(rows.slice(3, 13)).toEqual([
      'iommu_attach_device a0=ERR_PTR(-EINVAL) a1=device nic0',
      'iommu_map a0=domain 2 a1=NaN a2=0x80000000 a3=0x1000 a4=0x3',
      'iommu_map a0=domain 2 a1=NULL a2=0x80000000 a3=0x1000 a4=0x3',
      'iommu_map a0=domain 2 a1="x" a2=0x80000000 a3=0x1000 a4=0x3',
      // A function, a bigint: as the string the call log keeps of them (and a replay passes), a
      // function without the instrumenter's guard calls.
      'iommu_map a0=domain 2 a1="() => (1)" a2=0x80000000 a3=0x1000 a4=0x3',
      'iommu_map a0=domain 2 a1="10" a2=0x80000000 a3=0x1000 a4=0x3',
      'iommu_map a0=domain 2 a1=[1, 2, 3, 4, …] a2=0x80000000 a3=0x1000 a4=0x3',
      'iommu_map a0=domain 2 a1=Uint8Array(8) a2=0x80000000 a3=0x1000 a4=0x3',
      'iommu_map a0=domain 2 a1={a: {b: {…}}} a2=0x80000000 a3=0x1000 a4=0x3',
      // An owner cookie by identity only; an argument past the entry's own not at all.
      'iommu_device_claim_dma_owner a0=device nic0 a1={…}',
    ]);
    expect(rows[13]).toBe('iommu_device_release_dma_owner a0=device nic0');
    const digest = session.trace.digest();
    for (let n = 0; n <= session.steps; n++)
      expect(snapshot(session.seek(n))).toEqual(snapshot(session.stateAt(n)));
    expect(session.trace.digest()).toBe(digest);
  });

  it('a call cut off by the time limit is cut at the same event when replayed; the trace does not grow', () => {
    const r = live(
      `
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const dev = L.lab.add_device('nic0', { iommu });
      const d = L.iommu_paging_domain_alloc(dev) as L.IommuDomain;
      const sg = Array.from({ length: 20_000 }, (_, i) => ({ paddr: 0x8000_0000 + 2 * i * 0x1000, length: 0x1000 }));
      for (let i = 0; ; i++) L.iommu_map_sg(d, i * 0x1_0000_0000, sg, 3);
    `,
      300,
    );
    expect(r.error?.message).toMatch(/time/i);
    const session = r.session!;
    const events = session.trace.length;
    const digest = session.trace.digest();
    while (!session.buildCheckpoints(50));
    expect(session.trace.length).toBe(events);
    expect(session.trace.digest()).toBe(digest);
    expect(snapshot(session.stateAt(session.steps))).toEqual(snapshot(session.machine));
  });

  it('a replay that cannot match the run throws, and a seek after it still works', () => {
    // The getter answers the call log and the call differently: the replay maps another size.
    const r = live(`
      const iommu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const dev = L.lab.add_device('nic0', { iommu });
      const d = L.iommu_paging_domain_alloc(dev) as L.IommuDomain;
      let reads = 0;
      L.iommu_map_sg(d, 0x10_0000, [{ paddr: 0x8000_0000, get length() { return reads++ === 0 ? 0x2000 : 0x1000; } }], 3);
      L.iommu_map(d, 0x40_0000, 0x9000_0000, 0x1000, 3);
    `);
    const session = r.session!;
    expect(() => session.stateAt(4)).toThrow(/diverged/);
    session.seek(0);
    expect(() => session.seek(4)).toThrow(/diverged/);
    // The half-replayed state was dropped: the steps before the bad one rebuild as before.
    for (const n of [3, 2, 3]) expect(snapshot(session.seek(n))).toEqual(snapshot(session.stateAt(n)));
  });
});
