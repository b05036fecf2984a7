import { describe, expect, it } from 'vitest';
import type * as Api from './iommu-lab.d.ts';
import { API_ENTRIES, API_ARITY, API_NAMES, MAX_API_ARGS, apiId } from './api.ts';
import { createLabModule } from './module.ts';
import { runScript } from './run-script.ts';
import { domainCards } from './panels.ts';

function lab() {
  const { exports, session } = createLabModule({});
  const L = exports as unknown as typeof Api;
  const log = (session as unknown as { ctx: { log: import('./call-log.ts').CallLog } }).ctx.log;
  return { L, session, log };
}

describe('API entries', () => {
  it('read no more arguments than they record, and at most MAX_API_ARGS', () => {
    for (let id = 0; id < API_ENTRIES.length; id++) {
      // impl(ctx, ...params): its declared parameters past ctx are what a step can read.
      expect(API_ENTRIES[id].impl.length - 1, API_NAMES[id]).toBeLessThanOrEqual(API_ARITY[id]);
      expect(API_ARITY[id], API_NAMES[id]).toBeLessThanOrEqual(MAX_API_ARGS);
    }
  });
});

describe('CallLog', () => {
  it('records numbers exactly (−0, fractions, above 2^32, NaN), handles by key and the rare values on the side', () => {
    const { L, log } = lab();
    const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
    const dev = L.lab.add_device('dev0', {
      iommu: smmu,
      resv: [{ start: 0x1000, length: 0x1000, type: 'direct' }],
    });
    const d = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    L.iommu_map(d, 0x1_2345_6000, 0x8000_0000, 0x1000, 3);
    expect(() => L.iommu_map(d, -0, 0.5, NaN, Infinity)).toThrow(RangeError);
    L.iommu_map_sg(d, 0x10_0000, [{ paddr: 0x9000_0000, length: 0x2000 }], 1);
    L.lab.mem.write(0x1000, [1, 2, 3]);
    const owner = {};
    L.iommu_device_claim_dma_owner(dev, owner);
    const err = L.ERR_PTR(-22);
    expect(() => L.iommu_map(err as never, 0, 0, 0x1000, 0)).toThrow(TypeError);

    const steps = log.length;
    const all = Array.from({ length: steps }, (_, i) => log.entry(i));
    const named = all.map((e) => [API_NAMES[e.fn], ...e.args]);
    expect(named[0]).toEqual(['lab.add_iommu', 'smmu0', 'arm-smmu-v3', undefined]);
    expect(named[1]).toEqual([
      'lab.add_device',
      'dev0',
      { iommu: { $h: 'i:smmu0' }, resv: [{ start: 0x1000, length: 0x1000, type: 'direct' }] },
    ]);
    expect(named[2]).toEqual(['iommu_paging_domain_alloc', { $h: 'v:dev0' }]);
    expect(named[3]).toEqual(['iommu_map', { $h: `d:${d.id}` }, 0x1_2345_6000, 0x8000_0000, 0x1000, 3]);
    const odd = all[4].args;
    expect(Object.is(odd[1], -0)).toBe(true);
    expect(odd.slice(2)).toEqual([0.5, NaN, Infinity]);
    expect(named[5]).toEqual([
      'iommu_map_sg',
      { $h: `d:${d.id}` },
      0x10_0000,
      [{ paddr: 0x9000_0000, length: 0x2000 }],
      1,
    ]);
    expect(named[6]).toEqual(['lab.mem.write', 0x1000, [1, 2, 3]]);
    expect(named[7]).toEqual(['iommu_device_claim_dma_owner', { $h: 'v:dev0' }, { $o: 0 }]);
    expect(named[8]).toEqual(['iommu_map', { $e: -22 }, 0, 0, 0x1000, 0]);
    expect(all.map((e) => e.fn)).toEqual([
      apiId('lab.add_iommu'),
      apiId('lab.add_device'),
      apiId('iommu_paging_domain_alloc'),
      apiId('iommu_map'),
      apiId('iommu_map'),
      apiId('iommu_map_sg'),
      apiId('lab.mem.write'),
      apiId('iommu_device_claim_dma_owner'),
      apiId('iommu_map'),
    ]);
    // Out of order reads find their step through the marks.
    expect(log.entry(3)).toEqual(all[3]);
    expect(log.entry(0)).toEqual(all[0]);
  });

  it('keeps a million steps in a few tens of bytes each', () => {
    const { L, log } = lab();
    const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
    const dev = L.lab.add_device('dev0', { iommu: smmu });
    const d = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    const n = 200_000;
    for (let i = 0; i < n; i++) L.iommu_iova_to_phys(d, 0x1_0000_0000 + i * 0x1000);
    expect(log.length).toBe(n + 3);
    // Entry 2 B, tags 2 B, units: slot 2 B + iova 8 B, and the first block's doubling.
    expect(log.bytes() / n).toBeLessThan(20);
    const mid = log.entry(n / 2 + 3);
    expect(mid.args).toEqual([{ $h: `d:${d.id}` }, 0x1_0000_0000 + (n / 2) * 0x1000]);
    // In order across the boundaries of the log's blocks (65,536 steps each), and back again.
    for (const from of [65_530, 131_066, 65_530])
      for (let i = from; i < from + 12; i++)
        expect(log.entry(i).args[1]).toBe(0x1_0000_0000 + (i - 3) * 0x1000);
  });
});

