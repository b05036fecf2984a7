/**
 * intel-iommu driven as a script drives it, over QEMU's VT-d by default. One test per quirk, each
 * naming the IOMMU-FACTS section it checks.
 */
import { describe, expect, it } from 'vitest';
// Tests drive the engine the way scripts do, through the script module (the driver guide's pattern).
import type * as Api from '../../script/iommu-lab.d.ts';
import { createLabModule } from '../../script/module.ts';
import { KERNELS, testLab, type Kernel } from '../../script/test-lab.ts';
import type { DmarDomain } from './domain.ts';
import type { IntelIommu } from './intel-iommu.ts';

const RW = 3;
const PA = 0x8000_0000;
const IOVA = 0x10_0000;
const SZ_4K = 0x1000;
const SZ_2M = 0x20_0000;

function lab(kernel: Kernel, options: Api.IntelIommuOptions = {}, device: Partial<Api.DeviceSpec> = {}) {
  const t = testLab({
    kernel,
    driver: 'intel-iommu',
    options,
    device,
    iommuName: 'dmar0',
    deviceName: 'nic0',
  });
  return {
    ...t,
    vtd: t.iommu,
    unit: t.unit as IntelIommu,
    internal: (d: Api.IommuDomain) => t.internal<DmarDomain>(d),
  };
}

describe('intel-iommu options', () => {
  it('superpages takes its SLLPS level or a switch: true is both sizes, false none; anything else is named', () => {
    const bitmap = (superpages: Api.IntelIommuOptions['superpages']) =>
      lab('v6.16', { superpages }).domain().pgsize_bitmap;
    expect(bitmap(true)).toBe(bitmap(2));
    expect(bitmap(true)).toBe(SZ_4K + SZ_2M + 0x4000_0000);
    expect(bitmap(false)).toBe(SZ_4K);
    expect(bitmap(1)).toBe(SZ_4K + SZ_2M);
    expect(() => lab('v6.16', { superpages: 'yes' as never })).toThrow(
      'intel-iommu option \'superpages\' must be one of 0, 1, 2, or false (0) or true (2) (got "yes")',
    );
  });
});

describe('intel-iommu caching mode (IOMMU-FACTS §7.13, §5.5 "Caching Mode")', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: CM=1 second-level: a DMA before the map caches a not-present entry; the map's PSI clears it`, () => {
      const { L, vtd, dev, unit, domain, events } = lab(kernel, { caching_mode: true });
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const did = unit.dma_tag(unit.machine.devices[0]);

      const before = dev.dma_read(IOVA, 16);
      expect(before.ok).toBe(false);
      expect(vtd.tlb.entries().filter((e) => e.negative && e.tag === did && e.iova === IOVA)).toHaveLength(1);

      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      const psi = events('vtd_inv_desc_iotlb_pages', mark);
      expect(psi).toHaveLength(1);
      expect(psi[0]).toMatchObject({ did, addr: IOVA, mask: 0 });
      expect(events('vtd_inv_desc_wait_sw', mark)).toHaveLength(1);

      const after = dev.dma_read(IOVA, 16);
      expect(after.ok).toBe(true);
    });

    it(`${kernel}: CM=1, map_pages called directly (no iotlb_sync_map): the cached not-present entry still faults`, () => {
      const { L, dev, domain, events } = lab(kernel, { caching_mode: true });
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(dev.dma_read(IOVA, 16).ok).toBe(false);
      const mark = L.lab.trace().length;
      expect(d.ops.map_pages!(d, IOVA, PA, SZ_4K, 1, RW)).toEqual({ ret: 0, mapped: SZ_4K });
      expect(L.iommu_iova_to_phys(d, IOVA)).toBe(PA);
      expect(events('vtd_inv_desc_iotlb_pages', mark)).toHaveLength(0);
      const r = dev.dma_read(IOVA, 16);
      expect(r.ok).toBe(false);
      // The entry the device used is the negative one the map made stale: the check says it faulted.
      expect(L.lab.checks().find((c) => c.id === 'stale-iotlb-hit')?.message).toBe(
        'nic0 faulted at 0x100000 on a stale not-present IOTLB entry on dmar0: the table maps it now',
      );
    });
  }

  it('without CM the miss is not cached: the DMA works right after the map and the map issues no descriptor', () => {
    const { L, dev, domain, events } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(dev.dma_read(IOVA, 16).ok).toBe(false);
    const mark = L.lab.trace().length;
    expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
    expect(events('iotlb_sync_map', mark)).toHaveLength(1);
    expect(events('vtd_inv_desc_iotlb_pages', mark)).toHaveLength(0);
    expect(dev.dma_read(IOVA, 16).ok).toBe(true);
  });

  it('iommu_map_sg: one iotlb_sync_map, one PSI covering the whole list (CM=1)', () => {
    const { L, dev, domain, events } = lab('v6.16', { caching_mode: true });
    const d = domain();
    L.iommu_attach_device(d, dev);
    const sg = Array.from({ length: 8 }, (_, i) => ({ paddr: PA + i * 0x2000, length: SZ_4K }));
    const mark = L.lab.trace().length;
    expect(L.iommu_map_sg(d, IOVA, sg, RW)).toBe(8 * SZ_4K);
    expect(events('iotlb_sync_map', mark)).toHaveLength(1);
    const psi = events('vtd_inv_desc_iotlb_pages', mark);
    expect(psi).toHaveLength(1);
    // 8 pages from a 32-page-aligned IOVA: one aligned block of 2^3 pages.
    expect(psi[0]).toMatchObject({ addr: IOVA, mask: 3 });
  });

  it('v6.16 scalable mode: first-stage domains are not flushed on map even with CM, and their misses are not cached', () => {
    const { L, dev, domain, internal, events } = lab('v6.16', { caching_mode: true, scalable: true });
    const d = domain();
    expect(internal(d).use_first_level).toBe(true);
    L.iommu_attach_device(d, dev);
    expect(dev.dma_read(IOVA, 16).ok).toBe(false);
    const mark = L.lab.trace().length;
    expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
    expect(events('vtd_inv_desc_iotlb_pages', mark)).toHaveLength(0);
    expect(dev.dma_read(IOVA, 16).ok).toBe(true);
  });
});

