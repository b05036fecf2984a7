/**
 * amd-iommu driven as a script drives it. One test per quirk, each naming the IOMMU-FACTS section
 * it checks.
 */
import { describe, expect, it } from 'vitest';
// Tests drive the engine the way scripts do, through the script module (the driver guide's pattern).
import type * as Api from '../../script/iommu-lab.d.ts';
import { KERNELS, testLab, type Kernel } from '../../script/test-lab.ts';
import type { ProtectionDomain } from './domain.ts';

const RW = 3;
const PA = 0x8000_0000;
const IOVA = 0x10_0000;
const SZ_4K = 0x1000;
const SZ_64K = 0x1_0000;

function lab(kernel: Kernel, options: Api.AmdIommuOptions = {}, device: Partial<Api.DeviceSpec> = {}) {
  const t = testLab({ kernel, driver: 'amd-iommu', options, device, iommuName: 'ivhd0', deviceName: 'nic0' });
  return { ...t, amd: t.iommu, internal: (d: Api.IommuDomain) => t.internal<ProtectionDomain>(d) };
}

describe('amd-iommu NpCache (IOMMU-FACTS §7.13, §5.6)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: np_cache: a DMA before the map caches a non-present entry; iotlb_sync_map's INVALIDATE_IOMMU_PAGES clears it`, () => {
      const { L, amd, dev, domain, internal, events } = lab(kernel, { np_cache: true });
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
      expect(amd.tlb.entries().filter((e) => e.negative && e.iova === IOVA)).toHaveLength(1);
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      expect(events('amdvi_pages_inval', mark)).toEqual([
        expect.objectContaining({ domid: internal(d).pd_id, addr: IOVA, size: SZ_4K }),
      ]);
      expect(events('amdvi_completion_wait', mark)).toHaveLength(1);
      expect(dev.dma_read(IOVA, 16).ok).toBe(true);
    });

    it(`${kernel}: np_cache, map_pages called directly: the non-present entry keeps faulting`, () => {
      const { L, dev, domain } = lab(kernel, { np_cache: true });
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
      expect(d.ops.map_pages!(d, IOVA, PA, SZ_4K, 1, RW)).toEqual({ ret: 0, mapped: SZ_4K });
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
    });

    it(`${kernel}: without NpCache iotlb_sync_map exists but sends nothing, and the DMA works at once`, () => {
      const { L, amd, dev, domain, events } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(d.ops.iotlb_sync_map).toBeDefined();
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
      expect(amd.tlb.entries().filter((e) => e.negative)).toHaveLength(0);
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      expect(events('amdvi_pages_inval', mark)).toHaveLength(0);
      expect(dev.dma_read(IOVA, 16).ok).toBe(true);
    });
  }

  it('iommu_map_sg with NpCache: one iotlb_sync_map, one INVALIDATE_IOMMU_PAGES for the whole list', () => {
    const { L, dev, domain, events } = lab('v6.16', { np_cache: true });
    const d = domain();
    L.iommu_attach_device(d, dev);
    const sg = Array.from({ length: 8 }, (_, i) => ({ paddr: PA + i * 0x2000, length: SZ_4K }));
    const mark = L.lab.trace().length;
    expect(L.iommu_map_sg(d, IOVA, sg, RW)).toBe(8 * SZ_4K);
    expect(events('iotlb_sync_map', mark)).toHaveLength(1);
    expect(events('amdvi_pages_inval', mark)).toEqual([
      expect.objectContaining({ addr: IOVA, size: 8 * SZ_4K }),
    ]);
  });
});

describe('amd-iommu flushes (IOMMU-FACTS §5.6 "Invalidation")', () => {
  it('NpCache: a flush goes out in naturally aligned pieces, one completion wait after them (domain_flush_pages)', () => {
    const { L, dev, domain, events } = lab('v6.16', { np_cache: true });
    const d = domain();
    L.iommu_attach_device(d, dev);
    const mark = L.lab.trace().length;
    expect(L.iommu_map(d, 0x11000, PA, 3 * SZ_4K, RW)).toBe(0);
    expect(events('amdvi_pages_inval', mark).map((e) => [e.addr, e.size])).toEqual([
      [0x11000, SZ_4K],
      [0x12000, 2 * SZ_4K],
    ]);
    expect(events('amdvi_completion_wait', mark)).toHaveLength(1);
  });

  it('unmap_fast from inside a 2M page drops it whole: a device still using its start trips unmap-without-sync', () => {
    const { L, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(L.iommu_map(d, 0x4000_0000, PA, 0x20_0000, RW)).toBe(0);
    expect(dev.dma_read(0x4000_0000, 4).ok).toBe(true);
    expect(L.iommu_unmap_fast(d, 0x4010_0000, SZ_4K, L.iommu_iotlb_gather_init())).toBe(0x20_0000);
    expect(dev.dma_read(0x4000_0000, 4)).toMatchObject({ ok: true, tlb: 'stale' });
    expect(L.lab.checks().map((c) => c.id)).toContain('unmap-without-sync');
  });

  it('an unmap of a hole still syncs, and the empty gather wraps into a flush of every page', () => {
    const { L, dev, domain, events, internal } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    const mark = L.lab.trace().length;
    expect(L.iommu_unmap(d, 0x4000_0000, SZ_4K)).toBe(0);
    expect(events('amdvi_pages_inval', mark)).toEqual([
      expect.objectContaining({ domid: internal(d).pd_id, addr: 0, size: 0 }),
    ]);
    expect(events('amdvi_completion_wait', mark)).toHaveLength(1);
  });

  for (const kernel of KERNELS) {
    it(`${kernel}: a map that replaces a table flushes before it returns, so the device does not use the old entry`, () => {
      const { L, dev, domain, events } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      const SZ_2M = 0x20_0000;
      expect(L.iommu_map(d, 0x4000_0000, PA, SZ_4K, RW)).toBe(0);
      expect(dev.dma_read(0x4000_0000, 4).ok).toBe(true); // cached
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, 0x4000_0000, PA + SZ_2M, SZ_2M, RW)).toBe(0); // frees the 4K table
      const flush = events('amdvi_pages_inval', mark);
      expect(flush).toHaveLength(1);
      // Older kernels flush the whole domain (amd_iommu_domain_flush_tlb_pde), newer ones the range.
      if (kernel === 'v6.16') expect(flush[0]).toMatchObject({ addr: 0x4000_0000, size: SZ_2M });
      expect(dev.dma_read(0x4000_0000, 4)).toMatchObject({ ok: true, pa: PA + SZ_2M, tlb: 'miss' });
      // A leaf over a leaf is not flushed.
      const again = L.lab.trace().length;
      expect(L.iommu_map(d, 0x4000_0000, PA, SZ_2M, RW)).toBe(0);
      expect(events('amdvi_pages_inval', again)).toHaveLength(0);
    });
  }
});

describe('amd-iommu NpCache makes DMA strict (iommu_init_pci: iommu_set_dma_strict)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: with np_cache the default domain is strict DMA, without it DMA-FQ`, () => {
      const virtualised = lab(kernel, { np_cache: true });
      expect(virtualised.L.iommu_get_domain_for_dev(virtualised.dev)?.type).toBe(
        virtualised.L.IOMMU_DOMAIN_DMA,
      );
      expect(virtualised.events('iommu_set_dma_strict')).toEqual([
        expect.objectContaining({ driver: 'amd-iommu', why: 'Using strict mode due to virtualization' }),
      ]);
      const bare = lab(kernel);
      expect(bare.L.iommu_get_domain_for_dev(bare.dev)?.type).toBe(bare.L.IOMMU_DOMAIN_DMA_FQ);
    });
  }
});

