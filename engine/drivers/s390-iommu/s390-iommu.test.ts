/**
 * s390-iommu driven as a script drives it. One test per quirk, each naming the IOMMU-FACTS section
 * it checks.
 */
import { describe, expect, it } from 'vitest';
// Tests drive the engine the way scripts do, through the script module (the driver guide's pattern).
import type * as Api from '../../script/iommu-lab.d.ts';
import { KERNELS, testLab, type Kernel } from '../../script/test-lab.ts';
import type { S390Domain } from './domain.ts';
import type { S390Iommu } from './s390-iommu.ts';

const RW = 3;
const PA = 0x8000_0000;
const START = 0x1_0000_0000;
const IOVA = START + 0x10_0000;
const SZ_4K = 0x1000;

function lab(kernel: Kernel, options: Api.S390IommuOptions = {}, device: Partial<Api.DeviceSpec> = {}) {
  const t = testLab({ kernel, driver: 's390-iommu', options, device, iommuName: 'zpci0', deviceName: 'fn0' });
  return {
    ...t,
    zpci: t.iommu,
    unit: t.unit as S390Iommu,
    internal: (d: Api.IommuDomain) => t.internal<S390Domain>(d),
  };
}

describe('s390-iommu RPCIT on map with tlb_refresh (IOMMU-FACTS §7.13, §5.7 "Why iotlb_sync_map")', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: a DMA before the map is remembered as absent; the map's RPCIT over the range refreshes it`, () => {
      const { L, zpci, dev, domain, events } = lab(kernel, { tlb_refresh: true });
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
      expect(zpci.tlb.entries().filter((e) => e.negative && e.iova === IOVA)).toHaveLength(1);
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      expect(events('zpci_refresh_trans', mark)).toEqual([
        expect.objectContaining({ addr: IOVA, size: SZ_4K, ret: 0 }),
      ]);
      expect(dev.dma_read(IOVA, 16)).toMatchObject({ ok: true, pa: PA });
    });

    it(`${kernel}: map_pages called directly (no RPCIT): the function still sees the page as absent`, () => {
      const { L, dev, domain } = lab(kernel, { tlb_refresh: true });
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
      expect(d.ops.map_pages!(d, IOVA, PA, SZ_4K, 1, RW)).toEqual({ ret: 0, mapped: SZ_4K });
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
    });

    it(`${kernel}: the function translates through the shadow: a page mapped without an RPCIT faults even untouched`, () => {
      const { L, dev, domain } = lab(kernel, { tlb_refresh: true });
      const d = domain();
      L.iommu_attach_device(d, dev);
      d.ops.map_pages!(d, IOVA, PA, SZ_4K, 1, RW);
      expect(L.iommu_iova_to_phys(d, IOVA)).toBe(PA);
      expect(dev.dma_read(IOVA, 16)).toMatchObject({ ok: false, fault: { reason: 'translation' } });
    });
  }

  it('attaching a domain that already maps a page: unreachable until an RPCIT covers it (registering refreshes nothing)', () => {
    const { L, dev, domain } = lab('v6.16', { tlb_refresh: true });
    const d = domain();
    expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0); // no function attached: no RPCIT
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(dev.dma_read(IOVA, 16).ok).toBe(false);
    L.iommu_flush_iotlb_all(d); // RPCIT over the whole window
    expect(dev.dma_read(IOVA, 16)).toMatchObject({ ok: true, pa: PA });
  });

  it('an unmap without iotlb_sync stays in the shadow: reached as stale after its IOTLB entry is evicted, gone after the sync', () => {
    const { L, dev, domain } = lab('v6.16', { tlb_refresh: true, tlb_entries: 1 });
    const d = domain();
    L.iommu_attach_device(d, dev);
    L.iommu_map(d, IOVA, PA, SZ_4K, RW);
    L.iommu_map(d, IOVA + SZ_4K, PA + SZ_4K, SZ_4K, RW);
    expect(dev.dma_read(IOVA, 4).ok).toBe(true);
    const gather = L.iommu_iotlb_gather_init();
    expect(L.iommu_unmap_fast(d, IOVA, SZ_4K, gather)).toBe(SZ_4K);
    expect(dev.dma_read(IOVA + SZ_4K, 4).ok).toBe(true); // evicts the IOTLB's only entry
    expect(dev.dma_read(IOVA, 4)).toMatchObject({ ok: true, pa: PA, tlb: 'stale' });
    expect(L.lab.checks().map((c) => c.id)).toEqual(
      expect.arrayContaining(['stale-iotlb-hit', 'unmap-without-sync']),
    );
    L.iommu_iotlb_sync(d, gather);
    expect(dev.dma_read(IOVA, 4).ok).toBe(false);
  });

  it('an RPCIT the hypervisor has no resources for (-ENOMEM) still drops unmapped pages but adds none', () => {
    const { L, dev, domain } = lab('v6.16', { tlb_refresh: true, rpcit_fail_nth: 2, rpcit_fail_count: 1 });
    const d = domain();
    L.iommu_attach_device(d, dev);
    L.iommu_map(d, IOVA, PA, SZ_4K, RW); // RPCIT 1
    L.iommu_unmap_fast(d, IOVA, SZ_4K, L.iommu_iotlb_gather_init()); // no sync
    d.ops.map_pages!(d, IOVA + SZ_4K, PA, SZ_4K, 1, RW); // no RPCIT
    L.iommu_flush_iotlb_all(d); // RPCIT 2 over the window fails
    expect(dev.dma_read(IOVA, 4).ok).toBe(false);
    expect(dev.dma_read(IOVA + SZ_4K, 4).ok).toBe(false);
    L.iommu_flush_iotlb_all(d); // RPCIT 3 succeeds
    expect(dev.dma_read(IOVA + SZ_4K, 4)).toMatchObject({ ok: true, pa: PA });
  });

  it('LPAR (no tlb_refresh): iotlb_sync_map issues no RPCIT and the DMA works at once', () => {
    const { L, dev, domain, events } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(dev.dma_read(IOVA, 16).ok).toBe(false);
    const mark = L.lab.trace().length;
    expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
    expect(events('zpci_refresh_trans', mark)).toHaveLength(0);
    expect(dev.dma_read(IOVA, 16).ok).toBe(true);
  });

  it('iommu_map_sg: one iotlb_sync_map, one RPCIT over the whole list', () => {
    const { L, dev, domain, events } = lab('v6.16', { tlb_refresh: true });
    const d = domain();
    L.iommu_attach_device(d, dev);
    const sg = Array.from({ length: 8 }, (_, i) => ({ paddr: PA + i * 0x2000, length: SZ_4K }));
    const mark = L.lab.trace().length;
    expect(L.iommu_map_sg(d, IOVA, sg, RW)).toBe(8 * SZ_4K);
    expect(events('iotlb_sync_map', mark)).toHaveLength(1);
    expect(events('zpci_refresh_trans', mark)).toEqual([
      expect.objectContaining({ addr: IOVA, size: 8 * SZ_4K }),
    ]);
  });
});