describe('intel-iommu caching mode makes DMA strict (intel_iommu_init: iommu_set_dma_strict)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: CM=1 with second-stage tables: the default domain is strict DMA, not DMA-FQ, and the trace says why`, () => {
      const { L, dev, events } = lab(kernel, { caching_mode: true });
      expect(L.iommu_get_domain_for_dev(dev)?.type).toBe(L.IOMMU_DOMAIN_DMA);
      expect(events('iommu_set_dma_strict')).toEqual([
        expect.objectContaining({
          driver: 'intel-iommu',
          why: 'IOMMU batching disallowed due to virtualization',
        }),
      ]);
    });
  }

  it('without CM, or with first-stage tables (not shadowed), x86 keeps its lazy default', () => {
    for (const options of [{}, { caching_mode: true, scalable: true }]) {
      const { L, dev, events } = lab('v6.16', options);
      expect(L.iommu_get_domain_for_dev(dev)?.type).toBe(L.IOMMU_DOMAIN_DMA_FQ);
      expect(events('iommu_set_dma_strict')).toHaveLength(0);
    }
  });
});

describe('intel-iommu PTE permissions (intel_iommu_map, __domain_mapping)', () => {
  for (const kernel of KERNELS) {
    const readable = kernel !== 'v6.16';
    it(`${kernel}: a write-only map ${readable ? 'can be read too (R set on every PTE)' : 'faults a read'}`, () => {
      const { L, dev, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, L.IOMMU_WRITE)).toBe(0);
      expect(dev.dma_write(IOVA, [1]).ok).toBe(true);
      const r = dev.dma_read(IOVA, 1);
      expect(r.ok).toBe(readable);
      if (!r.ok) expect(r.fault.reason).toBe('permission');
    });
  }

  it('IOMMU_CACHE does not set SNP: the translation the device caches grants R|W only', () => {
    const { L, vtd, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW | L.IOMMU_CACHE)).toBe(0);
    expect(dev.dma_read(IOVA, 4).ok).toBe(true);
    expect(vtd.tlb.entries().find((e) => e.iova === IOVA)?.prot).toBe(RW);
  });
});

describe('intel-iommu map over a mapped page (IOMMU-FACTS §2.5)', () => {
  it('keeps the old entry and reports success, with a WARN: the map-over-existing check', () => {
    const { L, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(L.iommu_map(d, 0x4000_0000, 0x8000_0000, SZ_4K, RW)).toBe(0);
    expect(L.iommu_map(d, 0x4000_0000, 0x9000_0000, SZ_4K, RW)).toBe(0);
    expect(L.iommu_iova_to_phys(d, 0x4000_0000)).toBe(0x8000_0000);
    expect(L.lab.checks().map((c) => c.id)).toContain('map-over-existing');
  });

  it('an unmap over a mapped page and the hole after it reports both, and unmap-of-hole names the hole', () => {
    const { L, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(L.iommu_map(d, 0x4000_0000, 0x8000_0000, SZ_4K, RW)).toBe(0);
    expect(L.iommu_unmap(d, 0x4000_0000, 2 * SZ_4K)).toBe(2 * SZ_4K);
    expect(L.lab.checks().find((c) => c.id === 'unmap-of-hole')?.message).toMatch(
      /nothing was mapped at 0x40001000/,
    );
  });

  it('a superpage over the empty table an unmap left behind is not a map over anything', () => {
    const { L, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(L.iommu_map(d, 0x4000_0000, 0x8000_0000, SZ_4K, RW)).toBe(0);
    expect(L.iommu_unmap(d, 0x4000_0000, SZ_4K)).toBe(SZ_4K); // the 4K table stays, empty
    expect(L.iommu_map(d, 0x4000_0000, 0x8000_0000, SZ_2M, RW)).toBe(0);
    expect(L.iommu_iova_to_phys(d, 0x4001_0000)).toBe(0x8001_0000);
    expect(L.lab.checks().map((c) => c.id)).not.toContain('map-over-existing');
  });
});

describe('intel-iommu partial unmap (IOMMU-FACTS §7.7, §2.3)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: unmapping 4K at the start of a 2M superpage removes the whole superpage and returns 2M`, () => {
      const { L, dev, domain, internal } = lab(kernel);
      const d = domain();
      // Legacy domains get superpages only once attached to a unit (domain_update_iommu_cap).
      L.iommu_attach_device(d, dev);
      expect(L.iommu_map(d, SZ_2M, 0x4000_0000, SZ_2M, RW)).toBe(0);
      const leaves = [...internal(d).pgtbl!.leaves()];
      expect(leaves).toHaveLength(1);
      expect(leaves[0].size).toBe(SZ_2M);
      expect(L.iommu_unmap(d, SZ_2M, SZ_4K)).toBe(SZ_2M);
      expect(L.iommu_iova_to_phys(d, SZ_2M + SZ_4K)).toBe(0);
      expect(L.lab.checks().some((c) => c.id === 'partial-unmap-of-large-page')).toBe(true);
      expect([...internal(d).pgtbl!.leaves()]).toHaveLength(0);
    });

    it(`${kernel}: unmapping a hole returns the size of the level where the walk stopped; the lab calls it a hole`, () => {
      const { L, dev, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(L.iommu_map(d, 0x7000_0000, 0x4000_0000, SZ_4K, RW)).toBe(0);
      // intel_iommu_unmap: pfn_to_dma_pte stops at the empty level-2 entry, so 2M "unmapped".
      expect(L.iommu_unmap(d, 0x5000_0000, SZ_4K)).toBe(SZ_2M);
      expect(
        L.lab
          .checks()
          .map((c) => c.id)
          .filter((id) => id.startsWith('unmap') || id.startsWith('partial')),
      ).toEqual(['unmap-of-hole']);
      expect(L.iommu_iova_to_phys(d, 0x7000_0000)).toBe(0x4000_0000);
    });
  }
});

