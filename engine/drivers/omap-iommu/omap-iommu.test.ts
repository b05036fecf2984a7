/**
 * omap-iommu quirks, driven through the script module as a script would (IOMMU-FACTS §5.2, §6).
 */
import { describe, expect, it } from 'vitest';
import type { KernelName } from '../../core/kernel-profile.ts';
import type * as Api from '../../script/iommu-lab.d.ts';
import { createLabModule } from '../../script/module.ts';
import { OmapIommu } from './omap.ts';

const RW = 3;
const PA = 0x8000_0000;

function lab(kernel: KernelName) {
  const { exports, session } = createLabModule({ kernel });
  return { L: exports as unknown as typeof Api, session };
}

/** An UNMANAGED domain the era's way: iommu_paging_domain_alloc from v6.11, the bus API before. */
function alloc(L: typeof Api, kernel: KernelName, dev: Api.Device): Api.IommuDomain {
  const d =
    kernel === 'v6.16' ? L.iommu_paging_domain_alloc(dev) : L.iommu_domain_alloc(L.lab.bus('platform'));
  if (!d || L.IS_ERR(d)) throw new Error('no domain');
  return d;
}

function setup(kernel: KernelName, options: Api.OmapIommuOptions = {}) {
  const { L, session } = lab(kernel);
  const iommu = L.lab.add_iommu('ipu_mmu', 'omap-iommu', options);
  const dev = L.lab.add_device('ipu', { iommu, bus: 'platform' });
  const domain = alloc(L, kernel, dev);
  const inst = session.machine.iommus[0] as OmapIommu;
  return { L, session, iommu, dev, domain, inst };
}

const KERNELS: KernelName[] = ['v6.6', 'v6.8', 'v6.16'];