describe('s390-iommu RPCIT -ENOMEM (IOMMU-FACTS §5.7, §2.1: iotlb_sync_map returns int from v6.7)', () => {
  for (const kernel of ['v6.8', 'v6.16'] as const) {
    it(`${kernel}: the range RPCIT and the whole-window RPCIT both fail: iommu_map returns -ENOMEM and unmaps the range`, () => {
      const { L, dev, unit, domain, events } = lab(kernel, {
        tlb_refresh: true,
        rpcit_fail_nth: 1,
        rpcit_fail_count: 2,
      });
      const d = domain();
      L.iommu_attach_device(d, dev);
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, IOVA, PA, 2 * SZ_4K, RW)).toBe(-L.ENOMEM);
      const rpcits = events('zpci_refresh_trans', mark);
      expect(rpcits[0]).toMatchObject({ addr: IOVA, size: 2 * SZ_4K, ret: -L.ENOMEM });
      expect(rpcits[1]).toMatchObject({ addr: unit.start_dma, size: unit.window, ret: -L.ENOMEM });
      // The core's rollback: the range is unmapped again (and that unmap's own RPCIT succeeds).
      expect(events('unmap', mark)).toEqual([expect.objectContaining({ iova: IOVA, size: 2 * SZ_4K })]);
      expect(rpcits[2]).toMatchObject({ addr: IOVA, size: 2 * SZ_4K, ret: 0 });
      expect(L.iommu_iova_to_phys(d, IOVA)).toBe(0);
    });

    it(`${kernel}: only the range RPCIT fails: the whole-window RPCIT succeeds, so the map stands`, () => {
      const { L, dev, unit, domain, events } = lab(kernel, { tlb_refresh: true, rpcit_fail_nth: 1 });
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      expect(events('zpci_refresh_trans', mark).map((e) => [e.addr, e.ret])).toEqual([
        [IOVA, -L.ENOMEM],
        [unit.start_dma, 0],
      ]);
      expect(dev.dma_read(IOVA, 16)).toMatchObject({ ok: true, pa: PA });
    });
  }

  it('v6.6: iotlb_sync_map returns nothing, so a failed RPCIT is ignored and the map stands', () => {
    const { L, dev, domain, events } = lab('v6.6', {
      tlb_refresh: true,
      rpcit_fail_nth: 1,
      rpcit_fail_count: 5,
    });
    const d = domain();
    L.iommu_attach_device(d, dev);
    const mark = L.lab.trace().length;
    expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
    expect(events('zpci_refresh_trans', mark)).toEqual([expect.objectContaining({ ret: -L.ENOMEM })]);
    expect(L.iommu_iova_to_phys(d, IOVA)).toBe(PA);
  });
});