describe('intel-iommu under and inside a superpage (dma_pte_clear_level, pfn_to_dma_pte, v6.6 to v6.16)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: an unmap starting inside a superpage reports 2M and leaves it mapped: partial-unmap-of-large-page names it, not unmap-of-hole`, () => {
      const { L, dev, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(L.iommu_map(d, SZ_2M, 0x4000_0000, SZ_2M, RW)).toBe(0);
      expect(L.iommu_unmap(d, SZ_2M + SZ_4K, SZ_4K)).toBe(SZ_2M);
      expect(L.iommu_iova_to_phys(d, SZ_2M + SZ_4K)).toBe(0x4000_1000);
      const checks = L.lab.checks().filter((c) => c.id.startsWith('unmap') || c.id.startsWith('partial'));
      expect(checks.map((c) => c.id)).toEqual(['partial-unmap-of-large-page']);
      expect(checks[0].message).toContain('left the superpage mapped');
    });

    it(`${kernel}: a 4K map under a superpage: map-over-existing says Linux writes into the superpage's memory, which still translates`, () => {
      const { L, dev, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(L.iommu_map(d, SZ_2M, 0x4000_0000, SZ_2M, RW)).toBe(0);
      expect(L.iommu_map(d, SZ_2M, PA, SZ_4K, RW)).toBe(0);
      expect(L.iommu_iova_to_phys(d, SZ_2M)).toBe(0x4000_0000);
      const check = L.lab.checks().find((c) => c.id === 'map-over-existing');
      expect(check?.message).toContain("walks into that superpage's memory");
      expect(check?.message).not.toContain('kept it');
    });
  }
});