describe('omap-iommu', () => {
  it('a range past 4 GiB is a bad argument: omap is 32-bit Arm, iova an unsigned long (no wrap onto a low IOVA)', () => {
    const { L, dev, domain } = setup('v6.16');
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    expect(() => L.iommu_map(domain, 2 ** 32, PA, L.SZ_4K, RW)).toThrow(
      /iova \+ size must end by 2\^32 on omap-iommu, a 32-bit Arm IOMMU/,
    );
    expect(() => L.iommu_map(domain, 2 ** 32 - L.SZ_4K, PA, 2 * L.SZ_4K, RW)).toThrow(RangeError);
    expect(() => L.iommu_unmap(domain, 2 ** 32, L.SZ_4K)).toThrow(RangeError);
    expect(() => L.iommu_iova_to_phys(domain, 2 ** 32)).toThrow(
      'iova must be below 2^32 on omap-iommu, a 32-bit Arm IOMMU (iova is an unsigned long) (got 0x100000000)',
    );
    // The last page of the 32-bit space is an IOVA like any other; nothing was mapped at 0.
    expect(L.iommu_map(domain, 2 ** 32 - L.SZ_4K, PA, L.SZ_4K, RW)).toBe(0);
    expect(L.iommu_iova_to_phys(domain, 2 ** 32 - 1)).toBe(PA + 0xfff);
    expect(L.iommu_iova_to_phys(domain, 0)).toBe(0);
  });

  it.each(KERNELS)(
    'IOMMU-FACTS §5.2, §6 (a): map before attach returns -EINVAL, the domain has no table (%s)',
    (kernel) => {
      const { L, dev, domain } = setup(kernel);
      expect(domain.pgsize_bitmap).toBe(0x1000 + 0x10000 + 0x100000 + 0x1000000);
      expect(domain.geometry).toEqual({ aperture_start: 0, aperture_end: 0xffff_ffff, force_aperture: true });
      expect(L.iommu_map(domain, 0x10000, PA, L.SZ_4K, RW)).toBe(-L.EINVAL);
      // Raised once, by the checks' trace watcher (the driver leaves it to them).
      expect(L.lab.checks().filter((c) => c.id === 'map-before-attach-failed')).toHaveLength(1);
      // After attach the same map works: the table arrives with the attach.
      expect(L.iommu_attach_device(domain, dev)).toBe(0);
      expect(L.iommu_map(domain, 0x10000, PA, L.SZ_4K, RW)).toBe(0);
      expect(L.iommu_iova_to_phys(domain, 0x10123)).toBe(PA + 0x123);
    },
  );

  it.each(KERNELS)(
    'IOMMU-FACTS §5.2, §6 (b): an unmap after the detach unmaps nothing and returns 0, as the usual clean-up order does (%s)',
    (kernel) => {
      const { L, dev, domain } = setup(kernel);
      expect(L.iommu_unmap(domain, 0x10000, L.SZ_4K)).toBe(0); // never attached
      expect(L.iommu_attach_device(domain, dev)).toBe(0);
      expect(L.iommu_map(domain, 0x10000, PA, L.SZ_4K, RW)).toBe(0);
      L.iommu_detach_device(domain, dev);
      expect(L.iommu_unmap(domain, 0x10000, L.SZ_4K)).toBe(0);
      expect(L.lab.checks().filter((c) => c.id === 'unmap-of-hole')).toHaveLength(2);
    },
  );

  it.each(KERNELS)(
    'IOMMU-FACTS §2.3, §5.2 (verified: iopgtable_clear_entry_core): an unmap of an empty 4K slot in a section holding an L2 table returns 4K, and is an unmap-of-hole (%s)',
    (kernel) => {
      const { L, dev, domain } = setup(kernel);
      expect(L.iommu_attach_device(domain, dev)).toBe(0);
      expect(L.iommu_map(domain, 0x10_0000, PA, L.SZ_4K, RW)).toBe(0);
      // The L1 entry points at an L2 table, so the driver takes IOPTE_SIZE, zeroes the (empty) slot
      // and returns 4K: iommu_unmap reports the whole range, Linux's answer, kept.
      expect(L.iommu_unmap(domain, 0x10_1000, L.SZ_4K)).toBe(L.SZ_4K);
      const holes = L.lab.checks().filter((c) => c.id === 'unmap-of-hole');
      expect(holes).toHaveLength(1);
      expect(holes[0].message).toContain('nothing was mapped at 0x101000');
      const hole = L.lab.trace().filter((e) => e.name === 'pgtable_unmap_hole');
      expect(hole).toMatchObject([{ iova: 0x10_1000, level: 2 }]);
      // The real mapping elsewhere in the section is untouched.
      expect(L.iommu_iova_to_phys(domain, 0x10_0123)).toBe(PA + 0x123);
      // An unmap in an empty section returns 0 and is the same check.
      expect(L.iommu_unmap(domain, 0x30_0000, L.SZ_4K)).toBe(0);
      expect(L.lab.checks().filter((c) => c.id === 'unmap-of-hole')).toHaveLength(2);
      // Unmapping what was mapped raises nothing more.
      expect(L.iommu_unmap(domain, 0x10_0000, L.SZ_4K)).toBe(L.SZ_4K);
      expect(L.lab.checks().filter((c) => c.id === 'unmap-of-hole')).toHaveLength(2);
    },
  );

  it.each(KERNELS)(
    'IOMMU-FACTS §5.2, §6 (b): detach clears and frees the tables, every mapping is lost (%s)',
    (kernel) => {
      const { L, dev, domain, inst } = setup(kernel);
      expect(L.iommu_attach_device(domain, dev)).toBe(0);
      expect(L.iommu_map(domain, 0x10000, PA, L.SZ_64K, RW)).toBe(0);
      expect(dev.dma_read(0x10000, 4)).toMatchObject({ ok: true, pa: PA });

      L.iommu_detach_device(domain, dev);
      const lost = L.lab.checks().filter((c) => c.id === 'mappings-lost-on-detach');
      expect(lost).toHaveLength(1);
      expect(lost[0].message).toContain('0x10000');
      expect(inst.mmus[0].iopgd).toBeNull();
      // With MMU_EN clear the MMU does not translate: the IOVA reaches memory as is.
      expect(dev.dma_read(0x10000, 4)).toMatchObject({ ok: true, pa: 0x10000 });
      // omap_domain->iommus is NULL now: the kernel's iova_to_phys dereferences it. The lab says so
      // (kernel-oops) and answers 0, so the scenario goes on.
      expect(L.iommu_iova_to_phys(domain, 0x10000)).toBe(0);
      expect(L.lab.checks().at(-1)).toMatchObject({
        id: 'kernel-oops',
        message: expect.stringContaining('omap_iommu_iova_to_phys dereferences a NULL pointer'),
      });

      // An unmap there oopses nothing (omap_iommu_unmap loops over no MMU and returns 0): the
      // lab's own diagnosis of the short unmap must not borrow iova_to_phys's oops.
      const oopses = L.lab.checks().filter((c) => c.id === 'kernel-oops').length;
      expect(L.iommu_unmap(domain, 0x10000, 0x1000)).toBe(0);
      expect(L.lab.checks().filter((c) => c.id === 'kernel-oops')).toHaveLength(oopses);
      expect(L.lab.checks().at(-1)?.id).toBe('unmap-of-hole');

      // Re-attach: a fresh, empty table.
      expect(L.iommu_attach_device(domain, dev)).toBe(0);
      expect(L.iommu_iova_to_phys(domain, 0x10000)).toBe(0);
      const r = dev.dma_read(0x10000, 4);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.fault.reason).toBe('translation');
    },
  );

  it.each(['v6.6', 'v6.16'] as KernelName[])(
    "IOMMU-FACTS §5.2: an MMU's clients share its one group (omap_iommu_device_group), and a domain takes one client (%s)",
    (kernel) => {
      const { L, iommu, dev, domain } = setup(kernel);
      const other = L.lab.add_device('ipu1', { iommu, bus: 'platform' });
      const group = L.iommu_group_get(dev)!;
      expect(L.iommu_group_get(other)).toBe(group);
      // The core takes a lone device's attach only for a group of one (facts §1.5).
      expect(L.iommu_attach_device(domain, dev)).toBe(-L.EINVAL);
      // The group's attach reaches the driver for the second client: -EINVAL in every modelled era
      // ("iommu: Use EINVAL for incompatible device/domain in ->attach_dev", v6.2, turned omap's
      // -EBUSY into -EINVAL, so the facts' "legacy -EBUSY" predates v6.6); the group stays put.
      const before = L.iommu_get_domain_for_dev(other);
      expect(L.iommu_attach_group(domain, group)).toBe(-L.EINVAL);
      expect(L.iommu_get_domain_for_dev(other)).toBe(before);
      expect(L.iommu_get_domain_for_dev(dev)).toBe(before);
    },
  );

  it('IOMMU-FACTS §5.2: 64K pages and 16M supersections are 16 replicated entries in the table view', () => {
    const { L, dev, domain, inst } = setup('v6.16');
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    expect(L.iommu_map(domain, 0x10000, PA, L.SZ_64K, RW)).toBe(0);
    expect(L.iommu_map(domain, 0x100_0000, 0x9000_0000, L.SZ_16M, RW)).toBe(0);
    const tables = inst.mmus[0].iopgd!.tables();
    const entries = tables.flatMap((t) => t.entries);
    const large = entries.filter((e) => e.decoded.size === L.SZ_64K);
    const supers = entries.filter((e) => e.decoded.size === L.SZ_16M);
    expect(large).toHaveLength(16);
    expect(supers).toHaveLength(16);
    expect(new Set(large.map((e) => e.raw_lo)).size).toBe(1);
    expect(new Set(supers.map((e) => e.raw_lo)).size).toBe(1);
    // The panels' merged view reports each leaf once.
    expect(domain.iommu).not.toBeNull();
    expect(L.iommu_iova_to_phys(domain, 0x1ab_cdef)).toBe(0x90ab_cdef);
    expect(L.iommu_iova_to_phys(domain, 0x1_f123)).toBe(PA + 0xf123);
  });

  it('IOMMU-FACTS §5.2 (verified: omap_iopgtable_store_entry, iopgtable_clear_entry): every store and clear flushes the TLB entry covering the address', () => {
    const { L, dev, domain, iommu } = setup('v6.16');
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    expect(L.iommu_map(domain, 0x20000, PA, L.SZ_4K, RW)).toBe(0);
    expect(dev.dma_read(0x20000, 4)).toMatchObject({ ok: true, tlb: 'miss' });
    expect(dev.dma_read(0x20000, 4)).toMatchObject({ ok: true, tlb: 'hit' });
    expect(iommu.tlb.entries()).toHaveLength(1);

    expect(L.iommu_unmap(domain, 0x20000, L.SZ_4K)).toBe(L.SZ_4K);
    const flushes = L.lab.trace().filter((e) => e.name === 'omap_iommu_flush_entry');
    // One flush before the store (nothing cached yet), one after the clear (the entry DMA cached).
    expect(flushes.map((e) => e.found)).toEqual([false, true]);
    expect(iommu.tlb.entries()).toHaveLength(0);
    const r = dev.dma_read(0x20000, 4);
    expect(r).toMatchObject({ ok: false });
    expect(L.lab.checks().map((c) => c.id)).not.toContain('stale-iotlb-hit');
    // No sync ops exist to do it instead.
    expect(domain.ops.iotlb_sync).toBeUndefined();
    expect(domain.ops.iotlb_sync_map).toBeUndefined();
  });

  it.each(['v6.8', 'v6.16'] as const)(
    'IOMMU-FACTS §1.5: 32-bit Arm (ARM_DMA_USE_IOMMU) forces IDENTITY from v6.7: a wish for DMA or blocked loses, an untrusted device is refused (%s)',
    (kernel) => {
      const { L } = lab(kernel);
      // One MMU each: an MMU's clients share one group, whose default domain its first client picks.
      for (const default_domain of ['dma', 'dma-fq', 'blocked'] as const) {
        const iommu = L.lab.add_iommu(`mmu-${default_domain}`, 'omap-iommu');
        const dev = L.lab.add_device(`dev-${default_domain}`, { iommu, bus: 'platform', default_domain });
        expect(L.iommu_get_domain_for_dev(dev)?.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
      }
      const iommu = L.lab.add_iommu('mmu-ext', 'omap-iommu');
      expect(() => L.lab.add_device('ext', { iommu, bus: 'pci', trusted: false })).toThrow(
        /untrusted.*32-bit Arm/,
      );
    },
  );

  it.each(KERNELS)(
    'IOMMU-FACTS §1.5: a detach back to the blocking domain omap refuses is a WARN: domain-switch-failed (%s)',
    (kernel) => {
      const { L, dev, domain } = setup(kernel);
      expect(L.iommu_device_claim_dma_owner(dev, 'vfio')).toBe(0);
      expect(L.iommu_attach_device(domain, dev)).toBe(0);
      L.iommu_detach_device(domain, dev);
      expect(L.lab.checks().map((c) => c.id)).toContain('domain-switch-failed');
    },
  );

  it('IOMMU-FACTS §5.2: tables hold 32-bit addresses, so they come from below 4 GiB; with that memory used up the attach fails -ENOMEM', () => {
    const { L, dev, domain } = setup('v6.16');
    L.lab.mem.alloc(0xc100_0000); // RAM starts at 1 GiB: this takes everything below 4 GiB
    expect(L.iommu_attach_device(domain, dev)).toBe(-L.ENOMEM);
    const roomy = setup('v6.16');
    expect(roomy.L.iommu_attach_device(roomy.domain, roomy.dev)).toBe(0);
  });

  it('IOMMU-FACTS §5.2, §1.5: v6.6 has no default domain; the device starts unattached and untranslated', () => {
    const { L, dev, domain, iommu } = setup('v6.6');
    expect(L.iommu_get_domain_for_dev(dev)).toBeNull();
    expect(dev.dma_read(0x1234_5000, 4)).toMatchObject({ ok: true, pa: 0x1234_5000 });
    expect(iommu.ops.domain_alloc_paging).toBeUndefined();
    expect(
      L.lab.trace().some((e) => e.name === 'iommu_domain_alloc' && e.type === L.IOMMU_DOMAIN_IDENTITY),
    ).toBe(false);
    // Detach goes through set_platform_dma_ops: back to no domain, MMU off.
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    L.iommu_detach_device(domain, dev);
    expect(L.iommu_get_domain_for_dev(dev)).toBeNull();
    expect(L.lab.trace().filter((e) => e.name === 'omap_iommu_disable')).toHaveLength(1);
  });

  it.each(['v6.8', 'v6.16'] as KernelName[])(
    'IOMMU-FACTS §5.2, §1.5: from v6.7 the static identity domain is the default, and attaching it detaches the paging domain (%s)',
    (kernel) => {
      const { L, dev, domain } = setup(kernel);
      const def = L.iommu_get_domain_for_dev(dev)!;
      expect(def.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
      expect(L.iommu_attach_device(domain, dev)).toBe(0);
      expect(L.iommu_map(domain, 0x10000, PA, L.SZ_4K, RW)).toBe(0);
      L.iommu_detach_device(domain, dev);
      expect(L.iommu_get_domain_for_dev(dev)).toBe(def);
      expect(L.lab.checks().map((c) => c.id)).toContain('mappings-lost-on-detach');
    },
  );

  it('IOMMU-FACTS §5.2: a DRA7 DSP client with two mirrored MMUs gets one L1 table per MMU', () => {
    const { L, dev, domain, inst } = setup('v6.16', { mmus: 2 });
    expect(L.iommu_map(domain, 0x10000, PA, L.SZ_4K, RW)).toBe(-L.EINVAL);
    expect(L.iommu_attach_device(domain, dev)).toBe(0);
    const [m0, m1] = inst.mmus;
    expect(m0.iopgd).not.toBeNull();
    expect(m1.iopgd).not.toBeNull();
    expect(m0.iopgd!.root).not.toBe(m1.iopgd!.root);
    expect(L.iommu_map(domain, 0x10000, PA, L.SZ_4K, RW)).toBe(0);
    expect(m1.iopgd!.iova_to_phys(0x10000)).toBe(PA);
    expect(L.lab.trace().filter((e) => e.name === 'omap_iommu_enable')).toHaveLength(2);
    L.iommu_detach_device(domain, dev);
    expect(m0.iopgd).toBeNull();
    expect(m1.iopgd).toBeNull();
  });

  it('IOMMU-FACTS §5.2, §6: the table belongs to the MMU: a second domain attached through it (the driver op, called directly) takes it over', () => {
    // Through the core the MMU's one group has one domain at a time; the driver itself does not
    // check whether the MMU already serves another domain (omap_iommu_attach_dev).
    const { L, iommu, dev, inst } = setup('v6.16');
    const dev2 = L.lab.add_device('ipu_b', { iommu, bus: 'platform' });
    const [x, y] = [dev, dev2].map((d) => alloc(L, 'v6.16', d));
    expect(x.ops.attach_dev!(x, dev)).toBe(0);
    expect(L.iommu_map(x, 0x10000, PA, L.SZ_4K, RW)).toBe(0);
    expect(dev.dma_read(0x10000, 4).ok).toBe(true);
    expect(y.ops.attach_dev!(y, dev2)).toBe(0);
    // MMU_TTB now points at y's fresh table: x's mapping is gone for the device...
    expect(dev.dma_read(0x10000, 4).ok).toBe(false);
    // ...and x's next map lands in y's table.
    expect(L.iommu_map(x, 0x30000, PA, L.SZ_4K, RW)).toBe(0);
    expect(L.iommu_iova_to_phys(y, 0x30000)).toBe(PA);
    expect(inst.mmus[0].domain?.id).toBe(y.id); // the MMU records only its last domain
  });
});
