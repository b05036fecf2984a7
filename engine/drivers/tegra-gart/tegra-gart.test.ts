/**
 * tegra-gart quirks, driven through the script module as a script would (IOMMU-FACTS §5.3, §6,
 * §7 item 18). The driver exists in the v6.6 profile only.
 */
import { describe, expect, it } from 'vitest';
import { KernelVersionError, type KernelName } from '../../core/kernel-profile.ts';
import type * as Api from '../../script/iommu-lab.d.ts';
import { createLabModule } from '../../script/module.ts';

const RW = 3;
const BASE = 0x5800_0000; // Tegra20's aperture: 32 MiB at 0x58000000
const PA = 0x1000_0000;

function setup(options: Api.TegraGartOptions = {}) {
  const { exports, session } = createLabModule({ kernel: 'v6.6' });
  const L = exports as unknown as typeof Api;
  const gart = L.lab.add_iommu('gart', 'tegra-gart', options);
  const a_dev = L.lab.add_device('gr2d', { iommu: gart, bus: 'platform' });
  const b_dev = L.lab.add_device('gr3d', { iommu: gart, bus: 'platform' });
  const alloc = () => {
    const d = L.iommu_domain_alloc(L.lab.bus('platform'));
    if (!d) throw new Error('no domain');
    return d;
  };
  return { L, session, gart, a_dev, b_dev, alloc };
}