describe('amd-iommu v1 page sizes (IOMMU-FACTS §5.6 "v1 table", §2.2)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: 64K is mapped as one leaf (one map_pages call of 64K × 1)`, () => {
      const { L, domain, internal, events } = lab(kernel);
      const d = domain();
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, SZ_64K * 4, PA, SZ_64K, RW)).toBe(0);
      expect(events('map_pages', mark)).toEqual([expect.objectContaining({ pgsize: SZ_64K, pgcount: 1 })]);
      const leaves = [...internal(d).pgtbl!.leaves()];
      expect(leaves).toHaveLength(1);
      expect(leaves[0]).toMatchObject({ iova: SZ_64K * 4, pa: PA, size: SZ_64K });
      expect(L.iommu_iova_to_phys(d, SZ_64K * 4 + 0x1234)).toBe(PA + 0x1234);
    });
  }

  it('512G is left out of the bitmap in every era (a hardware bug); v6.16 also drops bit 52', () => {
    const old = lab('v6.6').domain();
    const cur = lab('v6.16').domain();
    const has = (bitmap: number, n: number) => Math.floor(bitmap / 2 ** n) % 2 === 1;
    for (const d of [old, cur]) {
      expect(has(d.pgsize_bitmap, 12)).toBe(true);
      expect(has(d.pgsize_bitmap, 21)).toBe(true);
      expect(has(d.pgsize_bitmap, 39)).toBe(false);
    }
    expect(has(old.pgsize_bitmap, 52)).toBe(true);
    expect(has(cur.pgsize_bitmap, 52)).toBe(false);
  });

  it('unmapping 4K at the start of a 64K leaf clears the whole leaf and reports 64K (IOMMU-FACTS §2.3)', () => {
    const { L, domain } = lab('v6.16');
    const d = domain();
    L.iommu_map(d, SZ_64K, PA, SZ_64K, RW);
    expect(L.iommu_unmap(d, SZ_64K, SZ_4K)).toBe(SZ_64K);
    expect(L.iommu_iova_to_phys(d, SZ_64K + SZ_4K)).toBe(0);
    expect(L.lab.checks().some((c) => c.id === 'partial-unmap-of-large-page')).toBe(true);
  });
});

