/**
 * The module's contract at its boundary (SCRIPT-API.md "Conventions"): arguments checked with errors
 * that name them, stable handles, error pointers, constants, and the named checks with their switch.
 */
import { describe, expect, it } from 'vitest';
import type * as Api from './iommu-lab.d.ts';
import { createLabModule } from './module.ts';

function lab(opts: Parameters<typeof createLabModule>[0] = {}) {
  const L = createLabModule(opts).exports as unknown as typeof Api;
  const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
  const dev = L.lab.add_device('dev0', { iommu: smmu });
  const domain = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
  return { L, smmu, dev, domain };
}

describe('argument checks', () => {
  const { L, dev, domain } = lab();
  it.each([
    ['a negative', -0x1000],
    ['a fraction', 4096.5],
    ['NaN', NaN],
    ['past 2^53 − 1', 2 ** 53],
    ['a bigint', 0x1000n],
    ['a string', '0x1000'],
  ])('iommu_map refuses %s IOVA with a RangeError naming iova', (_what, iova) => {
    expect(() => L.iommu_map(domain, iova as number, 0x8000_0000, 0x1000, 3)).toThrow(RangeError);
    expect(() => L.iommu_map(domain, iova as number, 0x8000_0000, 0x1000, 3)).toThrow(/iova/);
  });

  it('dma_map_sg and dma_unmap_sg refuse a list that is not an array of entries, naming it', () => {
    const { L, dev, domain } = lab();
    for (const f of [L.dma_map_sg, L.dma_unmap_sg])
      for (const bad of [null, undefined, 5, {}])
        expect(() => f(dev, bad as unknown as Api.SgEntry[], L.DMA_BIDIRECTIONAL)).toThrow(
          /^sg must be an array of \{paddr, length\}/,
        );
    expect(() => L.dma_unmap_sg(dev, [{ paddr: 0, length: 0x1000 }, null] as never, 0)).toThrow(
      /sg\[1\] must be an object/,
    );
    // A sparse list's hole is no entry either (Array.prototype.map would skip it).
    const holey: Api.SgEntry[] = [];
    holey[1] = { paddr: 0x8000_0000, length: 0x1000 };
    for (const f of [L.dma_map_sg, L.dma_unmap_sg])
      expect(() => f(dev, holey, L.DMA_BIDIRECTIONAL)).toThrow(
        'sg[0] must be an object {paddr, length} (got a hole)',
      );
    expect(() => L.iommu_map_sg(domain, 0x10_0000, holey, 3)).toThrow('(got a hole)');
  });

  it('names the argument that is wrong, not the first one', () => {
    expect(() => L.iommu_map(domain, 0x1000, 0x8000_0000, -1, 3)).toThrow(/size/);
    expect(() => L.iommu_unmap(domain, 0x1000, 2 ** 60)).toThrow(/size/);
  });

  it('refuses a range that ends past 2^53, naming both arguments, where the answer would not be exact', () => {
    const top = 2 ** 53 - 0x1000;
    expect(L.iommu_map(domain, top, 0x8000_0000, 0x1000, 3)).toBe(-L.ERANGE); // ends at 2^53: fine
    for (const call of [
      () => L.iommu_map(domain, top - 0x1000, 0x8000_0000, 0x4000, 3),
      () => L.iommu_map(domain, 0x1000, top, 0x4000, 3),
      () => L.iommu_unmap(domain, top - 0x1000, 0x4000),
      () => L.iommu_unmap_fast(domain, top, 0x2000, L.iommu_iotlb_gather_init()),
      () => L.iommu_map_sg(domain, top, [{ paddr: 0x8000_0000, length: 0x2000 }], 3),
      () => dev.dma_read(2 ** 53 - 1, 2),
      () => dev.dma_write(2 ** 53 - 1, [1, 2]),
      () => L.lab.mem.read(2 ** 53 - 1, 2),
      () => L.lab.mem.write(2 ** 53 - 1, [1, 2]),
      () => L.dma_map_single(dev, 2 ** 53 - 1, 0x1000, L.DMA_TO_DEVICE),
      () => L.dma_unmap_single(dev, top, 0x2000, L.DMA_TO_DEVICE),
    ])
      expect(call).toThrow(/(iova|paddr|dma_addr) \+ (size|the list|length|bytes.length) must end by 2\^53/);
    // Both addresses of a coherent buffer, each named.
    expect(() => L.dma_free_coherent(dev, 0x2000, top, 0x10000)).toThrow(
      "cpu_addr + size must end by 2^53, where the lab's addresses stop being exact (got 0x1ffffffffff000 + 0x2000)",
    );
    expect(() => L.dma_free_coherent(dev, 0x2000, 0x10000, top)).toThrow(
      /^dma_handle \+ size must end by 2\^53/,
    );
  });

  it('a device access moves at most 64 MiB: a gigabyte in one step would outlast any time limit', () => {
    const { L, dev, domain } = lab();
    L.iommu_attach_device(domain, dev);
    expect(L.iommu_map(domain, L.SZ_1G, 4 * L.SZ_1G, L.SZ_1G, L.IOMMU_READ | L.IOMMU_WRITE)).toBe(0);
    expect(() => dev.dma_read(L.SZ_1G, L.SZ_1G)).toThrow(
      'length must be at most 64 MiB (0x4000000) for one device access; split a larger transfer (got 0x40000000)',
    );
    expect(() => dev.dma_write(L.SZ_1G, new Uint8Array(64 * 2 ** 20 + 1))).toThrow(
      /^bytes.length must be at most 64 MiB/,
    );
    // 64 MiB through the 1G block, read into one buffer: what lies at its end comes back there.
    L.lab.mem.write(4 * L.SZ_1G + 64 * 2 ** 20 - 2, [0xab, 0xcd]);
    const r = dev.dma_read(L.SZ_1G, 64 * 2 ** 20);
    expect(r.ok && [...r.data!.subarray(-3)]).toEqual([0, 0xab, 0xcd]);
  });

  it('dma_mapping_error checks its arguments as every other call does', () => {
    expect(L.dma_mapping_error(dev, L.DMA_MAPPING_ERROR)).toBe(-L.ENOMEM);
    expect(L.dma_mapping_error(dev, 0x1000)).toBe(0);
    expect(() => L.dma_mapping_error(domain as never, 0)).toThrow('dev must be a Device from lab.add_device');
    expect(() => L.dma_mapping_error(dev, 'x' as never)).toThrow(/dma_addr/);
  });

  it('lab.mem.alloc takes an alignment, so a buffer can be mapped with a 2M page; a bad one is named', () => {
    const { L, domain } = lab();
    const pa = L.lab.mem.alloc(L.SZ_2M, L.SZ_2M);
    expect(pa % L.SZ_2M).toBe(0);
    expect(L.iommu_pgsize(domain, 0x4000_0000, pa, L.SZ_2M).pgsize).toBe(L.SZ_2M);
    for (const bad of [3, 0, 2 * L.SZ_1G])
      expect(() => L.lab.mem.alloc(L.SZ_4K, bad)).toThrow(
        `align must be a power of two up to SZ_1G (got ${bad})`,
      );
  });

  it('refuses to advance the clock past 2^53 ms, where it would stop counting exactly', () => {
    L.lab.advance_time(2 ** 52);
    expect(() => L.lab.advance_time(2 ** 52)).toThrow(/ms would take the clock past 2\^53 ms/);
    expect(L.lab.now()).toBe(2 ** 52);
  });

  it('refuses an object that is not a handle with a TypeError naming the parameter', () => {
    expect(() => L.iommu_map({ id: 1 } as unknown as Api.IommuDomain, 0, 0, 0x1000, 3)).toThrow(TypeError);
    expect(() => L.iommu_attach_device(domain, {} as Api.Device)).toThrow(/dev must be a Device/);
    expect(() => L.iommu_map(L.ERR_PTR(-22) as unknown as Api.IommuDomain, 0, 0, 0x1000, 3)).toThrow(
      /IS_ERR/,
    );
  });

  it('names the handle given where another kind belongs (arguments swapped)', () => {
    const dev = L.lab.add_device('swap0', { iommu: L.lab.add_iommu('swapmmu', 'arm-smmu-v3') });
    expect(() =>
      L.iommu_attach_device(dev as unknown as Api.IommuDomain, domain as unknown as Api.Device),
    ).toThrow('domain must be an IommuDomain (got device swap0)');
    expect(() => L.iommu_group_get(domain as unknown as Api.Device)).toThrow(
      `dev must be a Device from lab.add_device (got domain ${domain.id})`,
    );
  });

  it('lists what is accepted for an unknown driver or option', () => {
    expect(() => L.lab.add_iommu('x', 'no-such-iommu' as 'arm-smmu-v3')).toThrow(/arm-smmu-v3.*intel-iommu/);
    expect(() => L.lab.add_iommu('y', 'arm-smmu-v3', { ias: 47 } as Api.ArmSmmuV3Options)).toThrow(
      /ias.*48, 52/,
    );
    expect(() => L.lab.add_iommu('z', 'arm-smmu-v3', { colour: 'red' } as never)).toThrow(
      /no option 'colour'.*granule/,
    );
    expect(() => L.lab.add_iommu('y', 'virtio-iommu', { input_range: [0, 2 ** 53 + 2] })).toThrow(
      /input_range' must be \[start, end\]: two integers from 0 to 2\^53 − 1/,
    );
    expect(() =>
      L.lab.add_device('d', {
        iommu: L.lab.add_iommu('w', 'arm-smmu-v3'),
        resv: [{ start: 0, length: 0x1000, type: 'nope' as 'direct' }],
      }),
    ).toThrow(/spec.resv\[0\].type/);
    expect(() =>
      L.lab.add_device('d', {
        iommu: L.lab.add_iommu('v', 'arm-smmu-v3'),
        resv: [{ start: Number.MAX_SAFE_INTEGER, length: 2, type: 'reserved' }],
      }),
    ).toThrow(/spec.resv\[0\]: start \+ length must not pass 2\^53/);
    // A misspelt field is named, not dropped (the region would have lost its prot).
    expect(() =>
      L.lab.add_device('d', {
        iommu: L.lab.add_iommu('u', 'arm-smmu-v3'),
        resv: [{ start: 0x1000, length: 0x1000, type: 'direct', prto: 1 } as Api.ResvRegionSpec],
      }),
    ).toThrow(/spec.resv\[0\]: unknown field 'prto'; a region has start, length, type, prot/);
  });

  it('shows the value it refuses as the script wrote it: a bigint, a Symbol, NaN', () => {
    const smmu = (o: object) => () => L.lab.add_iommu('s', 'arm-smmu-v3', o as Api.ArmSmmuV3Options);
    expect(smmu({ tlb_entries: 16n })).toThrow(/option 'tlb_entries' must be .* \(got 16n \(a bigint\)\)/);
    expect(smmu({ ias: Symbol('x') })).toThrow(/option 'ias' must be one of 48, 52 \(got Symbol\(x\)\)/);
    expect(smmu({ oas: NaN })).toThrow(/\(got NaN\)/);
    expect(() => L.lab.add_iommu('z', 's390-iommu', { start_dma: -1 })).toThrow(
      /start_dma' must be a non-negative safe integer \(got -1\)/,
    );
    let n = 0;
    const resv = (r: object) => () =>
      L.lab.add_device('r', {
        iommu: L.lab.add_iommu(`m${++n}`, 'arm-smmu-v3'),
        resv: [r as Api.ResvRegionSpec],
      });
    expect(resv({ start: 4096n, length: 4096, type: 'direct' })).toThrow(
      /resv\[0\].start .* \(got 4096n \(a bigint\)\)/,
    );
    expect(resv({ start: 4096, length: 4096, type: 1n })).toThrow(
      /resv\[0\].type .* \(got 1n \(a bigint\)\)/,
    );
    expect(() => L.lab.seed(2 ** 60)).toThrow(/must be a safe integer/);
    // 32 bits of state, as --seed takes: 2 ** 32 would have been seed 0 and -1 seed 0xffffffff.
    expect(() => L.lab.seed(2 ** 32)).toThrow('n must be a whole number from 0 to 4294967295');
    expect(() => L.lab.seed(-1)).toThrow(RangeError);
    L.lab.seed(0xffffffff);
  });

  it('refuses bytes that are not byte values, a hole in the array too', () => {
    const pa = L.lab.mem.alloc(0x1000);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => L.lab.mem.write(pa, [, 1] as number[])).toThrow(
      'bytes[0] must be a byte value 0–255 (got a hole)',
    );
    expect(() => L.lab.mem.write(pa, [1, 256])).toThrow(/bytes\[1\] must be a byte value 0–255 \(got 256/);
    L.lab.mem.write(pa, [1, 2]);
    expect([...L.lab.mem.read(pa, 2)]).toEqual([1, 2]);
  });

  it('gives every 32-bit seed its own sequence, and the same seed the same one', () => {
    const { L } = lab();
    const firstFour = (seed: number) => {
      L.lab.seed(seed);
      return [L.lab.random(), L.lab.random(), L.lab.random(), L.lab.random()];
    };
    // 0 and 0x9e3779b9 were one sequence while the generator had no zero state.
    const seeds = [0, 1, 2, 0x9e3779b9, 0x8000_0000, 0xffff_ffff];
    const firsts = seeds.map((s) => firstFour(s)[0]);
    expect(new Set(firsts).size).toBe(seeds.length);
    expect(firstFour(0)).toEqual(firstFour(0));
    for (const x of seeds.flatMap(firstFour)) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('refuses a read longer than one Uint8Array can hold, naming the length', () => {
    const { L, dev } = lab();
    expect(() => L.lab.mem.read(0x4000_0000, 2 ** 40)).toThrow(
      /length must be at most 4 GiB .* \(got 0x10000000000\)/,
    );
    expect(() => dev.dma_read(0x1000, 2 ** 40)).toThrow(/length must be at most 4 GiB/);
    expect(L.lab.mem.read(0x4000_0000, 0)).toHaveLength(0);
  });

  it('refuses firmware regions for a device behind a driver that never reports them', () => {
    for (const [driver, kernel] of [
      ['omap-iommu', 'v6.16'],
      ['tegra-gart', 'v6.6'],
      ['s390-iommu', 'v6.16'],
    ] as const) {
      const L = createLabModule({ kernel }).exports as unknown as typeof Api;
      const iommu = L.lab.add_iommu('iommu0', driver);
      const resv = [{ start: 0x1000_0000, length: 0x1000, type: 'direct' as const }];
      expect(() =>
        L.lab.add_device('dev0', { iommu, resv, bus: driver === 's390-iommu' ? 'pci' : 'platform' }),
      ).toThrow(new RegExp(`spec.resv: ${driver} .* no effect`));
    }
  });

  it('refuses, on x86, a region type firmware never describes there (intel: RMRRs; amd: IVMD unity maps and exclusion ranges)', () => {
    const region = (type: Api.ResvRegionSpec['type']) => [{ start: 0x1000_0000, length: 0x1000, type }];
    for (const [driver, ok, refused] of [
      ['intel-iommu', ['direct', 'direct-relaxable'], ['reserved', 'msi', 4]],
      ['amd-iommu', ['direct', 'reserved'], ['direct-relaxable', 'msi', 4]],
    ] as const) {
      const L = createLabModule({}).exports as unknown as typeof Api;
      const iommu = L.lab.add_iommu('iommu0', driver);
      let n = 0;
      for (const type of ok) L.lab.add_device(`ok${n++}`, { iommu, resv: region(type) });
      for (const type of refused)
        expect(() => L.lab.add_device(`no${n++}`, { iommu, resv: region(type) })).toThrow(
          new RegExp(`spec.resv\\[0\\]: firmware describes only .* for ${driver} devices`),
        );
    }
  });

  it('lab.kernel() after hardware exists says why it cannot change', () => {
    expect(() => L.lab.kernel('v6.6')).toThrow(/before any lab.add_iommu/);
    expect(() => L.lab.kernel('v6.16')).toThrow(/before any lab.add_iommu/);
    expect(L.lab.kernel()).toBe('v6.16');
  });

  it('a function the kernel era lacks throws naming the version', () => {
    expect(() => L.iommu_domain_alloc(L.lab.bus('pci'))).toThrow(
      /iommu_domain_alloc\(\) was removed in v6.13/,
    );
    const old = createLabModule({ kernel: 'v6.8' }).exports as unknown as typeof Api;
    const s = old.lab.add_iommu('s', 'arm-smmu-v3');
    const d = old.lab.add_device('d', { iommu: s });
    expect(() => old.iommu_paging_domain_alloc(d)).toThrow(/was added in v6.11/);
  });
});

describe('freeing a domain', () => {
  it('while a device is attached is a use after free: the check names the domain and the device', () => {
    const { L, dev, domain } = lab();
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    L.iommu_domain_free(domain);
    expect(L.lab.checks().map((c) => [c.id, c.message])).toEqual([
      ['domain-freed-while-attached', expect.stringMatching(/domain 2 while dev0 is attached/)],
    ]);
    // Never attached, it is an ordinary free.
    L.iommu_domain_free(L.iommu_paging_domain_alloc(dev) as Api.IommuDomain);
    expect(L.lab.checks()).toHaveLength(1);
  });
});

describe('IOMMU drivers per system', () => {
  it('refuses a second driver before v6.8, as iommu_device_register did (-EBUSY)', () => {
    const L = createLabModule({ kernel: 'v6.6' }).exports as unknown as typeof Api;
    L.lab.add_iommu('smmu0', 'arm-smmu-v3');
    L.lab.add_iommu('smmu1', 'arm-smmu-v3');
    expect(() => L.lab.add_iommu('amd0', 'amd-iommu')).toThrow(
      /amd-iommu cannot register next to smmu0 \(arm-smmu-v3\).*-EBUSY.*v6\.6/,
    );
    // Nothing was half-made: the name is still free.
    expect(() => L.lab.add_iommu('amd0', 'arm-smmu-v3')).not.toThrow();
  });

  it('lets drivers share the system from v6.8; a foreign domain is refused at attach (-EINVAL)', () => {
    const L = createLabModule({ kernel: 'v6.8' }).exports as unknown as typeof Api;
    const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
    const amd = L.lab.add_iommu('amd0', 'amd-iommu');
    L.lab.add_device('dma0', { iommu: smmu, bus: 'platform' });
    const gpu = L.lab.add_device('gpu0', { iommu: amd });
    const d = L.iommu_domain_alloc(L.lab.bus('platform'));
    expect(L.IS_ERR(d)).toBe(false);
    expect(L.iommu_attach_device(d as Api.IommuDomain, gpu)).toBe(-L.EINVAL);
  });

  it("v6.8: iommu_domain_alloc(bus) with two drivers' devices on the bus WARNs and returns NULL", () => {
    const L = createLabModule({ kernel: 'v6.8' }).exports as unknown as typeof Api;
    L.lab.add_device('nic0', { iommu: L.lab.add_iommu('smmu0', 'arm-smmu-v3') });
    L.lab.add_device('gpu0', { iommu: L.lab.add_iommu('amd0', 'amd-iommu') });
    expect(L.iommu_domain_alloc(L.lab.bus('pci'))).toBe(null);
    expect(L.lab.checks().map((c) => c.id)).toContain('multiple-iommu-drivers');
  });

  it('v6.6: iommu_domain_alloc(bus) uses the registered driver even with no device on that bus (bus->iommu_ops)', () => {
    const L = createLabModule({ kernel: 'v6.6' }).exports as unknown as typeof Api;
    L.lab.add_iommu('smmu0', 'arm-smmu-v3');
    const d = L.iommu_domain_alloc(L.lab.bus('platform'));
    expect(d && !L.IS_ERR(d) ? d.type : d).toBe(L.IOMMU_DOMAIN_UNMANAGED);
  });
});

describe('a failed attach', () => {
  it('leaves the device on its old domain, the device that failed included (err_revert up to last_gdev)', () => {
    // intel-iommu detaches the device before it finds the domain too wide for the unit.
    const L = createLabModule({ kernel: 'v6.16' }).exports as unknown as typeof Api;
    const wide = L.lab.add_iommu('dmar0', 'intel-iommu', { agaw: 48 });
    const narrow = L.lab.add_iommu('dmar1', 'intel-iommu', { agaw: 39 });
    const a = L.lab.add_device('a', { iommu: wide });
    const b = L.lab.add_device('b', { iommu: narrow });
    const buf = L.lab.mem.alloc(0x1000);
    const handle = L.dma_map_single(b, buf, 0x1000, L.DMA_BIDIRECTIONAL);
    const def = L.iommu_get_domain_for_dev(b);
    expect(L.iommu_attach_device(L.iommu_paging_domain_alloc(a) as Api.IommuDomain, b)).toBe(-L.EINVAL);
    expect(L.iommu_get_domain_for_dev(b)).toBe(def);
    expect(b.dma_read(handle, 4)).toMatchObject({ ok: true, pa: buf });
  });
});

describe('iommu_detach_group', () => {
  it('returns the group to its default domain whatever domain it is given, naming a mismatch', () => {
    const { L, dev } = lab();
    const group = L.iommu_group_get(dev)!;
    const def = L.iommu_get_domain_for_dev(dev);
    const d1 = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    const d2 = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    expect(L.iommu_attach_group(d1, group)).toBe(0);
    L.iommu_detach_group(d2, group);
    expect(L.iommu_get_domain_for_dev(dev)).toBe(def);
    expect(L.lab.checks().map((c) => c.id)).toEqual(['detach-not-current-domain']);
    // The matching call is quiet.
    expect(L.iommu_attach_group(d1, group)).toBe(0);
    L.iommu_detach_group(d1, group);
    expect(L.iommu_get_domain_for_dev(dev)).toBe(def);
    expect(L.lab.checks()).toHaveLength(1);
  });
});

describe('iommu_domain_free', () => {
  it('a freed domain cannot be used again: every call naming it throws, a second free too', () => {
    const { L, dev } = lab();
    const d = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    L.iommu_domain_free(d);
    const freed = /domain: domain \d+ was freed \(iommu_domain_free or domain.ops.free\)/;
    expect(() => L.iommu_map(d, 0x10_0000, 0x8000_0000, 0x1000, 3)).toThrow(freed);
    expect(() => L.iommu_attach_device(d, dev)).toThrow(freed);
    expect(() => L.iommu_domain_free(d)).toThrow(freed);
    expect(L.lab.checks()).toEqual([]);
  });
});

describe('iommu_map_sg (facts §2.1)', () => {
  it('merges contiguous entries into one map and maps each run once', () => {
    const { L, dev, domain } = lab();
    L.iommu_attach_device(domain, dev);
    const sg = [
      { paddr: 0x8000_0000, length: 0x1000 },
      { paddr: 0x8000_1000, length: 0x1000 },
      { paddr: 0x9000_0000, length: 0x1000 },
    ];
    const mark = L.lab.trace().length;
    expect(L.iommu_map_sg(domain, 0x10_0000, sg, L.IOMMU_READ)).toBe(0x3000);
    expect(
      L.lab
        .trace()
        .slice(mark)
        .filter((e) => e.name === 'map')
        .map((e) => e.size),
    ).toEqual([0x2000, 0x1000]);
    expect(L.iommu_iova_to_phys(domain, 0x10_2000)).toBe(0x9000_0000);
  });

  it("a last entry of length 0 right after the run leaves that run unmapped, as Linux's loop does", () => {
    const { L, dev, domain } = lab();
    L.iommu_attach_device(domain, dev);
    const sg = [
      { paddr: 0x8000_0000, length: 0x1000 },
      { paddr: 0x8000_1000, length: 0 },
    ];
    expect(L.iommu_map_sg(domain, 0x10_0000, sg, L.IOMMU_READ)).toBe(0);
    expect(L.iommu_iova_to_phys(domain, 0x10_0000)).toBe(0);
  });
});

describe('iommu_pgsize (facts §2.2)', () => {
  it("gives the first step of facts' example, and stops the script where Linux BUG()s", () => {
    const { L, domain } = lab();
    expect(L.iommu_pgsize(domain, 0x1f_f000, 0x7f_f000, 0x20_1000)).toEqual({ pgsize: 0x1000, count: 1 });
    expect(L.iommu_pgsize(domain, 0x20_0000, 0x80_0000, 0x20_0000)).toEqual({ pgsize: 0x20_0000, count: 1 });
    expect(() => L.iommu_pgsize(domain, 0x1000, 0x1000, 0x800)).toThrow(
      /kernel BUG in iommu_pgsize: no page size of pgsize_bitmap 0x40201000 fits iova 0x1000, paddr 0x1000, size 0x800/,
    );
    expect(() => L.iommu_pgsize(domain, 0, 0, 0)).toThrow(/kernel BUG/);
  });
});

describe('lab.trace()', () => {
  it('gives every event so far, in a new array each call that later calls do not change', () => {
    const { L, domain } = lab();
    const first = L.lab.trace();
    expect(L.iommu_map(domain, 0x10_0000, 0x8000_0000, 0x1000, L.IOMMU_READ)).toBe(0);
    const second = L.lab.trace();
    expect(second.length).toBeGreaterThan(first.length);
    expect(second.slice(0, first.length)).toEqual(first);
    expect(second.map((e) => e.name)).toContain('map');
    (first as unknown[]).length = 0; // a script's own array: emptying it changes nothing else
    expect(L.lab.trace().slice(0, second.length)).toEqual(second);
    expect(Object.isFrozen(second[0])).toBe(true);
  });

  it('records every argument of a call, the sixth of domain.ops.map_pages (prot) too', () => {
    const { L, domain } = lab();
    domain.ops.map_pages!(domain, 0x10_0000, 0x8000_0000, 0x1000, 2, L.IOMMU_READ | L.IOMMU_WRITE);
    const call = L.lab.trace().findLast((e) => e.name === 'api_call')!;
    expect(call).toMatchObject({
      fn: 'domain.ops.map_pages',
      a0: `domain ${domain.id}`,
      a1: 0x10_0000,
      a2: 0x8000_0000,
      a3: 0x1000,
      a4: 2,
      a5: 3,
    });
  });

  it('iommu_domain_alloc carries the type the core gave the domain (DMA-FQ, not the driver UNMANAGED)', () => {
    const L = createLabModule({}).exports as unknown as typeof Api;
    const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
    const dev = L.lab.add_device('dev0', { iommu: smmu, default_domain: 'dma-fq' });
    const def = L.iommu_get_domain_for_dev(dev)!;
    const paging = L.iommu_paging_domain_alloc(dev) as Api.IommuDomain;
    const allocs = L.lab.trace().filter((e) => e.name === 'iommu_domain_alloc');
    expect(allocs.map((e) => [e.domain, e.type])).toEqual([
      [def.id, L.IOMMU_DOMAIN_DMA_FQ],
      [paging.id, L.IOMMU_DOMAIN_UNMANAGED],
    ]);
  });
});

describe('handles', () => {
  it('are stable: the same object every time, as a pointer would be', () => {
    const { L, dev, domain, smmu } = lab();
    expect(L.iommu_group_get(dev)).toBe(L.iommu_group_get(dev));
    expect(L.iommu_get_domain_for_dev(dev)).toBe(L.iommu_get_domain_for_dev(dev));
    expect(dev.iommu).toBe(smmu);
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    expect(L.iommu_get_domain_for_dev(dev)).toBe(domain);
    expect(domain.iommu).toBe(smmu);
  });

  it('ops are one table per driver, as the static ops struct is in Linux', () => {
    const L = createLabModule({}).exports as unknown as typeof Api;
    const [a, b] = ['smmu0', 'smmu1'].map((n) => L.lab.add_iommu(n, 'arm-smmu-v3'));
    const vt = L.lab.add_iommu('vt0', 'intel-iommu');
    const [d0, d1] = [a, b].map((iommu, k) => L.lab.add_device(`d${k}`, { iommu }));
    const onVt = L.lab.add_device('d2', { iommu: vt });
    expect(a.ops).toBe(b.ops);
    expect(a.ops).not.toBe(vt.ops);
    const [x, y] = [d0, d1].map((d) => L.iommu_paging_domain_alloc(d) as Api.IommuDomain);
    expect(x.ops).toBe(y.ops);
    // The device says which instance: smmu0's ops allocate for a device behind smmu1.
    expect((a.ops.domain_alloc_paging!(d1) as Api.IommuDomain).iommu).toBe(b);
    // Another driver's device is refused by name, not with an error from inside the driver.
    expect(() => a.ops.domain_alloc_paging!(onVt)).toThrow(
      'iommu.ops.domain_alloc_paging: device d2 is behind vt0 (intel-iommu), but these are arm-smmu-v3',
    );
    expect(() => a.ops.get_resv_regions(onVt)).toThrow('behind vt0 (intel-iommu)');
    // A domain's ops likewise: another driver's domain is refused, one of the same driver is fine.
    const z = L.iommu_paging_domain_alloc(onVt) as Api.IommuDomain;
    expect(() => x.ops.map_pages!(z, 0, 0x4000_0000, 0x1000, 1, 3)).toThrow(
      `domain.ops.map_pages: domain ${z.id} is intel-iommu's, but these are arm-smmu-v3's ops`,
    );
    expect(x.ops.map_pages!(y, 0, 0x4000_0000, 0x1000, 1, 3)).toEqual({ ret: 0, mapped: 0x1000 });
    // An IOMMU (it has ops too) where the domain goes is named as what it is.
    for (const op of ['iova_to_phys', 'flush_iotlb_all'] as const)
      expect(() => (x.ops[op] as (d: unknown, iova?: number) => unknown)(a, 0)).toThrow(
        'domain must be an IommuDomain (got iommu smmu0)',
      );
  });

  it('cannot be changed by a script', () => {
    const { domain } = lab();
    expect(() => {
      (domain as { pgsize_bitmap: number }).pgsize_bitmap = 0;
    }).toThrow(TypeError);
    expect(domain.pgsize_bitmap).toBe(0x40201000);
  });

  it('error pointers work as in Linux', () => {
    const { L } = lab();
    const e = L.ERR_PTR(-L.ENODEV);
    expect(L.IS_ERR(e)).toBe(true);
    expect(L.PTR_ERR(e)).toBe(-19);
    expect(L.IS_ERR_OR_NULL(null)).toBe(true);
    expect(() => L.ERR_PTR(5)).toThrow(RangeError);
    // err.h casts both ways: NULL is errno 0 and errno 0 is NULL, so PTR_ERR(IS_ERR_OR_NULL …) idioms work.
    expect(L.PTR_ERR(null)).toBe(0);
    expect(L.ERR_PTR(0)).toBeNull();
    expect(() => L.PTR_ERR({} as Api.ErrPtr)).toThrow(TypeError);
    expect(L.DMA_BIT_MASK(0)).toBe(0);
    expect(L.DMA_BIT_MASK(32)).toBe(0xffff_ffff);
  });
});

describe('constants', () => {
  it('have Linux values', () => {
    const { L } = lab();
    expect([L.IOMMU_READ, L.IOMMU_WRITE, L.IOMMU_CACHE, L.IOMMU_NOEXEC, L.IOMMU_MMIO, L.IOMMU_PRIV]).toEqual([
      1, 2, 4, 8, 0x10, 0x20,
    ]);
    expect([
      L.IOMMU_DOMAIN_BLOCKED,
      L.IOMMU_DOMAIN_IDENTITY,
      L.IOMMU_DOMAIN_UNMANAGED,
      L.IOMMU_DOMAIN_DMA,
      L.IOMMU_DOMAIN_DMA_FQ,
    ]).toEqual([0, 4, 1, 3, 0xb]);
    expect([
      L.IOMMU_RESV_DIRECT,
      L.IOMMU_RESV_DIRECT_RELAXABLE,
      L.IOMMU_RESV_RESERVED,
      L.IOMMU_RESV_MSI,
      L.IOMMU_RESV_SW_MSI,
    ]).toEqual([0, 1, 2, 3, 4]);
    expect([L.SZ_1K, L.SZ_4K, L.SZ_2M, L.SZ_1G]).toEqual([0x400, 0x1000, 0x200000, 0x40000000]);
    expect([
      L.EPERM,
      L.ENOENT,
      L.EIO,
      L.ENOMEM,
      L.EFAULT,
      L.EBUSY,
      L.EEXIST,
      L.ENODEV,
      L.EINVAL,
      L.ENOSPC,
      L.ERANGE,
      L.ENOSYS,
      L.EOPNOTSUPP,
    ]).toEqual([1, 2, 5, 12, 14, 16, 17, 19, 22, 28, 34, 38, 95]);
    expect([L.DMA_BIDIRECTIONAL, L.DMA_TO_DEVICE, L.DMA_FROM_DEVICE]).toEqual([0, 1, 2]);
  });
});

describe('unmap-without-sync', () => {
  it('keeps every gather apart: syncing one leaves the others pending', () => {
    const { L, dev, domain } = lab();
    L.iommu_attach_device(domain, dev);
    for (const iova of [0x1000, 0x10_0000]) {
      L.iommu_map(domain, iova, 0x8000_0000, 0x1000, 3);
      dev.dma_read(iova, 4);
    }
    const [g1, g2] = [L.iommu_iotlb_gather_init(), L.iommu_iotlb_gather_init()];
    L.iommu_unmap_fast(domain, 0x1000, 0x1000, g1);
    L.iommu_unmap_fast(domain, 0x10_0000, 0x1000, g2);
    L.iommu_iotlb_sync(domain, g2);
    expect(dev.dma_read(0x1000, 4).ok).toBe(true);
    expect(L.lab.checks().filter((c) => c.id === 'unmap-without-sync')).toHaveLength(1);
  });

  it("keeps two domains' unmaps in one gather apart: a sync on one leaves the other pending", () => {
    const { L, smmu, dev: a, domain: da } = lab();
    const b = L.lab.add_device('dev1', { iommu: smmu });
    const db = L.iommu_paging_domain_alloc(b) as Api.IommuDomain;
    // Adjacent pages, so the second unmap extends the gather rather than syncing it first.
    for (const [d, dev, iova] of [[da, a, 0x1000] as const, [db, b, 0x2000] as const]) {
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      L.iommu_map(d, iova, 0x8000_0000, 0x1000, 3);
      dev.dma_read(iova, 4);
    }
    const g = L.iommu_iotlb_gather_init();
    L.iommu_unmap_fast(da, 0x1000, 0x1000, g);
    L.iommu_unmap_fast(db, 0x2000, 0x1000, g);
    L.iommu_iotlb_sync(da, g); // invalidates the gathered range on da's ASID only, as in Linux
    const unsynced = () => L.lab.checks().filter((c) => c.id === 'unmap-without-sync');
    expect(a.dma_read(0x1000, 4).ok).toBe(false);
    expect(unsynced()).toHaveLength(0);
    expect(b.dma_read(0x2000, 4)).toMatchObject({ ok: true, tlb: 'stale' });
    expect(unsynced().map((c) => c.message)).toEqual([
      `dev1 reached 0x2000 after iommu_unmap_fast on domain ${db.id} without iommu_iotlb_sync`,
    ]);
  });
});

describe('named checks', () => {
  function fired(
    opts: Parameters<typeof createLabModule>[0],
    body: (x: ReturnType<typeof lab>) => void,
  ): string[] {
    const x = lab(opts);
    body(x);
    return x.L.lab.checks().map((c) => c.id);
  }
  const RW = 3;
  const cases: [string, (x: ReturnType<typeof lab>) => void][] = [
    [
      'stale-iotlb-hit',
      ({ L, dev, domain }) => {
        L.iommu_attach_device(domain, dev);
        L.iommu_map(domain, 0x1000, 0x8000_0000, 0x1000, RW);
        dev.dma_read(0x1000, 4);
        const g = L.iommu_iotlb_gather_init();
        L.iommu_unmap_fast(domain, 0x1000, 0x1000, g);
        dev.dma_read(0x1000, 4);
      },
    ],
    [
      'unmap-without-sync',
      ({ L, dev, domain }) => {
        L.iommu_attach_device(domain, dev);
        L.iommu_map(domain, 0x1000, 0x8000_0000, 0x1000, RW);
        dev.dma_read(0x1000, 4);
        L.iommu_unmap_fast(domain, 0x1000, 0x1000, L.iommu_iotlb_gather_init());
        dev.dma_read(0x1000, 4);
      },
    ],
    [
      'map-overlaps-reserved',
      ({ L, dev, domain }) => {
        L.iommu_attach_device(domain, dev);
        L.iommu_map(domain, 0x800_0000, 0x8000_0000, 0x1000, RW); // the SMMU's SW_MSI window
      },
    ],
    [
      'partial-unmap-of-large-page',
      ({ L, domain }) => (
        L.iommu_map(domain, 0x20_0000, 0x4000_0000, 0x20_0000, RW),
        L.iommu_unmap(domain, 0x20_0000, 0x1000)
      ),
    ],
    ['out-of-aperture-map', ({ L, domain }) => L.iommu_map(domain, 2 ** 48, 0x8000_0000, 0x1000, RW)],
    ['unmap-of-hole', ({ L, domain }) => L.iommu_unmap(domain, 0x1000, 0x1000)],
    ['dma-ownership-misuse', ({ L, dev }) => L.iommu_device_release_dma_owner(dev)],
    [
      'dma-ownership-misuse',
      ({ L, dev }) => expect(L.iommu_device_claim_dma_owner(dev, null as unknown as object)).toBe(-L.EINVAL),
    ],
    // The owner is a pointer in Linux: 0 is NULL too.
    ['dma-ownership-misuse', ({ L, dev }) => expect(L.iommu_device_claim_dma_owner(dev, 0)).toBe(-L.EINVAL)],
    [
      'map-over-existing',
      ({ L, domain }) => (
        L.iommu_map(domain, 0x10_0000, 0x8000_0000, 0x1000, RW),
        L.iommu_map(domain, 0x10_0000, 0x9000_0000, 0x1000, RW)
      ),
    ],
  ];
  it.each(cases)('%s fires, and not when the session turns it off', (id, body) => {
    expect(fired({}, body)).toContain(id);
    expect(fired({ disabledChecks: [id] }, body)).not.toContain(id);
  });
});