describe('tegra-gart', () => {
  it('IOMMU-FACTS §1.5: releasing DMA ownership returns to no domain at all (no default domain in v6.6)', () => {
    const { L, a_dev, b_dev, alloc } = setup();
    expect(L.iommu_device_claim_dma_owner(a_dev, 'vfio')).toBe(0);
    expect(L.iommu_get_domain_for_dev(a_dev)).not.toBe(null); // the blocking stand-in
    L.iommu_device_release_dma_owner(a_dev);
    expect(L.iommu_get_domain_for_dev(a_dev)).toBe(null);
    // Nothing is left attached through the GART, so another device's domain may attach.
    expect(L.iommu_attach_device(alloc(), b_dev)).toBe(0);
  });

  it("IOMMU-FACTS §7 item 18: map in A, detach A, attach B: B sees A's entry; B cannot attach while A is active", () => {
    const { L, a_dev, b_dev, alloc } = setup();
    const A = alloc();
    const B = alloc();
    expect(L.iommu_attach_device(A, a_dev)).toBe(0);
    expect(L.iommu_map(A, BASE, PA, L.SZ_4K, RW)).toBe(0);
    // One domain is active at a time: the GART refuses B for another device while A has one.
    expect(L.iommu_attach_device(B, b_dev)).toBe(-L.EINVAL);

    L.iommu_detach_device(A, a_dev);
    expect(L.iommu_attach_device(B, b_dev)).toBe(0);
    expect(L.iommu_iova_to_phys(B, BASE)).toBe(PA);
    expect(b_dev.dma_read(BASE, 4)).toMatchObject({ ok: true, pa: PA });
    const inherited = L.lab.checks().filter((c) => c.id === 'mappings-lost-on-detach');
    expect(inherited).toHaveLength(1);
    expect(inherited[0].message).toContain(`domain ${A.id}`);
    // B can take A's entry away.
    expect(L.iommu_unmap(B, BASE, L.SZ_4K)).toBe(L.SZ_4K);
    expect(L.iommu_iova_to_phys(A, BASE)).toBe(0);
  });

  it.each(['v6.8', 'v6.16'] as KernelName[])(
    'IOMMU-FACTS §5.3: removed in v6.7, so add_iommu throws a KernelVersionError under %s',
    (kernel) => {
      const L = createLabModule({ kernel }).exports as unknown as typeof Api;
      let err: unknown;
      try {
        L.lab.add_iommu('gart', 'tegra-gart');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KernelVersionError);
      expect((err as Error).message).toMatch(/removed in v6\.7/);
    },
  );

  it('IOMMU-FACTS §5.3, §6 (a): map before any attach succeeds and writes the global GART that every device uses', () => {
    const { L, b_dev, alloc } = setup();
    const A = alloc();
    expect(A.geometry).toEqual({
      aperture_start: BASE,
      aperture_end: BASE + 0x200_0000 - 1,
      force_aperture: true,
    });
    expect(A.pgsize_bitmap).toBe(L.SZ_4K);
    expect(L.iommu_map(A, BASE + 0x3000, PA, L.SZ_4K, RW)).toBe(0);
    expect(L.lab.checks().map((c) => c.id)).not.toContain('map-before-attach-failed');
    // b_dev is attached to nothing, yet its access inside the aperture is remapped.
    expect(L.iommu_get_domain_for_dev(b_dev)).toBeNull();
    expect(b_dev.dma_read(BASE + 0x3010, 4)).toMatchObject({ ok: true, pa: PA + 0x10 });
    // Outside the aperture the GART does not translate.
    expect(b_dev.dma_read(0x1234_5000, 4)).toMatchObject({ ok: true, pa: 0x1234_5000 });
    // Inside it, an entry that is not VALID is an INVALID_GART_PAGE error.
    const r = b_dev.dma_read(BASE + 0x4000, 4);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.fault.reason).toBe('invalid-gart-page');
  });

  it('IOMMU-FACTS §5.3: 4 KiB only; outside the aperture map is -EINVAL, unmap 0, iova_to_phys (phys_addr_t)-EINVAL', () => {
    const { L, alloc } = setup();
    const A = alloc();
    // A 2 MiB map reaches the driver as 4 KiB pages (the only size in the bitmap)...
    expect(L.iommu_map(A, BASE, PA, L.SZ_2M, RW)).toBe(0);
    // ...while a direct 2 MiB map_pages call is refused.
    expect(A.ops.map_pages!(A, BASE + L.SZ_2M, PA, L.SZ_2M, 1, RW).ret).toBe(-L.EINVAL);
    expect(L.iommu_map(A, BASE - L.SZ_4K, PA, L.SZ_4K, RW)).toBe(-L.EINVAL);
    expect(L.lab.checks().map((c) => c.id)).toContain('out-of-aperture-map');
    expect(L.iommu_map(A, BASE + 0x200_0000, PA, L.SZ_4K, RW)).toBe(-L.EINVAL);
    expect(L.iommu_unmap(A, BASE + 0x200_0000, L.SZ_4K)).toBe(0);
    // Nothing is mapped out there: a hole, not part of a larger mapping.
    const last = L.lab.checks().at(-1)!;
    expect(last.id).toBe('unmap-of-hole');
    expect(last.message).toMatch(/outside the aperture \[0x58000000, 0x59ffffff\]/);
    expect(L.lab.checks().map((c) => c.id)).not.toContain('partial-unmap-of-large-page');
    // Tegra20 has a 32-bit phys_addr_t: -EINVAL comes back as 0xffffffea.
    expect(L.iommu_iova_to_phys(A, 0x1000)).toBe(0xffff_ffea);
    // The page address only, without the offset.
    expect(L.iommu_iova_to_phys(A, BASE + 0x123)).toBe(PA);
  });

  it('IOMMU-FACTS §5.3: UNMANAGED domains only, so no default domain; detach goes through set_platform_dma_ops and clears nothing', () => {
    const { L, gart, a_dev, alloc } = setup();
    expect(L.iommu_get_domain_for_dev(a_dev)).toBeNull();
    expect(gart.ops.domain_alloc!(L.IOMMU_DOMAIN_IDENTITY)).toBeNull();
    expect(gart.ops.domain_alloc!(L.IOMMU_DOMAIN_DMA)).toBeNull();
    expect(gart.ops.domain_alloc_paging).toBeUndefined();
    const A = alloc();
    expect(L.iommu_attach_device(A, a_dev)).toBe(0);
    expect(L.iommu_map(A, BASE, PA, L.SZ_4K, RW)).toBe(0);
    L.iommu_detach_device(A, a_dev);
    expect(L.iommu_get_domain_for_dev(a_dev)).toBeNull();
    expect(L.iommu_iova_to_phys(A, BASE)).toBe(PA);
    expect(a_dev.dma_read(BASE, 4)).toMatchObject({ ok: true, pa: PA });
  });

  it('IOMMU-FACTS §5.3: no IOTLB; the sync ops only read GART_CONFIG back, and an unmap takes effect at once', () => {
    const { L, gart, a_dev, alloc } = setup();
    const A = alloc();
    expect(L.iommu_map(A, BASE, PA, L.SZ_4K, RW)).toBe(0);
    expect(a_dev.dma_read(BASE, 4)).toMatchObject({ ok: true, tlb: 'miss' });
    expect(a_dev.dma_read(BASE, 4)).toMatchObject({ ok: true, tlb: 'miss' });
    expect(gart.tlb.entries()).toHaveLength(0);
    const gather = L.iommu_iotlb_gather_init();
    expect(L.iommu_unmap_fast(A, BASE, L.SZ_4K, gather)).toBe(L.SZ_4K);
    // Not synced yet, and still no stale translation: there is nothing to go stale.
    expect(a_dev.dma_read(BASE, 4).ok).toBe(false);
    L.iommu_iotlb_sync(A, gather);
    const names = L.lab.trace().map((e) => e.name);
    // One read-back after the map (iotlb_sync_map), one after the gather's sync.
    expect(names.filter((n) => n === 'gart_flush_regs')).toHaveLength(2);
    expect(L.lab.trace().some((e) => e.kind === 'tlb')).toBe(false);
  });

  it('IOMMU-FACTS §5.3: a map over a valid entry writes over it, and map-over-existing names the domain that mapped, not the global table', () => {
    const { L, alloc } = setup();
    alloc(); // domain ids are not the table's
    const d = alloc();
    expect(L.iommu_map(d, BASE, PA, L.SZ_4K, RW)).toBe(0);
    expect(L.iommu_map(d, BASE, PA + L.SZ_4K, L.SZ_4K, RW)).toBe(0);
    const checks = L.lab.checks().filter((c) => c.id === 'map-over-existing');
    expect(checks.map((c) => c.message)).toEqual([
      `tegra-gart map_pages found a mapping at 0x58000000 on domain ${d.id} and wrote over it (no error: the old translation is gone): unmap it first`,
    ]);
  });

  it('IOMMU-FACTS §5.3: the GART has no permission bits; unmap of an empty entry still returns 4 KiB (unless gart_debug)', () => {
    const { L, a_dev, alloc } = setup();
    const A = alloc();
    expect(L.iommu_map(A, BASE, PA, L.SZ_4K, L.IOMMU_READ)).toBe(0);
    expect(a_dev.dma_write(BASE, [1, 2, 3]).ok).toBe(true);
    expect(L.iommu_unmap(A, BASE + 0x8000, L.SZ_4K)).toBe(L.SZ_4K);
    // Mapping over a VALID entry silently replaces it.
    expect(L.iommu_map(A, BASE, PA + 0x1000, L.SZ_4K, RW)).toBe(0);
    expect(L.iommu_iova_to_phys(A, BASE)).toBe(PA + 0x1000);

    const dbg = setup({ gart_debug: true });
    const D = dbg.alloc();
    expect(dbg.L.iommu_unmap(D, BASE + 0x8000, dbg.L.SZ_4K)).toBe(0);
    expect(dbg.L.iommu_map(D, BASE, PA, dbg.L.SZ_4K, RW)).toBe(0);
    expect(dbg.L.iommu_map(D, BASE, PA + 0x1000, dbg.L.SZ_4K, RW)).toBe(-dbg.L.EINVAL);
  });

  it('IOMMU-FACTS §5.3: one GART per machine (gart_handle), its aperture from the options, shared by every instance', () => {
    const { L, a_dev } = setup({ aperture_start: 0x4000_0000, aperture_size: 0x10_0000 });
    const d = L.iommu_domain_alloc(L.lab.bus('platform'))!;
    expect(d.geometry.aperture_start).toBe(0x4000_0000);
    expect(d.geometry.aperture_end).toBe(0x400f_ffff);
    // A second instance is another iommu_device over the same global GART.
    const other = L.lab.add_iommu('gart2', 'tegra-gart', {
      aperture_start: 0x4000_0000,
      aperture_size: 0x10_0000,
    });
    const c_dev = L.lab.add_device('host1x', { iommu: other, bus: 'platform' });
    expect(L.iommu_attach_device(d, a_dev)).toBe(0);
    expect(L.iommu_attach_device(d, c_dev)).toBe(0);
    expect(L.iommu_map(d, 0x4000_0000, PA, L.SZ_4K, RW)).toBe(0);
    expect(c_dev.dma_read(0x4000_0000, 4)).toMatchObject({ ok: true, pa: PA });
    expect(() => L.lab.add_iommu('gart3', 'tegra-gart')).toThrow(/shares the machine's one GART/);
  });
});