describe('s390-iommu aperture and page size (IOMMU-FACTS §5.7, §2.5, §7.5)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: a map beyond the region-third table (2^42) fails with -EINVAL in map_pages`, () => {
      const { L, domain, events } = lab(kernel);
      const d = domain();
      expect(d.geometry.aperture_end).toBe(2 ** 42 - 1);
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, 2 ** 42, PA, SZ_4K, RW)).toBe(-L.EINVAL);
      expect(events('map_pages', mark)).toEqual([expect.objectContaining({ ret: -L.EINVAL })]);
      expect(L.lab.checks().some((c) => c.id === 'out-of-aperture-map')).toBe(true);
    });

    it(`${kernel}: map_pages takes 4K pages only, aligned`, () => {
      const { domain } = lab(kernel);
      const d = domain();
      expect(d.ops.map_pages!(d, IOVA, PA, 0x20_0000, 1, RW).ret).toBe(-22);
      expect(d.ops.map_pages!(d, IOVA + 0x800, PA, SZ_4K, 1, RW).ret).toBe(-22);
      expect(d.ops.map_pages!(d, IOVA, PA, SZ_4K, 1, RW)).toEqual({ ret: 0, mapped: SZ_4K });
    });
  }

  it('v6.6 refuses a mapping without READ; v6.16 maps it (write-only is not expressible, so it is read/write)', () => {
    const old = lab('v6.6');
    expect(old.L.iommu_map(old.domain(), IOVA, PA, SZ_4K, 2)).toBe(-22);
    const cur = lab('v6.16');
    expect(cur.L.iommu_map(cur.domain(), IOVA, PA, SZ_4K, 2)).toBe(0);
  });

  it('a read-only mapping is PROTECTED: the function can read but not write', () => {
    const { L, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    L.iommu_map(d, IOVA, PA, SZ_4K, 1);
    expect(dev.dma_read(IOVA, 4).ok).toBe(true);
    expect(dev.dma_write(IOVA, [1, 2, 3, 4]).ok).toBe(false);
  });
});