describe('amd-iommu lifecycle (IOMMU-FACTS §6 (a), §6 (e))', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: map before attach works; the DTE then points at the table`, () => {
      const { L, dev, domain } = lab(kernel);
      const d = domain();
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      expect(L.iommu_iova_to_phys(d, IOVA)).toBe(PA);
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(dev.dma_read(IOVA, 16)).toMatchObject({ ok: true, pa: PA });
    });
  }

  it('v6.8 allocates through domain_alloc(type), v6.16 through domain_alloc_paging', () => {
    expect(lab('v6.8').amd.ops.domain_alloc).toBeDefined();
    expect(lab('v6.8').amd.ops.domain_alloc_paging).toBeUndefined();
    expect(lab('v6.16').amd.ops.domain_alloc_paging).toBeDefined();
    expect(lab('v6.16').amd.ops.domain_alloc).toBeUndefined();
  });

  it('v6.8 domain_alloc(type) knows IDENTITY, DMA and UNMANAGED; any other type is NULL (protection_domain_alloc)', () => {
    const { L, amd } = lab('v6.8');
    const alloc = amd.ops.domain_alloc!;
    for (const t of [L.IOMMU_DOMAIN_IDENTITY, L.IOMMU_DOMAIN_DMA, L.IOMMU_DOMAIN_UNMANAGED])
      expect(alloc(t)?.type).toBe(t);
    for (const t of [L.IOMMU_DOMAIN_BLOCKED, 2, 16, 99]) expect(alloc(t)).toBeNull();
  });

  it('attach rewrites the DTE: INVALIDATE_DEVTAB_ENTRY then COMPLETION_WAIT; the old domain is flushed whole', () => {
    const { L, dev, domain, events } = lab('v6.16');
    const d = domain();
    const mark = L.lab.trace().length;
    L.iommu_attach_device(d, dev);
    const cmds = L.lab
      .trace()
      .slice(mark)
      .filter((e) => e.kind === 'command')
      .map((e) => e.name);
    expect(cmds).toContain('amdvi_devtab_inval');
    expect(cmds).toContain('amdvi_pages_inval');
    expect(cmds.at(-1)).toBe('amdvi_completion_wait');
    expect(events('amdvi_set_dte', mark).at(-1)).toMatchObject({ type: 'v1', mode: 3 });
  });

  it('a table that grows rewrites the DTEs of its devices with the new mode', () => {
    const { L, dev, domain, events } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    const mark = L.lab.trace().length;
    // Three levels cover 2^39 bytes; an IOVA above needs a fourth.
    expect(L.iommu_map(d, 2 ** 40, PA, SZ_4K, RW)).toBe(0);
    expect(events('amdvi_set_dte', mark).at(-1)).toMatchObject({ type: 'v1', mode: 4 });
    expect(dev.dma_read(2 ** 40, 16)).toMatchObject({ ok: true, pa: PA });
  });

  it.each(KERNELS)(
    '%s: increase_address_space flushes the DTE and waits, and invalidates no pages (amd_iommu_update_and_flush_device_table + amd_iommu_domain_flush_complete)',
    (kernel) => {
      const { L, dev, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, 2 ** 40, PA, SZ_4K, RW)).toBe(0);
      const cmds = L.lab
        .trace()
        .slice(mark)
        .filter((e) => e.kind === 'command')
        .map((e) => e.name);
      expect(cmds).toEqual(['amdvi_set_dte', 'amdvi_devtab_inval', 'amdvi_completion_wait']);
    },
  );
});

describe('amd-iommu reserved regions (IOMMU-FACTS §3.1, §5.6)', () => {
  const HT = { start: 0xfd_0000_0000, length: 0x3_0000_0000, prot: 0, type: 2 };
  const MSI = { start: 0xfee0_0000, length: 0x10_0000, prot: 0, type: 3 };

  it('IVMD unity maps, the MSI window, then the HyperTransport range', () => {
    const { L, dev } = lab('v6.8', {}, { resv: [{ start: 0xe000_0000, length: 0x1000, type: 'direct' }] });
    expect(L.iommu_get_resv_regions(dev)).toEqual([
      { start: 0xe000_0000, length: 0x1000, prot: 3, type: 0 },
      MSI,
      HT,
    ]);
  });

  it('HTRangeIgnore is honoured from v6.16 only', () => {
    const old = lab('v6.8', { ht_range_ignore: true });
    expect(old.L.iommu_get_resv_regions(old.dev)).toContainEqual(HT);
    const { L, dev } = lab('v6.16', { ht_range_ignore: true });
    expect(L.iommu_get_resv_regions(dev)).toEqual([MSI]);
  });
});

describe('amd-iommu: a map over a present leaf writes it over (amd/io_pgtable.c iommu_v1_map_pages)', () => {
  // v1 map_pages writes the new PTE whatever was there, with no error. When the value written is the
  // one already there, the translation did not change: an IOTLB entry caching it still matches.
  it('the same pa and prot written again: the event says nothing changed, the cached entry stays clean', () => {
    const { L, amd, dev, domain, events } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
    expect(dev.dma_read(IOVA, 1)).toMatchObject({ ok: true, tlb: 'miss' });
    const mark = L.lab.trace().length;
    expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
    expect(events('pgtable_pte_exists', mark)).toEqual([
      expect.objectContaining({ action: 'replaced', iova: IOVA, same: true }),
    ]);
    expect(amd.tlb.entries()[0]).toMatchObject({ iova: IOVA, pa: PA, stale: false });
    expect(dev.dma_read(IOVA, 1)).toMatchObject({ ok: true, tlb: 'hit', pa: PA });
    const checks = L.lab.checks();
    expect(checks.map((c) => c.id)).toEqual(['map-over-existing']);
    // The check does not claim the old translation is gone: nothing changed this time.
    expect(checks[0].message).toContain('wrote the same translation over it');
  });

  it('another pa written over it: the cached entry is stale and the device still reaches the old page', () => {
    const { L, dev, domain, events } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    L.iommu_map(d, IOVA, PA, SZ_4K, RW);
    dev.dma_read(IOVA, 1);
    const mark = L.lab.trace().length;
    expect(L.iommu_map(d, IOVA, PA + SZ_4K, SZ_4K, RW)).toBe(0);
    expect(events('pgtable_pte_exists', mark)).toEqual([
      expect.objectContaining({ action: 'replaced', same: false }),
    ]);
    expect(dev.dma_read(IOVA, 1)).toMatchObject({ ok: true, tlb: 'stale', pa: PA });
  });
});