describe('intel-iommu: a map over a PTE already set keeps it (intel/iommu.c __domain_mapping)', () => {
  // try_cmpxchg64_local(&pte->val, &tmp, pteval) leaves a present PTE as it is and WARNs "DMA PTE
  // for vPFN ... already set": the table did not change there, so an IOTLB entry caching that PTE
  // still matches it and the next access is a clean hit.
  for (const kernel of KERNELS) {
    it(`${kernel}: the cached entry of a kept PTE stays clean: 'hit', no stale-iotlb-hit; the pages written around it do change`, () => {
      const { L, vtd, dev, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      expect(L.iommu_map(d, IOVA + 2 * SZ_4K, PA + 2 * SZ_4K, SZ_4K, RW)).toBe(0);
      expect(dev.dma_read(IOVA, 1)).toMatchObject({ ok: true, tlb: 'miss', pa: PA });
      // A raw map_pages, so no iotlb_sync_map flush hides what the table change did to the IOTLB.
      expect(d.ops.map_pages!(d, IOVA, 0x9000_0000, SZ_4K, 2, RW)).toEqual({ ret: 0, mapped: 2 * SZ_4K });
      expect(L.iommu_iova_to_phys(d, IOVA)).toBe(PA);
      expect(L.lab.checks().map((c) => c.id)).toContain('map-over-existing');
      expect(vtd.tlb.entries().find((e) => e.iova === IOVA)).toMatchObject({ pa: PA, stale: false });
      expect(dev.dma_read(IOVA, 1)).toMatchObject({ ok: true, tlb: 'hit', pa: PA });
      expect(L.lab.checks().map((c) => c.id)).not.toContain('stale-iotlb-hit');
      expect(L.iommu_iova_to_phys(d, IOVA + SZ_4K)).toBe(0x9000_1000);
    });
  }
});

describe('intel-iommu address width (IOMMU-FACTS §5.5 "Width", §6 (a))', () => {
  for (const kernel of ['v6.6', 'v6.8'] as const) {
    it(`${kernel}: a legacy domain maps above the unit's width, then the attach fails with -EINVAL`, () => {
      const { L, dev, domain, internal } = lab(kernel, { agaw: 48 });
      const d = domain();
      expect(internal(d).gaw).toBe(57);
      expect(d.pgsize_bitmap).toBe(SZ_4K);
      expect(L.iommu_map(d, 2 ** 48, PA, SZ_4K, RW)).toBe(0);
      expect(L.iommu_attach_device(d, dev)).toBe(-L.EINVAL);
    });

    it(`${kernel}: a legacy domain is trimmed to the unit at attach: 48 bits, 4 levels, superpages`, () => {
      const { L, dev, domain, internal } = lab(kernel, { agaw: 48 });
      const d = domain();
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, RW)).toBe(0);
      const top = internal(d).pgtbl!.root;
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(internal(d).gaw).toBe(48);
      expect(internal(d).levels).toBe(4);
      // "Knock out extra levels": entry 0's table is the root now, and four levels reach the page.
      const root = internal(d).pgtbl!.root;
      expect(root).not.toBe(top);
      let table = root;
      for (let shift = 39; shift >= 12; shift -= 9) {
        const b = L.lab.mem.read(table + (Math.floor(IOVA / 2 ** shift) % 512) * 8, 8);
        table = (b[1] >> 4) * 0x1000 + b[2] * 0x10000 + b[3] * 0x1000000 + b[4] * 2 ** 32; // bits 12..39
      }
      expect(table).toBe(PA);
      expect(d.geometry.aperture_end).toBe(2 ** 48 - 1);
      expect(d.pgsize_bitmap).toBe(SZ_4K + SZ_2M + 0x4000_0000);
      expect(L.lab.checks().some((c) => c.id === 'attach-time-finalise')).toBe(true);
      // The mapping made at 57 bits is what the trimmed table translates.
      expect(dev.dma_read(IOVA, 16)).toMatchObject({ ok: true, pa: PA });
      // Now the width is the unit's: a map above it is refused (intel_iommu_map).
      expect(L.iommu_map(d, 2 ** 48, PA, SZ_4K, RW)).toBe(-L.EFAULT);
    });

    it(`${kernel}: after the trim an unmap beyond the width returns 0 (prepare_domain_attach_device lowers agaw; pfn_to_dma_pte → domain_pfn_supported)`, () => {
      const { L, dev, domain } = lab(kernel, { agaw: 48 });
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(L.iommu_unmap(d, 2 ** 48, SZ_4K)).toBe(0);
      expect(L.iommu_map(d, 2 ** 48, PA, SZ_4K, RW)).toBe(-L.EFAULT);
      expect(L.iommu_map(d, 2 ** 48 - SZ_4K, PA, 2 * SZ_4K, RW)).toBe(-L.EFAULT);
      expect(L.iommu_iova_to_phys(d, 2 ** 48)).toBe(0);
    });

    it(`${kernel}: after the trim an unmap straddling the width clears nothing and reports its size (domain_unmap's WARN_ON)`, () => {
      const { L, dev, domain } = lab(kernel, { agaw: 48 });
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const below = 2 ** 48 - SZ_4K;
      expect(L.iommu_map(d, below, PA, SZ_4K, RW)).toBe(0);
      expect(L.iommu_unmap(d, below, 2 * SZ_4K)).toBe(2 * SZ_4K);
      expect(L.iommu_iova_to_phys(d, below)).toBe(PA);
    });
  }

  // intel_iommu_unmap (v6.6, v6.8 and v6.16 alike): pfn_to_dma_pte(level 0), size grown to
  // VTD_PAGE_SIZE << level_to_offset_bits(level), then domain_unmap, then the gather and the return.
  for (const kernel of KERNELS) {
    it(`${kernel}: an unmap of a hole running past the width returns and gathers the size grown to the level where the walk stopped`, () => {
      const { L, dev, domain } = lab(kernel, { agaw: 48 });
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const top_level = 2 ** 39; // the empty top-level entry of a fresh 4-level table
      expect(L.iommu_unmap(d, 2 ** 48 - 2 * SZ_4K, 2 * SZ_4K)).toBe(top_level);
      const gather = L.iommu_iotlb_gather_init();
      expect(L.iommu_unmap_fast(d, 2 ** 48 - SZ_4K, 2 * SZ_4K, gather)).toBe(top_level);
      expect(gather).toMatchObject({ start: 2 ** 48 - SZ_4K, end: 2 ** 48 - SZ_4K + top_level - 1 });
      expect(gather.pgsize).toBe(top_level);
      L.iommu_iotlb_sync(d, gather);
      // Both ranges end past the width once grown: each is a hole and a WARN.
      const ids = L.lab
        .checks()
        .map((c) => c.id)
        .filter((id) => id !== 'attach-time-finalise');
      expect(ids).toEqual([
        'out-of-aperture-unmap',
        'unmap-of-hole',
        'out-of-aperture-unmap',
        'unmap-of-hole',
      ]);
    });

    it(`${kernel}: domain_unmap's WARN_ON on a range past the width raises out-of-aperture-unmap; the page stays mapped`, () => {
      const { L, dev, domain } = lab(kernel, { agaw: 48 });
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const last = 2 ** 48 - SZ_4K;
      expect(L.iommu_map(d, last, PA, SZ_4K, RW)).toBe(0);
      expect(L.iommu_unmap(d, last, 2 * SZ_4K)).toBe(2 * SZ_4K);
      expect(L.iommu_iova_to_phys(d, last)).toBe(PA);
      expect(dev.dma_read(last, 4).ok).toBe(true);
      const checks = L.lab.checks().filter((c) => c.id !== 'attach-time-finalise');
      expect(checks.map((c) => c.id)).toEqual(['out-of-aperture-unmap']);
      expect(checks[0].message).toMatch(
        /beyond the domain's 48-bit width, so domain_unmap WARNs and clears nothing/,
      );
    });
  }

  it('v6.16: domains are sized for the unit at allocation; a map above the width fails with -EFAULT', () => {
    const { L, domain, internal } = lab('v6.16', { agaw: 39 });
    const d = domain();
    expect(internal(d).gaw).toBe(39);
    expect(internal(d).levels).toBe(3);
    expect(d.geometry.aperture_end).toBe(2 ** 39 - 1);
    expect(L.iommu_map(d, 2 ** 39, PA, SZ_4K, RW)).toBe(-L.EFAULT);
  });

  it('v6.16: a domain for a 48-bit unit does not attach to a 39-bit one (-EINVAL)', () => {
    const { exports } = createLabModule({ kernel: 'v6.16' });
    const L = exports as unknown as typeof Api;
    const wide = L.lab.add_iommu('dmar0', 'intel-iommu', { agaw: 48 });
    const narrow = L.lab.add_iommu('dmar1', 'intel-iommu', { agaw: 39 });
    const a = L.lab.add_device('a', { iommu: wide });
    const b = L.lab.add_device('b', { iommu: narrow });
    const d = L.iommu_paging_domain_alloc(a);
    if (L.IS_ERR(d)) throw new Error('no domain');
    expect(L.iommu_attach_device(d, b)).toBe(-L.EINVAL);
  });
});