describe('CallLog memory', () => {
  it("records into a released log's blocks exactly as into fresh ones", () => {
    const steps = (n: number, base: number) => {
      const { L, log } = lab();
      const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
      const dev = L.lab.add_device('dev0', { iommu: smmu });
      const d = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
      for (let i = 0; i < n; i++) L.iommu_iova_to_phys(d, base + i * 0x1000);
      return log;
    };
    const entries = (log: ReturnType<typeof lab>['log'], from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => log.entry(from + k));
    const old = steps(140_000, 2 ** 44);
    old.release();
    expect(old.length).toBe(0);
    const reused = steps(100_000, 0x1000); // takes the released blocks
    const fresh = steps(100_000, 0x1000);
    expect(reused.length).toBe(fresh.length);
    expect(entries(reused, 65_530, 65_560)).toEqual(entries(fresh, 65_530, 65_560));
    expect(entries(reused, reused.length - 20, reused.length)).toEqual(
      entries(fresh, fresh.length - 20, fresh.length),
    );
  });
});

describe('replay of owner cookies and gathers', () => {
  it('passes the same owner object wherever the script did, and numbers gathers as the run did', () => {
    const source = [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_device_claim_dma_owner, iommu_device_release_dma_owner, iommu_iotlb_gather_init, iommu_unmap_fast, iommu_iotlb_sync, iommu_map, expect } from 'iommu-lab';",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "const dev = lab.add_device('dev0', { iommu: smmu });",
      'const owner = {};',
      'expect(iommu_device_claim_dma_owner(dev, owner)).toBe(0);',
      'expect(iommu_device_claim_dma_owner(dev, owner)).toBe(0);',
      'expect(iommu_device_claim_dma_owner(dev, {})).toBeLessThan(0);',
      'iommu_device_release_dma_owner(dev);',
      'iommu_device_release_dma_owner(dev);',
      'class Cookie {}',
      'expect(iommu_device_claim_dma_owner(dev, new Cookie())).toBe(0);',
      'iommu_device_release_dma_owner(dev);',
      'const d = iommu_paging_domain_alloc(dev);',
      'expect(iommu_attach_device(d, dev)).toBe(0);',
      'iommu_map(d, 0x10000, 0x80000000, 0x2000, 3);',
      'const g = iommu_iotlb_gather_init();',
      'iommu_unmap_fast(d, 0x10000, 0x1000, g);',
      'iommu_iotlb_sync(d, g);',
      'const g2 = iommu_iotlb_gather_init();',
      'iommu_unmap_fast(d, 0x11000, 0x1000, g2);',
      'iommu_iotlb_sync(d, g2);',
    ].join('\n');
    const r = runScript({ fileName: 'cookies.ts', source });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('passed');
    const session = r.session!;
    // Every step rebuilt from the log alone: a replay that diverged from the recorded trace throws.
    for (let n = 0; n <= session.steps; n++) expect(() => session.stateAt(n)).not.toThrow();
    expect(domainCards(session.stateAt(session.steps))).toEqual(domainCards(session.machine));
    for (const n of [session.steps - 1, 3, session.steps - 4, 0]) expect(() => session.seek(n)).not.toThrow();
  });
});