describe('s390-iommu DMA window and reserved regions (IOMMU-FACTS §5.7, §3.1)', () => {
  it.each(['v6.6', 'v6.16'] as const)(
    '%s: the window is [start_dma, top of RAM above it]; everything else up to 2^42 is RESERVED (before v6.7 zpci_dma_init_device clamps it at function setup)',
    (kernel) => {
      const { L, dev, unit } = lab(kernel);
      expect(unit.start_dma).toBe(START);
      const end = unit.end_dma;
      expect(end).toBe(START + 0x4000_0000 + 0x1_0000_0000 - 1);
      expect(L.iommu_get_resv_regions(dev)).toEqual([
        { start: 0, length: START, prot: 0, type: L.IOMMU_RESV_RESERVED },
        { start: end + 1, length: 2 ** 42 - 1 - end, prot: 0, type: L.IOMMU_RESV_RESERVED },
      ]);
    },
  );

  it('add_iommu refuses a window that ends before it starts', () => {
    expect(() => lab('v6.16', { start_dma: 0x2_0000_0000, end_dma: 0x1_0000_0000 })).toThrow(
      /end_dma \(0x100000000\) is below start_dma \(0x200000000\)/,
    );
  });

  it("v6.6: the DMA API is the architecture's own, which the lab does not model: not available", () => {
    const { L, dev } = lab('v6.6');
    expect(() => L.dma_map_single(dev, PA, SZ_4K, L.DMA_BIDIRECTIONAL)).toThrow(
      expect.objectContaining({ name: 'KernelVersionError', message: expect.stringMatching(/pci_dma\.c/) }),
    );
    // From v6.7 dma-iommu serves it.
    const modern = lab('v6.8');
    expect(modern.L.dma_map_single(modern.dev, PA, SZ_4K, modern.L.DMA_BIDIRECTIONAL)).not.toBe(
      modern.L.DMA_MAPPING_ERROR,
    );
  });

  it('from v6.7 IOVAs come from the top of the window, not below 4 GiB first (s390_iommu_init: iommu_dma_forcedac)', () => {
    const { L, dev } = lab('v6.16', { start_dma: 0, end_dma: 0x1_3fff_ffff });
    const handle = L.dma_map_single(dev, PA, SZ_4K, L.DMA_BIDIRECTIONAL);
    expect(handle).toBeGreaterThan(0xffff_ffff);
  });

  it('a mapping made before the attach inside the window below start_dma is reported when the device joins (VFIO would refuse it)', () => {
    const { L, dev, domain } = lab('v6.16', { start_dma: 0x1_0000_0000, end_dma: 0x1_ffff_ffff });
    const d = domain();
    expect(L.iommu_map(d, 0x10_0000, PA, SZ_4K, RW)).toBe(0);
    expect(L.lab.checks().map((c) => c.id)).not.toContain('map-overlaps-reserved');
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(L.lab.checks().filter((c) => c.id === 'map-overlaps-reserved')).toHaveLength(1);
  });

  it('a mapping below start_dma is in the aperture, so it is made, but the function faults there', () => {
    const { L, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(L.iommu_map(d, 0x10_0000, PA, SZ_4K, RW)).toBe(0);
    expect(L.lab.checks().some((c) => c.id === 'map-overlaps-reserved')).toBe(true);
    expect(dev.dma_read(0x10_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'out-of-dma-window' } });
  });
});