describe('intel-iommu domain IDs (IOMMU-FACTS §5.5 "Domain IDs")', () => {
  it('DID 0 is never handed out: v6.6 in legacy mode starts at DID 1', () => {
    const { unit, session } = lab('v6.6');
    expect(unit.domain_ids.has(0)).toBe(true);
    expect(unit.dma_tag(session.machine.devices[0])).toBe(1);
  });

  it('DID 1 (FLPT_DEFAULT_DID) is kept back in scalable mode, and in every mode by v6.16 (IDA_START_DID)', () => {
    const sm = lab('v6.6', { scalable: true });
    expect(sm.unit.dma_tag(sm.session.machine.devices[0])).toBe(2);
    const cur = lab('v6.16');
    expect(cur.unit.dma_tag(cur.session.machine.devices[0])).toBe(2);
  });

  it('ND = 0: 16 DIDs; with all usable ones taken an attach that needs a new one gets -ENOSPC', () => {
    const { exports, session } = createLabModule({ kernel: 'v6.16' });
    const L = exports as unknown as typeof Api;
    const vtd = L.lab.add_iommu('dmar0', 'intel-iommu', { nd: 0 });
    const unit = session.machine.iommus[0] as IntelIommu;
    expect(unit.ndoms).toBe(16);
    // Default domains take a DID each: single devices, then a two-device group for the last one.
    const free = unit.ndoms - unit.domain_ids.size;
    for (let i = 0; i < free - 1; i++) L.lab.add_device(`d${i}`, { iommu: vtd });
    const a = L.lab.add_device('ga', { iommu: vtd, group: 'g' });
    L.lab.add_device('gb', { iommu: vtd, group: 'g' });
    expect(unit.domain_ids.size).toBe(16);
    const d = L.iommu_paging_domain_alloc(a);
    if (L.IS_ERR(d)) throw new Error('no domain');
    // The first device leaves the shared default domain (its DID stays: the other device uses it),
    // so the new domain needs a DID the unit does not have.
    expect(L.iommu_attach_group(d, L.iommu_group_get(a)!)).toBe(-L.ENOSPC);
  });
});