describe('s390-iommu identity domain and regions that follow the domain (v6.15+, s390_iommu_rtr_ops)', () => {
  it('a function with relaxed translation offers an identity domain: a passthrough IOAT, dma-direct addresses', () => {
    const { L, dev, events } = lab('v6.16', { rtr: true }, { default_domain: 'identity' });
    expect(L.iommu_get_domain_for_dev(dev)?.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
    expect(events('zpci_register_ioat').at(-1)).toMatchObject({ table: 0 });
    const buf = L.lab.mem.alloc(SZ_4K);
    expect(L.dma_map_single(dev, buf, SZ_4K, L.DMA_BIDIRECTIONAL)).toBe(buf);
    expect(dev.dma_read(buf, 4).ok).toBe(true);
    // Without relaxed translation there is no identity domain, so the probe fails.
    expect(() => lab('v6.16', {}, { default_domain: 'identity' })).toThrow(/IDENTITY default domain/);
  });

  it('the RESERVED region above the window is there only while the function is on a paging domain', () => {
    const { L, dev } = lab('v6.16', { rtr: true });
    expect(L.iommu_get_resv_regions(dev)).toHaveLength(2); // DMA default domain
    expect(L.iommu_device_claim_dma_owner(dev, 'vfio')).toBe(0); // the blocking domain
    expect(L.iommu_get_resv_regions(dev).map((r) => r.start)).toEqual([0]);
    L.iommu_device_release_dma_owner(dev);
    expect(L.iommu_get_resv_regions(dev)).toHaveLength(2);
  });
});

describe('s390-iommu flushes (IOMMU-FACTS §5.7, §4.3)', () => {
  it('iotlb_sync is an RPCIT over the gathered range; flush_iotlb_all one over the window', () => {
    const { L, dev, unit, domain, events } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    L.iommu_map(d, IOVA, PA, 4 * SZ_4K, RW);
    let mark = L.lab.trace().length;
    expect(L.iommu_unmap(d, IOVA, 4 * SZ_4K)).toBe(4 * SZ_4K);
    expect(events('zpci_refresh_trans', mark)).toEqual([
      expect.objectContaining({ addr: IOVA, size: 4 * SZ_4K }),
    ]);
    mark = L.lab.trace().length;
    L.iommu_flush_iotlb_all(d);
    expect(events('zpci_refresh_trans', mark)).toEqual([
      expect.objectContaining({ addr: unit.start_dma, size: unit.window }),
    ]);
  });

  it('DMA-FQ by default (s390 is lazy, DEFERRED_FLUSH); an ISM function gets a strict DMA domain', () => {
    const lazy = lab('v6.16');
    expect(lazy.L.iommu_get_domain_for_dev(lazy.dev)?.type).toBe(lazy.L.IOMMU_DOMAIN_DMA_FQ);
    const ism = lab('v6.16', { ism: true });
    expect(ism.L.iommu_get_domain_for_dev(ism.dev)?.type).toBe(ism.L.IOMMU_DOMAIN_DMA);
  });

  it('tlb_refresh sets shadow_on_flush: the DMA-FQ domain gets the single 32768-entry, 1000 ms queue', () => {
    for (const [tlb_refresh, size, timeout] of [
      [true, 32768, 1000],
      [false, 256, 10],
    ] as const) {
      const { L, session, dev } = lab('v6.16', { tlb_refresh });
      const pa = L.lab.mem.alloc(SZ_4K);
      expect(L.dma_map_single(dev, pa, SZ_4K, L.DMA_BIDIRECTIONAL)).not.toBe(L.DMA_MAPPING_ERROR);
      const dd = session.machine.domain_by_id.get(L.iommu_get_domain_for_dev(dev)!.id)!;
      // The DMA layer's cookie, read by shape: drivers sit below engine/dma.
      const cookie = dd.dma_cookie as { fq: { size: number } | null; fq_timeout: number };
      expect(cookie.fq?.size).toBe(size);
      expect(cookie.fq_timeout).toBe(timeout);
    }
  });
});

describe('s390-iommu lifecycle (IOMMU-FACTS §5.7, §6 (a), §6 (e))', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: map before attach works (the table exists from allocation)`, () => {
      const { L, dev, domain } = lab(kernel);
      const d = domain();
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      expect(L.iommu_iova_to_phys(d, IOVA)).toBe(PA);
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(dev.dma_read(IOVA, 16)).toMatchObject({ ok: true, pa: PA });
    });
  }

  it('attach registers the IOAT with firmware; a failed registration is -EIO and leaves DMA blocked', () => {
    // Blocked from the start: a default DMA domain's first attach would fail too, failing the probe.
    const { L, dev, domain, events } = lab(
      'v6.16',
      { fail_register_ioat: true },
      { default_domain: 'blocked' },
    );
    const d = domain();
    L.iommu_map(d, IOVA, PA, SZ_4K, RW);
    const mark = L.lab.trace().length;
    expect(L.iommu_attach_device(d, dev)).toBe(-L.EIO);
    expect(events('zpci_register_ioat', mark)).toEqual([expect.objectContaining({ cc: 3 })]);
    expect(dev.dma_read(IOVA, 16)).toMatchObject({ ok: false, fault: { reason: 'no-ioat' } });
  });

  it('v6.6: no default domain (the arch DMA code served the DMA API); the IOMMU API is for VFIO domains', () => {
    const { L, dev, zpci } = lab('v6.6');
    expect(L.iommu_get_domain_for_dev(dev)).toBeNull();
    expect(zpci.ops.domain_alloc).toBeDefined();
    expect(zpci.ops.domain_alloc_paging).toBeUndefined();
  });

  it('v6.16: claiming DMA ownership moves the function to the static blocking domain (IOAT deregistered)', () => {
    const { L, dev, events } = lab('v6.16');
    const mark = L.lab.trace().length;
    expect(L.iommu_device_claim_dma_owner(dev, 'vfio')).toBe(0);
    expect(L.iommu_get_domain_for_dev(dev)?.type).toBe(L.IOMMU_DOMAIN_BLOCKED);
    expect(events('zpci_unregister_ioat', mark)).toHaveLength(1);
    expect(dev.dma_read(IOVA, 4)).toMatchObject({ ok: false, fault: { reason: 'no-ioat' } });
  });
});

describe('s390-iommu: deregistering the IOAT drops the function’s translations (zpci_unregister_ioat)', () => {
  // Linux's __s390_iommu_detach_device calls zpci_unregister_ioat, and s390_iommu_iotlb_sync RPCITs
  // only the functions on s390_domain->devices: an unmap on a domain the function has left is
  // never refreshed for it. That is safe because deregistration purges the function's IOTLB
  // (QEMU's s390_pci_iommu_disable: g_hash_table_remove_all(iommu->iotlb)).
  for (const kernel of KERNELS) {
    it(`${kernel}: detach, unmap on the detached domain, re-attach: the read faults, no cached entry answers it`, () => {
      const { L, zpci, dev, domain, events } = lab(kernel);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, L.IOMMU_READ)).toBe(0);
      expect(dev.dma_read(IOVA, 1)).toMatchObject({ ok: true, tlb: 'miss' });
      const mark = L.lab.trace().length;
      L.iommu_detach_device(d, dev);
      const names = L.lab
        .trace()
        .slice(mark)
        .map((e) => e.name);
      const dereg = names.indexOf('zpci_unregister_ioat');
      expect(dereg).toBeGreaterThanOrEqual(0);
      expect(names.indexOf('iotlb_invalidate_tag', dereg)).toBeGreaterThan(dereg);
      expect(events('iotlb_invalidate_tag', mark)[0]).toMatchObject({ tag: d.id, removed: 1 });
      expect(zpci.tlb.entries()).toEqual([]);
      expect(L.iommu_unmap(d, IOVA, SZ_4K)).toBe(SZ_4K); // no function attached: no RPCIT
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(dev.dma_read(IOVA, 1)).toMatchObject({ ok: false, fault: { reason: 'translation' } });
      expect(L.lab.checks().map((c) => c.id)).not.toContain('stale-iotlb-hit');
    });
  }

  it('a freed domain leaves no entries behind to take up the IOTLB', () => {
    const { L, zpci, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    L.iommu_map(d, IOVA, PA, SZ_4K, RW);
    expect(dev.dma_read(IOVA, 1).ok).toBe(true);
    L.iommu_detach_device(d, dev);
    L.iommu_domain_free(d);
    expect(zpci.tlb.entries()).toEqual([]);
  });
});