describe('intel-iommu invalidation (IOMMU-FACTS §5.5 "Invalidation", §4.3)', () => {
  it('strict unmap: one PSI with the address-mask order over the range, then the wait descriptor', () => {
    const { L, dev, domain, events } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    L.iommu_map(d, IOVA, PA, 4 * SZ_4K, RW);
    expect(dev.dma_read(IOVA, 16).ok).toBe(true);
    const mark = L.lab.trace().length;
    expect(L.iommu_unmap(d, IOVA, 4 * SZ_4K)).toBe(4 * SZ_4K);
    expect(events('vtd_inv_desc_iotlb_pages', mark)).toEqual([
      expect.objectContaining({ addr: IOVA, mask: 2 }),
    ]);
    expect(events('vtd_inv_desc_wait_sw', mark)).toHaveLength(1);
    expect(dev.dma_read(IOVA, 16).ok).toBe(false);
  });

  for (const kernel of KERNELS) {
    it(`${kernel} legacy mode: a context change submits the context-cache and the IOTLB flush separately, each with its own wait (qi_flush_context, qi_flush_iotlb → qi_submit_sync)`, () => {
      const { L, dev, domain, unit, internal, events } = lab(kernel);
      // The device is on its default DMA domain: attaching another one rewrites its context entry.
      const old_did = internal(L.iommu_get_domain_for_dev(dev)!).did_on(unit);
      const mark = L.lab.trace().length;
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const queue = L.lab
        .trace()
        .slice(mark)
        .filter((e) => e.name.startsWith('vtd_inv_desc_'))
        .map((e) => [
          e.name.replace('vtd_inv_desc_', ''),
          e.name === 'vtd_inv_desc_wait_sw' ? e.descs : e.did,
        ]);
      // domain_context_clear_one (intel_context_flush_no_pasid in newer kernels): device-selective
      // context-cache flush, then the old DID's domain-selective IOTLB flush, each waited for.
      expect(queue).toEqual([
        ['cc_device', old_did],
        ['wait_sw', 1],
        ['iotlb_domain', old_did],
        ['wait_sw', 1],
      ]);
      expect(events('vtd_context_entry', mark).map((e) => e.type)).toEqual(['blocked', 'sl']);
    });

    it(`${kernel} legacy mode + CM: making a context entry present flushes DID 0's context cache, then the new DID's IOTLB, as two submissions (domain_context_mapping_one)`, () => {
      const { L, dev, domain, unit, internal } = lab(kernel, { caching_mode: true });
      const mark = L.lab.trace().length;
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const did = internal(d).did_on(unit);
      const names = L.lab
        .trace()
        .slice(mark)
        .filter((e) => e.name.startsWith('vtd_inv_desc_'))
        .map((e) => e.name.replace('vtd_inv_desc_', ''));
      const pair = ['cc_device', 'wait_sw', 'iotlb_domain', 'wait_sw'];
      expect(names).toEqual([...pair, ...pair]);
      expect(
        L.lab
          .trace()
          .filter((e, i) => i >= mark && e.name === 'vtd_inv_desc_cc_device')
          .at(-1),
      ).toMatchObject({
        did: 0,
      });
      expect(
        L.lab
          .trace()
          .filter((e, i) => i >= mark && e.name === 'vtd_inv_desc_iotlb_domain')
          .at(-1),
      ).toMatchObject({
        did,
      });
    });
  }

  for (const kernel of KERNELS) {
    const cache_tags = kernel === 'v6.16';
    it(`${kernel}: superpages that take the slots of tables flush each slot at once, CM or not (switch_to_super_page: ${cache_tags ? 'cache_tag_flush_range from the slot to the end of the run' : 'iommu_flush_iotlb_psi of the slot'})`, () => {
      const { L, dev, domain, events } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      for (const iova of [0x20_0000, 0x40_0000]) {
        expect(L.iommu_map(d, iova, PA + iova, SZ_4K, RW)).toBe(0);
        expect(dev.dma_read(iova, 4).ok).toBe(true); // the 4K translation is cached
      }
      const mark = L.lab.trace().length;
      expect(L.iommu_map(d, 0x20_0000, 0x4000_0000, 2 * SZ_2M, RW)).toBe(0);
      expect(events('vtd_inv_desc_iotlb_pages', mark).map((e) => [e.addr, e.mask])).toEqual(
        cache_tags
          ? [
              [0, 11], // pfns 0x200–0x5ff: the aligned block that holds them
              [0x40_0000, 9],
            ]
          : [
              [0x20_0000, 9],
              [0x40_0000, 9],
            ],
      );
      for (const iova of [0x20_0000, 0x40_0000])
        expect(dev.dma_read(iova, 4)).toMatchObject({
          ok: true,
          tlb: 'miss',
          pa: 0x4000_0000 + iova - 0x20_0000,
        });
      expect(L.lab.checks().map((c) => c.id)).not.toContain('stale-iotlb-hit');
    });
  }

  it('flush_iotlb_all is a domain-selective invalidation', () => {
    const { L, dev, domain, unit, events } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    const did = unit.dma_tag(unit.machine.devices[0]);
    const mark = L.lab.trace().length;
    L.iommu_flush_iotlb_all(d);
    expect(events('vtd_inv_desc_iotlb_domain', mark)).toEqual([expect.objectContaining({ did })]);
  });

  it('x86 is lazy by default and Intel reports DEFERRED_FLUSH: the default domain is DMA-FQ', () => {
    const { L, dev } = lab('v6.16');
    expect(L.iommu_get_domain_for_dev(dev)?.type).toBe(L.IOMMU_DOMAIN_DMA_FQ);
  });
});

describe('intel-iommu reserved regions (IOMMU-FACTS §3.1, §3.4)', () => {
  it('RMRRs (the firmware DIRECT regions), then MSI 0xfee00000–0xfeefffff with prot 0', () => {
    const { L, dev } = lab(
      'v6.16',
      {},
      { resv: [{ start: 0xe000_0000, length: 0x10_0000, type: 'direct' }] },
    );
    expect(L.iommu_get_resv_regions(dev)).toEqual([
      { start: 0xe000_0000, length: 0x10_0000, prot: 3, type: L.IOMMU_RESV_DIRECT },
      { start: 0xfee0_0000, length: 0x10_0000, prot: 0, type: L.IOMMU_RESV_MSI },
    ]);
    // The RMRR is mapped 1:1 in the DMA default domain.
    expect(L.iommu_iova_to_phys(L.iommu_get_domain_for_dev(dev)!, 0xe000_0000)).toBe(0xe000_0000);
  });
});

describe('intel-iommu eras (IOMMU-FACTS §6 (e))', () => {
  it('v6.6 has domain_alloc and no domain_alloc_paging; v6.16 the reverse', () => {
    expect(lab('v6.6').vtd.ops.domain_alloc).toBeDefined();
    expect(lab('v6.6').vtd.ops.domain_alloc_paging).toBeUndefined();
    expect(lab('v6.16').vtd.ops.domain_alloc).toBeUndefined();
    expect(lab('v6.16').vtd.ops.domain_alloc_paging).toBeDefined();
  });

  it.each(['v6.6', 'v6.8'] as Kernel[])(
    '%s: ops.domain_alloc(type) knows BLOCKED, IDENTITY, DMA and UNMANAGED; any other type is NULL (intel_iommu_domain_alloc: default: return NULL)',
    (kernel) => {
      const { L, vtd } = lab(kernel);
      const alloc = vtd.ops.domain_alloc!;
      expect(alloc(L.IOMMU_DOMAIN_BLOCKED)?.type).toBe(L.IOMMU_DOMAIN_BLOCKED);
      expect(alloc(L.IOMMU_DOMAIN_IDENTITY)?.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
      expect(alloc(L.IOMMU_DOMAIN_DMA)?.type).toBe(L.IOMMU_DOMAIN_DMA);
      expect(alloc(L.IOMMU_DOMAIN_UNMANAGED)?.type).toBe(L.IOMMU_DOMAIN_UNMANAGED);
      // The core strips the FQ bit before it asks; SVA domains are not modelled.
      for (const type of [L.IOMMU_DOMAIN_DMA_FQ, 2, 0x10, 0xffff_ffff]) expect(alloc(type)).toBeNull();
    },
  );
});

describe('intel-iommu empty-gather iotlb_sync (IOMMU-FACTS §2.3: the gather starts at ULONG_MAX, end 0)', () => {
  for (const kernel of ['v6.6', 'v6.8'] as const) {
    it(`${kernel}: a misaligned unmap still syncs: iommu_flush_iotlb_psi flushes one page at 0xfffffffffffff000 (intel_iommu_tlb_sync)`, () => {
      const { L, dev, domain, events } = lab(kernel);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const mark = L.lab.trace().length;
      expect(L.iommu_unmap(d, 0x800, SZ_4K)).toBe(0);
      expect(events('vtd_inv_desc_iotlb_pages', mark)).toMatchObject([{ addr: 2 ** 64 - SZ_4K, mask: 0 }]);
      expect(events('vtd_inv_desc_iotlb_domain', mark)).toHaveLength(0);
    });
  }

  it('v6.16: cache_tag_flush_range(ULONG_MAX, 0): calculate_psi_aligned_address gives mask 53 > MAMV, a DSI', () => {
    const { L, dev, domain, events } = lab('v6.16');
    const d = domain();
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    const mark = L.lab.trace().length;
    expect(L.iommu_unmap(d, 0x800, SZ_4K)).toBe(0);
    expect(events('vtd_inv_desc_iotlb_domain', mark)).toHaveLength(1);
    expect(events('vtd_inv_desc_iotlb_pages', mark)).toHaveLength(0);
  });
});

describe('intel-iommu first-stage domains (IOMMU-FACTS §5.5; first_level_by_default, qi_flush_piotlb)', () => {
  for (const kernel of ['v6.6', 'v6.8'] as const) {
    it(`${kernel} scalable: the DMA default domain is first-stage (type != UNMANAGED), aperture 2^47 - 1; UNMANAGED stays second-stage`, () => {
      const { L, dev, domain, internal } = lab(kernel, { scalable: true });
      const dd = L.iommu_get_domain_for_dev(dev)!;
      expect(internal(dd).use_first_level).toBe(true);
      expect(dd.geometry.aperture_end).toBe(2 ** 47 - 1);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(internal(d).use_first_level).toBe(false);
      expect(d.geometry.aperture_end).toBe(2 ** 48 - 1);
    });

    it(`${kernel} scalable + CM: the DMA domain's map issues no flush and DMA stays lazy (first-stage is not shadowed)`, () => {
      const { L, dev, events } = lab(kernel, { scalable: true, caching_mode: true });
      expect(L.iommu_get_domain_for_dev(dev)!.type).toBe(L.IOMMU_DOMAIN_DMA_FQ);
      const mark = L.lab.trace().length;
      const h = L.dma_map_single(dev, PA, SZ_4K, L.DMA_BIDIRECTIONAL);
      expect(h).not.toBe(L.DMA_MAPPING_ERROR);
      expect(
        L.lab
          .trace()
          .slice(mark)
          .filter((e) => e.kind === 'command'),
      ).toHaveLength(0);
      expect(events('vtd_inv_desc_iotlb_pages', mark)).toHaveLength(0);
    });
  }

  for (const kernel of KERNELS) {
    it(`${kernel} scalable: unmap and flush_iotlb_all of a first-stage domain use PASID-based IOTLB descriptors (no DSI fallback)`, () => {
      const { L, dev, domain, internal, events } = lab(kernel, { scalable: true });
      // v6.16: every paging domain is first-stage; before, the DMA default domain is.
      const d = kernel === 'v6.16' ? domain() : L.iommu_get_domain_for_dev(dev)!;
      if (kernel === 'v6.16') expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(internal(d).use_first_level).toBe(true);
      expect(L.iommu_map(d, IOVA, PA, 3 * SZ_4K, RW)).toBe(0);
      let mark = L.lab.trace().length;
      expect(L.iommu_unmap(d, IOVA + SZ_4K, 2 * SZ_4K)).toBe(2 * SZ_4K);
      expect(events('vtd_inv_desc_iotlb_pages', mark)).toHaveLength(0);
      expect(events('vtd_inv_desc_iotlb_domain', mark)).toHaveLength(0);
      // v6.10+ aligns first (mask 2 at IOVA); before, qi_flush_piotlb got 2 pages from IOVA + 4K and
      // aligned the start down to 8K, which leaves IOVA + 8K out.
      const psi = events('vtd_inv_desc_iotlb_pasid_pages', mark);
      expect(psi).toMatchObject([
        kernel === 'v6.16' ? { addr: IOVA, mask: 2, pasid: 0 } : { addr: IOVA, mask: 1, pasid: 0 },
      ]);
      // qi_flush_piotlb's WARN_ON_ONCE(!IS_ALIGNED(addr, align)) before v6.10.
      const short = L.lab.checks().filter((c) => c.id === 'invalidation-short');
      if (kernel === 'v6.16') expect(short).toEqual([]);
      else
        expect(short.map((c) => c.message)).toEqual([
          `qi_flush_piotlb on dmar0 WARNed: 0x${(IOVA + SZ_4K).toString(16)} is not aligned to the 0x2000 it invalidates, so [0x${(IOVA + 2 * SZ_4K).toString(16)}, 0x${(IOVA + 3 * SZ_4K).toString(16)}) stays cached`,
        ]);
      mark = L.lab.trace().length;
      L.iommu_flush_iotlb_all(d);
      expect(events('vtd_inv_desc_iotlb_pasid', mark)).toMatchObject([{ pasid: 0 }]);
      expect(events('vtd_inv_desc_iotlb_domain', mark)).toHaveLength(0);
    });
  }
});

describe('intel-iommu first-stage entries (vtd-fs: __domain_mapping, pfn_to_dma_pte)', () => {
  for (const kernel of KERNELS) {
    const xd = kernel !== 'v6.16';
    it(`${kernel} scalable: IA-32e entries${xd ? ' with XD' : ''}; a read-only map is P without R/W and a device write faults`, () => {
      const { L, dev, domain, internal } = lab(kernel, { scalable: true });
      const d = kernel === 'v6.16' ? domain() : L.iommu_get_domain_for_dev(dev)!;
      if (kernel === 'v6.16') expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(L.iommu_map(d, IOVA, PA, SZ_4K, L.IOMMU_READ)).toBe(0);
      const pgtbl = internal(d).pgtbl!;
      expect(pgtbl.fmt.name).toBe('vtd-fs');
      const leaf = pgtbl
        .tables()
        .flatMap((t) => t.entries)
        .find((e) => e.decoded.type === 'page')!;
      expect(leaf.decoded.bits).toMatchObject({ P: 1, 'R/W': 0, 'U/S': 1, A: 1, D: 0, XD: xd ? 1 : 0 });
      expect(dev.dma_read(IOVA, 4).ok).toBe(true);
      const w = dev.dma_write(IOVA, [1]);
      expect(w.ok).toBe(false);
      if (!w.ok) expect(w.fault.reason).toBe('permission');
    });
  }

  it('second-stage domains keep the vtd-sl format on a scalable unit', () => {
    const { L, dev, domain, internal } = lab('v6.8', { scalable: true });
    const d = domain();
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(internal(d).pgtbl!.fmt.name).toBe('vtd-sl');
  });
});

describe('intel-iommu scalable mode: PASID entries and the PASID cache (pasid.c)', () => {
  const commands = (L: typeof Api, from = 0) =>
    L.lab
      .trace()
      .slice(from)
      .filter((e) => e.kind === 'command' && e.name !== 'vtd_context_entry')
      .map((e) => e.name.replace(/^vtd_(inv_desc_)?/, ''));

  for (const kernel of KERNELS) {
    const at_probe = kernel === 'v6.16';
    it(`${kernel} scalable + CM: the context entry is set ${at_probe ? 'at probe' : 'by the first attach'}, once; attach and detach flush the PASID cache`, () => {
      const { L, dev, domain } = lab(kernel, { scalable: true, caching_mode: true });
      // Each flush is its own qi_submit_sync: a descriptor, then its wait.
      const context = ['cc_device', 'wait_sw', 'iotlb_domain', 'wait_sw'];
      const setup = ['pasid_cache_psi', 'wait_sw', 'iotlb_pasid', 'wait_sw'];
      expect(commands(L)).toEqual(at_probe ? [...context, ...setup] : [...setup, ...context]);
      const mark = L.lab.trace().length;
      // The second attach tears the default domain's PASID entry down (intel_pasid_tear_down_entry)
      // and sets the new one up (pasid_flush_caches: PASID-selective IOTLB flush for every type).
      expect(L.iommu_attach_device(domain(), dev)).toBe(0);
      expect(commands(L, mark)).toEqual(['pasid_cache_psi', 'wait_sw', 'iotlb_pasid', 'wait_sw', ...setup]);
      expect(L.lab.trace().some((e, i) => i >= mark && e.name === 'vtd_inv_desc_cc_device')).toBe(false);
    });
  }

  it('v6.8 scalable: tearing down a second-stage PASID entry is a PASID-cache then a domain-selective IOTLB flush', () => {
    const { L, dev, unit, domain, internal, events } = lab('v6.8', { scalable: true });
    const d = domain();
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(internal(d).use_first_level).toBe(false);
    const did = internal(d).did_on(unit);
    const mark = L.lab.trace().length;
    L.iommu_detach_device(d, dev);
    expect(commands(L, mark).slice(0, 4)).toEqual(['pasid_cache_psi', 'wait_sw', 'iotlb_domain', 'wait_sw']);
    expect(events('vtd_pasid_cache_psi', mark)[0]).toMatchObject({ did, pasid: 0 });
  });
});

describe('intel-iommu options (domain_setup_first_level: 4 or 5 levels only)', () => {
  it('scalable: true with agaw: 39 is refused, naming both options', () => {
    const { exports } = createLabModule({ kernel: 'v6.16' });
    const L = exports as unknown as typeof Api;
    expect(() => L.lab.add_iommu('dmar0', 'intel-iommu', { scalable: true, agaw: 39 })).toThrow(
      /scalable: true and agaw: 39/,
    );
    expect(() => L.lab.add_iommu('dmar1', 'intel-iommu', { scalable: true, agaw: 57 })).not.toThrow();
  });
});
