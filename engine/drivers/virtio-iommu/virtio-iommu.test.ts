/**
 * virtio-iommu driven as a script drives it: the Linux guest driver of each era over QEMU's device.
 * One test per quirk, each naming the IOMMU-FACTS section it checks.
 */
import { describe, expect, it } from 'vitest';
// Tests drive the engine the way scripts do, through the script module (the driver guide's pattern).
import type * as Api from '../../script/iommu-lab.d.ts';
import { createLabModule } from '../../script/module.ts';
import { KERNELS, testLab, type Kernel } from '../../script/test-lab.ts';
import type { ViommuDomain } from './domain.ts';
import type { VirtioIommu } from './viommu.ts';

const RW = 3;
const PA = 0x8000_0000;
/**
 * The bare device: no reserved region from the machine (q35 gives it the MSI window). machine_msi
 * is not in iommu-lab.d.ts yet, hence the cast.
 */
const BARE: Api.VirtioIommuOptions = { machine_msi: false };

function lab(kernel: Kernel, options: Api.VirtioIommuOptions = {}, device: Partial<Api.DeviceSpec> = {}) {
  const t = testLab({
    kernel,
    driver: 'virtio-iommu',
    options,
    device,
    iommuName: 'viommu0',
    deviceName: 'nic0',
  });
  const host = t.iommu.host!;
  const since = (mark: number, type?: string) =>
    host.requests.slice(mark).filter((r) => !type || r.type === type);
  const internal = (d: Api.IommuDomain) => t.internal<ViommuDomain>(d);
  return { ...t, v: t.iommu, viommu: t.unit as VirtioIommu, internal, host, since };
}

/** 64 discontiguous 4K segments (facts §7.6). */
const sg64 = Array.from({ length: 64 }, (_, i) => ({ paddr: PA + i * 0x2000, length: 0x1000 }));

describe('virtio-iommu unmaps wait for the sync (IOMMU-FACTS §5.1, §2.4)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: after iommu_unmap_fast the host still maps the page until iommu_iotlb_sync: the device's access is stale and unmap-without-sync fires`, () => {
      const { L, dev, domain, since } = lab(kernel);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(L.iommu_map(d, 0x40_0000, PA, L.SZ_4K, RW)).toBe(0);
      expect(dev.dma_read(0x40_0000, 4)).toMatchObject({ ok: true, tlb: 'miss' });
      const g = L.iommu_iotlb_gather_init();
      const mark = L.lab.trace().length;
      const reqs = dev.iommu.host!.requests.length;
      expect(L.iommu_unmap_fast(d, 0x40_0000, L.SZ_4K, g)).toBe(L.SZ_4K);
      expect(since(reqs, 'UNMAP')).toHaveLength(0); // queued, not sent
      expect(dev.dma_write(0x40_0000, [1])).toMatchObject({ ok: true, tlb: 'stale' });
      const fired = L.lab
        .checks()
        .filter((c) => c.step > 0 && c.id !== 'attach-time-finalise')
        .map((c) => c.id);
      expect(fired).toEqual(['stale-iotlb-hit', 'unmap-without-sync']);
      L.iommu_iotlb_sync(d, g);
      expect(since(reqs, 'UNMAP')).toHaveLength(1);
      expect(dev.dma_read(0x40_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
      expect(
        L.lab
          .trace()
          .slice(mark)
          .some((e) => e.name === 'iotlb_mark_stale'),
      ).toBe(true);
    });
  }
});

describe('virtio-iommu unmaps whole MAPs (viommu_del_mappings: an UNMAP may not split a MAP)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: unmapping 4K of a 16K MAP removes all 16K, and every cached page of it is stale until the sync`, () => {
      const { L, v, dev, domain } = lab(kernel);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(L.iommu_map(d, 0x10000, PA, 4 * L.SZ_4K, RW)).toBe(0);
      for (const iova of [0x10000, 0x11000]) expect(dev.dma_read(iova, 4)).toMatchObject({ tlb: 'miss' });
      const g = L.iommu_iotlb_gather_init();
      expect(L.iommu_unmap_fast(d, 0x10000, L.SZ_4K, g)).toBe(4 * L.SZ_4K);
      expect(v.tlb.entries().map((e) => [e.iova, e.stale])).toEqual([
        [0x10000, true],
        [0x11000, true],
      ]);
      expect(dev.dma_read(0x11000, 4)).toMatchObject({ ok: true, tlb: 'stale' });
    });
  }
});

describe('virtio-iommu unmap into a hole (viommu_unmap_pages: unmapped < size returns 0)', () => {
  it('the MAPs before the hole leave the tree, no UNMAP goes out, and unmap-of-hole says so', () => {
    const { L, dev, domain, since } = lab('v6.16');
    const d = domain();
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(L.iommu_map(d, 0x10_0000, PA, 2 * L.SZ_4K, RW)).toBe(0);
    const reqs = dev.iommu.host!.requests.length;
    expect(L.iommu_unmap(d, 0x10_0000, 4 * L.SZ_4K)).toBe(0);
    expect(L.iommu_iova_to_phys(d, 0x10_0000)).toBe(0);
    expect(since(reqs, 'UNMAP')).toHaveLength(0);
    expect(dev.dma_read(0x10_0000, 4)).toMatchObject({ ok: true }); // the host still maps it
    expect(
      L.lab
        .checks()
        .filter((c) => c.id === 'unmap-of-hole')
        .map((c) => c.message),
    ).toEqual([
      'unmap [0x100000, +0x4000) on domain 2 runs into a hole: virtio-iommu removed the 0x2000 bytes of MAPs in it from its tree, then returned 0 and sent no UNMAP, so the host still maps what the guest no longer knows of',
    ]);
  });
});

describe('virtio-iommu batching (IOMMU-FACTS §7.6, §5.1 "The iotlb_sync_map patch")', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: iommu_map_sg of 64 discontiguous 4K segments on an attached domain`, () => {
      const { L, dev, host, since, domain } = lab(kernel);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const mark = host.requests.length;
      const kicks = host.kicks;
      expect(L.iommu_map_sg(d, 0x10_0000, sg64, RW)).toBe(64 * 0x1000);
      expect(since(mark, 'MAP')).toHaveLength(64);
      expect(since(mark).every((r) => r.status === 'OK')).toBe(true);
      // Before v6.8 each map_pages sent its MAP and waited; from v6.8 one iotlb_sync_map kicks once.
      expect(host.kicks - kicks).toBe(kernel === 'v6.6' ? 64 : 1);
    });
  }

  it('v6.8: a queue of 256 requests fills: one sync to make room, one at the end', () => {
    const { L, dev, host, domain } = lab('v6.8');
    const d = domain();
    L.iommu_attach_device(d, dev);
    const sg = Array.from({ length: 300 }, (_, i) => ({ paddr: PA + i * 0x2000, length: 0x1000 }));
    const kicks = host.kicks;
    expect(L.iommu_map_sg(d, 0x10_0000, sg, RW)).toBe(300 * 0x1000);
    expect(host.kicks - kicks).toBe(2);
  });

  it('v6.16: a detached domain sends nothing: 64 tree nodes, 0 requests, 0 kicks', () => {
    const { L, host, internal, domain } = lab('v6.16');
    const d = domain();
    const mark = host.requests.length;
    const kicks = host.kicks;
    expect(L.iommu_map_sg(d, 0x10_0000, sg64, RW)).toBe(64 * 0x1000);
    expect(host.requests.length - mark).toBe(0);
    expect(host.kicks - kicks).toBe(0);
    expect(internal(d).tree.length).toBe(64);
    expect(L.iommu_iova_to_phys(d, 0x10_0000 + 63 * 0x1000)).toBe(PA + 63 * 0x2000);
  });
});

describe('virtio-iommu page sizes (IOMMU-FACTS §7.3, §2.2)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: map(0x100000, 0x40000000, 3M) is one map_pages (1M×3) and one 3 MiB MAP`, () => {
      const { L, dev, host, since, session, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(L.iommu_pgsize(d, 0x10_0000, 0x4000_0000, 0x30_0000)).toEqual({ pgsize: 0x10_0000, count: 3 });
      const t = session.trace;
      const from = t.length;
      const mark = host.requests.length;
      expect(L.iommu_map(d, 0x10_0000, 0x4000_0000, 0x30_0000, RW)).toBe(0);
      const calls = [];
      for (let i = from; i < t.length; i++) if (t.event(i).name === 'map_pages') calls.push(t.event(i));
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ pgsize: 0x10_0000, pgcount: 3 });
      expect(since(mark, 'MAP')).toEqual([
        {
          type: 'MAP',
          domain: expect.any(Number),
          virt_start: 0x10_0000,
          virt_end: 0x3f_ffff,
          phys_start: 0x4000_0000,
          flags: 3,
          status: 'OK',
        },
      ]);
    });
  }

  it('the default page_size_mask is every size from 4K (QEMU TARGET_PAGE_MASK, bits 12–52 here)', () => {
    const { L, domain } = lab('v6.16');
    const d = domain();
    expect(d.pgsize_bitmap).toBe(Number.MAX_SAFE_INTEGER - 0xfff);
    expect(d.geometry).toEqual({
      aperture_start: 0,
      aperture_end: Number.MAX_SAFE_INTEGER,
      force_aperture: true,
    });
    expect(L.iommu_pgsize(d, 0, 0, 2 ** 40)).toEqual({ pgsize: 2 ** 40, count: 1 });
  });

  it('a 2K granule: dma_alloc_coherent of 2K maps one granule, not the whole CPU page (iommu_dma_alloc)', () => {
    const { L, dev, host, since } = lab('v6.16', { page_size_mask: 0xffff_f800 }, { default_domain: 'dma' });
    const mark = host.requests.length;
    const c = L.dma_alloc_coherent(dev, 0x800)!;
    expect(c.dma_handle).toBe(0xffff_f800);
    expect(since(mark, 'MAP')).toMatchObject([
      { virt_start: 0xffff_f800, virt_end: 0xffff_ffff, phys_start: c.cpu_addr },
    ]);
    // The rest of the CPU page is RAM the device must not reach.
    expect(dev.dma_read(0xffff_f000, 4).ok).toBe(false);
    L.dma_free_coherent(dev, 0x800, c.cpu_addr, c.dma_handle);
    expect(since(mark, 'UNMAP')).toMatchObject([
      { virt_start: 0xffff_f800, virt_end: 0xffff_ffff, status: 'OK' },
    ]);
    expect(L.lab.checks()).toEqual([]);
  });
});

describe('virtio-iommu host UNMAP through the guest (IOMMU-FACTS §7.17, §5.1)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: map(0,4) + map(5,9), unmap(0,9): one UNMAP, OK, both gone`, () => {
      const { L, dev, host, since, viommu, internal, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      // Page units: [0, 0x4fff] and [0x5000, 0x9fff], one MAP each.
      expect(d.ops.map_pages!(d, 0, PA, 0x1000, 5, RW)).toEqual({ ret: 0, mapped: 0x5000 });
      expect(d.ops.map_pages!(d, 0x5000, PA + 0x5000, 0x1000, 5, RW)).toEqual({ ret: 0, mapped: 0x5000 });
      d.ops.iotlb_sync_map?.(d, 0, 0xa000);
      const mark = host.requests.length;
      expect(L.iommu_unmap(d, 0, 0xa000)).toBe(0xa000);
      expect(since(mark)).toEqual([
        { type: 'UNMAP', domain: internal(d).vid, virt_start: 0, virt_end: 0x9fff, status: 'OK' },
      ]);
      expect(viommu.host.domains.get(internal(d).vid)!.mappings.length).toBe(0);
    });

    it(`${kernel}: the guest never splits a MAP: unmap(0,4) of map(0,9) removes and UNMAPs all of it`, () => {
      const { L, dev, host, since, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      d.ops.map_pages!(d, 0, PA, 0x1000, 10, RW);
      d.ops.iotlb_sync_map?.(d, 0, 0xa000);
      const mark = host.requests.length;
      expect(L.iommu_unmap(d, 0, 0x5000)).toBe(0xa000);
      expect(since(mark)).toMatchObject([{ type: 'UNMAP', virt_start: 0, virt_end: 0x9fff, status: 'OK' }]);
    });
  }

  it('v6.6: an overlapping re-MAP fails with -EINVAL, and the rollback removes the first node too', () => {
    const { L, dev, host, since, domain } = lab('v6.6');
    const d = domain();
    L.iommu_attach_device(d, dev);
    expect(L.iommu_map(d, 0x10000, PA, 0x1000, RW)).toBe(0);
    const mark = host.requests.length;
    expect(L.iommu_map(d, 0x10000, PA + 0x1000, 0x1000, RW)).toBe(-L.EINVAL);
    expect(since(mark)).toMatchObject([{ type: 'MAP', status: 'INVAL' }]);
    // viommu_del_mappings(iova, end) takes every node starting there: the guest forgot a mapping the host keeps.
    expect(L.iommu_iova_to_phys(d, 0x10000)).toBe(0);
    expect(dev.dma_read(0x10000, 4)).toMatchObject({ ok: true, pa: PA });
  });

  for (const kernel of ['v6.8', 'v6.16'] as const) {
    it(`${kernel}: an overlapping re-MAP "succeeds": the INVAL is lost and guest and host diverge`, () => {
      const { L, dev, host, since, internal, viommu, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(L.iommu_map(d, 0x10000, PA, 0x1000, RW)).toBe(0);
      const mark = host.requests.length;
      expect(L.iommu_map(d, 0x10000, PA + 0x1000, 0x1000, RW)).toBe(0);
      expect(since(mark)).toMatchObject([{ type: 'MAP', status: 'INVAL' }]);
      expect(viommu.lost_statuses).toBe(1);
      expect(internal(d).tree.length).toBe(2);
      expect(internal(d).describe().in_sync_with_host).toBe(false);
    });

    it(`${kernel}: after a lost INVAL the guest can send an UNMAP that splits a host mapping (RANGE)`, () => {
      const { L, dev, host, since, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      // Host: [0x5000, 0x9fff]. Guest also believes in [0, 0x5fff], which the host refused (overlap).
      d.ops.map_pages!(d, 0x5000, PA, 0x1000, 5, RW);
      d.ops.map_pages!(d, 0, PA + 0x10000, 0x1000, 6, RW);
      d.ops.iotlb_sync_map!(d, 0, 0xa000);
      const mark = host.requests.length;
      expect(L.iommu_unmap(d, 0, 0x6000)).toBe(0x6000);
      expect(since(mark)).toEqual([
        expect.objectContaining({ type: 'UNMAP', virt_start: 0, virt_end: 0x5fff, status: 'RANGE' }),
      ]);
      // Nothing was removed: [0x5000, 0x9fff] still translates.
      expect(dev.dma_read(0x5000, 4)).toMatchObject({ ok: true, pa: PA });
    });
  }
});

describe('virtio-iommu identity domains (IOMMU-FACTS §7.16, §5.1)', () => {
  const resv = [
    { start: 0x2000_0000, length: 0x10_0000, type: 'reserved' as const },
    { start: 0xfee0_0000, length: 0x10_0000, type: 'msi' as const },
  ];

  for (const kernel of KERNELS) {
    it(`${kernel}: with BYPASS_CONFIG, ATTACH carries the BYPASS flag and no MAP follows`, () => {
      const { L, host, dev, viommu } = lab(kernel, {}, { resv, default_domain: 'identity' });
      const d = L.iommu_get_domain_for_dev(dev)!;
      expect(d.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
      const attach = host.requests.filter((r) => r.type === 'ATTACH');
      expect(attach).toHaveLength(1);
      expect(attach[0]).toMatchObject({ flags: 1, status: 'OK' });
      // v6.16 reserves the first domain ID for the static identity domain.
      if (kernel === 'v6.16') expect(attach[0].domain).toBe(viommu.identity_domain_id);
      expect(host.requests.filter((r) => r.type === 'MAP')).toHaveLength(0);
      expect(dev.dma_read(0x1234_5000, 4)).toMatchObject({ ok: true, pa: 0x1234_5000 });
      // A bypass domain is out of translation altogether: not even the RESERVED region faults (QEMU's bypass address space).
      expect(dev.dma_read(0x2000_0000, 4)).toMatchObject({ ok: true, pa: 0x2000_0000 });
    });

    it(`${kernel}: without BYPASS_CONFIG, N+1 identity MAPs reach the host for N probed regions`, () => {
      const features = ['VERSION_1', 'INPUT_RANGE', 'DOMAIN_RANGE', 'MAP_UNMAP', 'MMIO', 'PROBE'];
      const { host, dev, L } = lab(kernel, { features }, { resv, default_domain: 'identity' });
      expect(L.iommu_get_domain_for_dev(dev)!.type).toBe(L.IOMMU_DOMAIN_IDENTITY);
      expect(host.requests.filter((r) => r.type === 'ATTACH')).toMatchObject([{ flags: 0, status: 'OK' }]);
      const maps = host.requests.filter((r) => r.type === 'MAP');
      expect(maps.map((r) => [r.virt_start, r.virt_end, r.phys_start, r.flags, r.status])).toEqual([
        [0, 0x1fff_ffff, 0, 3, 'OK'],
        [0x2010_0000, 0xfedf_ffff, 0x2010_0000, 3, 'OK'],
        [0xfef0_0000, Number.MAX_SAFE_INTEGER, 0xfef0_0000, 3, 'OK'],
      ]);
      expect(dev.dma_read(0x1234_5000, 4)).toMatchObject({ ok: true, pa: 0x1234_5000 });
      expect(dev.dma_read(0x2000_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
      expect(dev.dma_write(0xfee0_0000, [1, 0, 0, 0])).toMatchObject({ ok: true, pa: 0xfee0_0000 });
    });
  }

  it('v6.6: a map_pages on the bypass identity domain reaches the host as a MAP it refuses (INVAL)', () => {
    const { L, host, dev } = lab('v6.6', {}, { default_domain: 'identity' });
    const d = L.iommu_get_domain_for_dev(dev)!;
    const mark = host.requests.length;
    expect(d.ops.map_pages!(d, 0x10000, PA, 0x1000, 1, RW)).toEqual({ ret: -L.EINVAL, mapped: 0 });
    expect(host.requests.slice(mark)).toMatchObject([{ type: 'MAP', status: 'INVAL' }]);
  });

  it('v6.16: the static identity domain has attach_dev and nothing else', () => {
    const { L, dev } = lab('v6.16', {}, { default_domain: 'identity' });
    const d = L.iommu_get_domain_for_dev(dev)!;
    expect(Object.keys(d.ops)).toEqual(['attach_dev']);
  });
});

describe('virtio-iommu map before attach (IOMMU-FACTS §7.1, §6 (a), (c))', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: map(0x10000 → 0x80000000, 4K, RW) on a new domain, then attach and DMA`, () => {
      const { L, dev, host, session, domain } = lab(kernel);
      const d = domain();
      const mark = host.requests.length;
      const ret = L.iommu_map(d, 0x10000, PA, 0x1000, RW);
      if (kernel === 'v6.16') {
        expect(ret).toBe(0);
        expect(L.iommu_iova_to_phys(d, 0x10000)).toBe(PA);
        expect(host.requests.length).toBe(mark); // tree node only
      } else {
        // Unfinalised: map_flags is 0, so any R/W flag is refused.
        expect(ret).toBe(-L.EINVAL);
        // __iommu_map's unroll is an iommu_unmap, whose sync hands the NULL viommu to viommu_sync_req.
        expect(session.checks().filter((c) => c.id === 'kernel-oops')).toEqual([
          expect.objectContaining({ message: expect.stringMatching(/viommu_iotlb_sync .*NULL/) }),
        ]);
        expect(d.iommu).toBeNull();
        expect(d.geometry).toEqual({ aperture_start: 0, aperture_end: 0, force_aperture: false });
      }
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(d.iommu).not.toBeNull();
      const finalised = session.checks().filter((c) => c.id === 'attach-time-finalise');
      // v6.6/v6.8 finalise the default domain and this one at their first attach; v6.16 never does.
      expect(finalised).toHaveLength(kernel === 'v6.16' ? 0 : 2);
      if (kernel !== 'v6.16') expect(L.iommu_map(d, 0x10000, PA, 0x1000, RW)).toBe(0);
      expect(dev.dma_read(0x10000, 4)).toMatchObject({ ok: true, pa: PA });
    });
  }

  for (const kernel of KERNELS) {
    it(`${kernel}: a firmware DIRECT region (DT iommu-addresses) is direct-mapped in the DMA default domain`, () => {
      const { L, dev, host, session } = lab(
        kernel,
        {},
        { resv: [{ start: 0x3000_0000, length: 0x2000, type: 'direct' }] },
      );
      // Not the host's to report (RESV_MEM has no direct subtype): iommu_dma_get_resv_regions adds it
      // after the probed regions (q35's MSI window).
      expect(host.requests[0]).toMatchObject({ type: 'PROBE' });
      expect(L.iommu_get_resv_regions(dev).map((r) => r.type)).toEqual([
        L.IOMMU_RESV_MSI,
        L.IOMMU_RESV_DIRECT,
      ]);
      const dom = L.iommu_get_domain_for_dev(dev)!;
      expect(L.iommu_iova_to_phys(dom, 0x3000_1000)).toBe(0x3000_1000);
      expect(dev.dma_read(0x3000_1000, 4)).toMatchObject({ ok: true, pa: 0x3000_1000 });
      const fired = session.checks().map((c) => c.id);
      if (kernel === 'v6.16') {
        expect(fired).not.toContain('direct-mapping-after-attach');
      } else {
        // Unfinalised before the attach: the map fails, its unroll oopses, and the core retries after.
        expect(fired).toEqual(
          expect.arrayContaining(['kernel-oops', 'direct-mapping-after-attach', 'attach-time-finalise']),
        );
      }
    });
  }

  it('v6.6: the unfinalised domain carries the global bitmap the last probed instance wrote', () => {
    const { exports, session } = createLabModule({ kernel: 'v6.6' });
    const L = exports as unknown as typeof Api;
    const a = L.lab.add_iommu('a', 'virtio-iommu', { page_size_mask: 0xffff_f000 });
    L.lab.add_iommu('b', 'virtio-iommu', { page_size_mask: 0x1000 });
    const dev = L.lab.add_device('nic0', { iommu: a });
    expect(a.ops.pgsize_bitmap).toBe(0x1000);
    const d = L.iommu_domain_alloc(L.lab.bus('pci'))!;
    expect(d.pgsize_bitmap).toBe(0x1000);
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    expect(d.pgsize_bitmap).toBe(0xffff_f000); // finalise copied instance a's own
    expect(session.machine.iommus).toHaveLength(2);
  });

  it('v6.6: the refused first attach is a WARN (IOMMU_SET_DOMAIN_MUST_SUCCEED) with no old domain to fall back on', () => {
    const { exports, session } = createLabModule({ kernel: 'v6.6' });
    const L = exports as unknown as typeof Api;
    const v = L.lab.add_iommu('v', 'virtio-iommu', { page_size_mask: 0xffff_0000, bypass: false });
    expect(() => L.lab.add_device('nic0', { iommu: v })).toThrow(/failed its first attach/);
    expect(session.checks().filter((c) => c.id === 'domain-switch-failed')).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/nic0 refused .* has none \(it was its first attach\)$/),
      }),
    ]);
  });

  it('v6.16: no global bitmap; each domain takes its instance mask at allocation', () => {
    const { v, domain } = lab('v6.16', { page_size_mask: 0x20_1000 });
    expect(v.ops.pgsize_bitmap).toBe(0);
    expect(domain().pgsize_bitmap).toBe(0x20_1000);
  });

  for (const kernel of KERNELS) {
    it(`${kernel}: a domain attached on one instance refuses another's device (-EINVAL)`, () => {
      const { L, dev, domain } = lab(kernel);
      const other = L.lab.add_iommu('viommu1', 'virtio-iommu');
      const dev1 = L.lab.add_device('nic1', { iommu: other });
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      expect(d.ops.attach_dev!(d, dev1)).toBe(-L.EINVAL);
    });

    it(`${kernel}: a granule above PAGE_SIZE is refused (-ENODEV) when the domain is finalised, failing the probe`, () => {
      // v6.16 finalises at allocation, so no default domain can be made; before, the domain is
      // made and its first attach (where it is finalised) fails — which a driver may not do: Linux
      // WARNs and the probe fails either way.
      expect(() => lab(kernel, { page_size_mask: 0xffff_0000, bypass: false })).toThrow(
        kernel === 'v6.16'
          ? /cannot allocate a DMA-FQ default domain for nic0, nor a DMA one \(-ENODEV\).*probe fails/
          : /nic0's DMA(-FQ)? default domain: virtio-iommu failed its first attach \(-ENODEV\).*probe fails/,
      );
    });
  }
});

describe('virtio-iommu last detach (IOMMU-FACTS §7.2, §6 (b))', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: the host destroys the domain at detach; re-attach replays one MAP per tree node`, () => {
      const { L, dev, host, since, viommu, internal, domain } = lab(kernel);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      for (let i = 0; i < 16; i++)
        expect(L.iommu_map(d, 0x10_0000 + i * 0x2000, PA + i * 0x1000, 0x1000, RW)).toBe(0);
      const vid = internal(d).vid;
      expect(viommu.host.domains.get(vid)!.mappings.length).toBe(16);
      L.iommu_detach_device(d, dev); // back to the default domain: one ATTACH, no DETACH
      expect(viommu.host.domains.has(vid)).toBe(false);
      expect(dev.dma_read(0x10_0000, 4).ok).toBe(false);
      expect(L.iommu_iova_to_phys(d, 0x10_0000)).toBe(PA); // the guest tree survives
      const mark = host.requests.length;
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const sent = since(mark);
      expect(sent[0]).toMatchObject({ type: 'ATTACH', domain: vid, status: 'OK' });
      expect(sent.slice(1).map((r) => r.type)).toEqual(Array(16).fill('MAP'));
      expect(sent.every((r) => r.status === 'OK')).toBe(true);
      expect(dev.dma_read(0x10_0000 + 15 * 0x2000, 4)).toMatchObject({ ok: true, pa: PA + 15 * 0x1000 });
      expect(host.requests.some((r) => r.type === 'DETACH')).toBe(false);
    });
  }
});

describe('virtio-iommu out of aperture (IOMMU-FACTS §7.5)', () => {
  const opts = { input_range: [0, 2 ** 48 - 1] as [number, number], spec_checks: true };
  for (const kernel of KERNELS) {
    it(`${kernel}: map at 2^48 on a 48-bit input range, host applying the spec`, () => {
      const { L, dev, host, since, internal, domain } = lab(kernel, opts);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(d.geometry.aperture_end).toBe(2 ** 48 - 1);
      const mark = host.requests.length;
      const ret = L.iommu_map(d, 2 ** 48, PA, 0x1000, RW);
      expect(since(mark)).toMatchObject([{ type: 'MAP', virt_start: 2 ** 48, status: 'RANGE' }]);
      expect(L.lab.checks().map((c) => c.id)).toContain('out-of-aperture-map');
      if (kernel === 'v6.6') {
        expect(ret).toBe(-L.ERANGE);
        expect(L.iommu_iova_to_phys(d, 2 ** 48)).toBe(0);
      } else {
        // The sync reads no status: the map "succeeded", the guest tree has it, the host does not.
        expect(ret).toBe(0);
        expect(L.iommu_iova_to_phys(d, 2 ** 48)).toBe(PA);
        expect(internal(d).describe().in_sync_with_host).toBe(false);
        expect(dev.dma_read(2 ** 48, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
      }
    });
  }

  it('QEMU itself checks neither input_range nor alignment: the same MAP is accepted', () => {
    const { L, dev, host, since, domain } = lab('v6.6', { input_range: [0, 2 ** 48 - 1] });
    const d = domain();
    L.iommu_attach_device(d, dev);
    const mark = host.requests.length;
    expect(L.iommu_map(d, 2 ** 48, PA, 0x1000, RW)).toBe(0);
    expect(since(mark)).toMatchObject([{ type: 'MAP', status: 'OK' }]);
    expect(dev.dma_read(2 ** 48, 4)).toMatchObject({ ok: true, pa: PA });
  });
});

describe('virtio-iommu partial unmap (IOMMU-FACTS §7.7, §2.3)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: unmap(base, 4K) of a 2 MiB MAP returns 2 MiB; unmap(base + 4K, 4K) returns 0`, () => {
      const { L, dev, host, since, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      const base = 0x20_0000;
      expect(L.iommu_map(d, base, PA, 0x20_0000, RW)).toBe(0);
      const mark = host.requests.length;
      expect(L.iommu_unmap(d, base, 0x1000)).toBe(0x20_0000);
      expect(since(mark)).toMatchObject([
        { type: 'UNMAP', virt_start: base, virt_end: base + 0x1f_ffff, status: 'OK' },
      ]);
      expect(L.iommu_map(d, base, PA, 0x20_0000, RW)).toBe(0);
      const mark2 = host.requests.length;
      expect(L.iommu_unmap(d, base + 0x1000, 0x1000)).toBe(0);
      expect(since(mark2)).toHaveLength(0);
      expect(L.lab.checks().map((c) => c.id)).toContain('partial-unmap-of-large-page');
      expect(L.iommu_iova_to_phys(d, base + 0x1000)).toBe(PA + 0x1000);
    });
  }
});

describe('virtio-iommu MAP unsent until sync (IOMMU-FACTS §7.13)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: map_pages, DMA, iotlb_sync_map, DMA`, () => {
      const { L, dev, domain } = lab(kernel);
      const d = domain();
      L.iommu_attach_device(d, dev);
      expect(d.ops.map_pages!(d, 0x40000, PA, 0x1000, 1, RW)).toEqual({ ret: 0, mapped: 0x1000 });
      const before = dev.dma_read(0x40000, 4);
      if (kernel === 'v6.6') {
        expect(d.ops.iotlb_sync_map).toBeUndefined();
        expect(before).toMatchObject({ ok: true, pa: PA });
        return;
      }
      expect(before).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
      expect(d.ops.iotlb_sync_map!(d, 0x40000, 0x1000)).toBe(0);
      expect(dev.dma_read(0x40000, 4)).toMatchObject({ ok: true, pa: PA, tlb: 'miss' });
      expect(dev.dma_read(0x40000, 4)).toMatchObject({ ok: true, pa: PA, tlb: 'hit' });
    });
  }

  it('v6.8: iommu_map_sg costs exactly one sync', () => {
    const { L, dev, host, session, domain } = lab('v6.8');
    const d = domain();
    L.iommu_attach_device(d, dev);
    const t = session.trace;
    const from = t.length;
    L.iommu_map_sg(d, 0x10_0000, sg64.slice(0, 8), RW);
    let syncs = 0;
    for (let i = from; i < t.length; i++) if (t.event(i).name === 'iotlb_sync_map') syncs++;
    expect(syncs).toBe(1);
    expect(host.kicks).toBeGreaterThan(0);
  });
});

describe('virtio-iommu deferred flush (IOMMU-FACTS §4.3, §5.1 patch 2)', () => {
  it('v6.6: default domains are DMA; v6.8 and v6.16: DMA-FQ', () => {
    for (const kernel of KERNELS) {
      const { L, dev } = lab(kernel);
      expect(L.iommu_get_domain_for_dev(dev)!.type).toBe(
        kernel === 'v6.6' ? L.IOMMU_DOMAIN_DMA : L.IOMMU_DOMAIN_DMA_FQ,
      );
    }
  });

  it('v6.8: a lazy dma_unmap leaves the UNMAP in the queue until the flush queue flushes', () => {
    const { L, dev, host } = lab('v6.8');
    const buf = L.lab.mem.alloc(0x1000);
    const iova = L.dma_map_single(dev, buf, 0x1000, L.DMA_BIDIRECTIONAL);
    expect(dev.dma_read(iova, 4)).toMatchObject({ ok: true, pa: buf });
    const unmaps = () => host.requests.filter((r) => r.type === 'UNMAP').length;
    L.dma_unmap_single(dev, iova, 0x1000, L.DMA_BIDIRECTIONAL);
    expect(unmaps()).toBe(0);
    // The host still maps the page: the device reaches it (its cached translation is still right for the host).
    expect(dev.dma_read(iova, 4)).toMatchObject({ ok: true, pa: buf });
    L.lab.advance_time(10);
    expect(unmaps()).toBe(1);
    expect(dev.dma_read(iova, 4).ok).toBe(false);
  });

  it('v6.6: a dma_unmap is synced at once', () => {
    const { L, dev, host } = lab('v6.6');
    const buf = L.lab.mem.alloc(0x1000);
    const iova = L.dma_map_single(dev, buf, 0x1000, L.DMA_BIDIRECTIONAL);
    L.dma_unmap_single(dev, iova, 0x1000, L.DMA_BIDIRECTIONAL);
    expect(host.requests.at(-1)).toMatchObject({ type: 'UNMAP', status: 'OK' });
    expect(dev.dma_read(iova, 4).ok).toBe(false);
  });
});

describe('virtio-iommu probe (IOMMU-FACTS §5.1 "probe()", PROBE)', () => {
  it('without MAP_UNMAP (or VERSION_1) the instance never registers: its devices are refused (-ENODEV)', () => {
    for (const features of [
      ['VERSION_1', 'PROBE'],
      ['MAP_UNMAP', 'PROBE'],
    ]) {
      const { exports, session } = createLabModule({ kernel: 'v6.16' });
      const L = exports as unknown as typeof Api;
      const v = L.lab.add_iommu('v', 'virtio-iommu', { features });
      expect((session.machine.iommus[0] as VirtioIommu).probe_ret).toBe(-L.ENODEV);
      expect(() => L.lab.add_device('nic0', { iommu: v })).toThrow(
        /probe_device returned -ENODEV \(v: viommu_probe failed \(-ENODEV\): the device does not offer (VERSION_1|MAP_UNMAP) \(the features option replaces/,
      );
    }
  });

  it('a page_size_mask of 0 fails probe with -EINVAL', () => {
    const { exports, session } = createLabModule({ kernel: 'v6.6' });
    const L = exports as unknown as typeof Api;
    const v = L.lab.add_iommu('v', 'virtio-iommu', { page_size_mask: 0 });
    expect((session.machine.iommus[0] as VirtioIommu).probe_ret).toBe(-L.EINVAL);
    expect(v.ops.pgsize_bitmap).toBe(0); // the global was never written
    expect(() => L.lab.add_device('nic0', { iommu: v })).toThrow(/-ENODEV .*page_size_mask is 0/);
  });

  it('PROBE reports reserved and MSI regions; SW_MSI only when no MSI', () => {
    const { L, host, dev } = lab('v6.16', BARE, {
      resv: [
        { start: 0x3000_0000, length: 0x1000, type: 'reserved' },
        { start: 0x1000_0000, length: 0x2000, type: 'reserved' },
      ],
    });
    expect(host.requests[0]).toEqual({ type: 'PROBE', domain: 0, endpoint: 8, status: 'OK' });
    expect(L.iommu_get_resv_regions(dev)).toEqual([
      { start: 0x1000_0000, length: 0x2000, prot: 0, type: L.IOMMU_RESV_RESERVED },
      { start: 0x3000_0000, length: 0x1000, prot: 0, type: L.IOMMU_RESV_RESERVED },
      {
        start: 0x800_0000,
        length: 0x10_0000,
        prot: L.IOMMU_WRITE | L.IOMMU_NOEXEC | L.IOMMU_MMIO,
        type: L.IOMMU_RESV_SW_MSI,
      },
    ]);
    const dev2 = L.lab.add_device('nic1', {
      iommu: dev.iommu,
      resv: [{ start: 0xfee0_0000, length: 0x10_0000, type: 'msi' }],
    });
    expect(L.iommu_get_resv_regions(dev2)).toEqual([
      {
        start: 0xfee0_0000,
        length: 0x10_0000,
        prot: L.IOMMU_WRITE | L.IOMMU_NOEXEC | L.IOMMU_MMIO,
        type: L.IOMMU_RESV_MSI,
      },
    ]);
  });

  it("without PROBE the guest learns no regions, not even q35's MSI window, but the host still enforces them", () => {
    const features = ['VERSION_1', 'INPUT_RANGE', 'DOMAIN_RANGE', 'MAP_UNMAP', 'MMIO', 'BYPASS_CONFIG'];
    const { L, host, dev } = lab(
      'v6.16',
      { features },
      { resv: [{ start: 0x1000_0000, length: 0x1000, type: 'reserved' }] },
    );
    expect(host.requests.some((r) => r.type === 'PROBE')).toBe(false);
    expect(L.iommu_get_resv_regions(dev).map((r) => r.type)).toEqual([L.IOMMU_RESV_SW_MSI]);
    const iova = 0x1000_0000;
    const d = L.iommu_get_domain_for_dev(dev)!;
    expect(L.iommu_map(d, iova, PA, 0x1000, RW)).toBe(0);
    expect(dev.dma_read(iova, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
  });
});

describe('virtio-iommu translation (IOMMU-FACTS §5.1 "Translate order")', () => {
  it('a read-only mapping faults on write: a MAPPING fault, as QEMU reports it (the spec has no permission reason)', () => {
    const { L, dev, domain } = lab('v6.16');
    const d = domain();
    L.iommu_attach_device(d, dev);
    L.iommu_map(d, 0x10000, PA, 0x1000, L.IOMMU_READ);
    expect(dev.dma_read(0x10000, 4).ok).toBe(true);
    expect(dev.dma_write(0x10000, [1])).toMatchObject({
      ok: false,
      fault: { reason: 'mapping', write: true },
    });
  });
});

describe('virtio-iommu domain IDs (IOMMU-FACTS §5.1, ida_alloc_range)', () => {
  for (const kernel of KERNELS) {
    it(`${kernel}: IDs are ints: a domain_range starting at 2^31 gives none, so the first device's probe fails`, () => {
      expect(() => lab(kernel, { domain_range: [0x8000_0000, 0xffff_ffff] })).toThrow(/-ENOSPC.*probe fails/);
      // The range is cut at INT_MAX (v6.16 keeps its first ID for the identity domain).
      const { host } = lab(kernel, { domain_range: [0x7fff_fffe, 0xffff_ffff] });
      expect(host.requests.filter((r) => r.type === 'ATTACH').map((r) => r.domain)).toEqual([
        kernel === 'v6.16' ? 0x7fff_ffff : 0x7fff_fffe,
      ]);
    });
  }
});

describe('virtio-iommu on QEMU\'s q35: the machine\'s MSI window (IOMMU-FACTS §5.1 "PROBE", §3.2)', () => {
  const MSI_PROT = 0x2 | 0x8 | 0x10; // IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO (viommu_add_resv_mem)

  for (const kernel of KERNELS) {
    it(`${kernel}: pc_machine_device_pre_plug_cb's region: PROBE reports it as MSI, the guest adds no SW_MSI, dma-iommu skips it, the host lets it through`, () => {
      const { L, host, dev, viommu } = lab(kernel);
      expect(host.requests[0]).toEqual({ type: 'PROBE', domain: 0, endpoint: 8, status: 'OK' });
      expect(viommu.host.bus.get(8)).toEqual([{ low: 0xfee0_0000, high: 0xfeef_ffff, subtype: 1 }]);
      // viommu_get_resv_regions adds MSI_IOVA_BASE only `if (!msi)`.
      expect(L.iommu_get_resv_regions(dev)).toEqual([
        { start: 0xfee0_0000, length: 0x10_0000, prot: MSI_PROT, type: L.IOMMU_RESV_MSI },
      ]);
      // iova_reserve_iommu_regions: top-down 1M IOVAs step over [0xfee00000, 0xfeefffff].
      const buf = L.lab.mem.alloc(L.SZ_1M);
      const iovas = Array.from({ length: 18 }, () =>
        L.dma_map_single(dev, buf, L.SZ_1M, L.DMA_BIDIRECTIONAL),
      );
      expect(iovas.slice(15)).toEqual([0xff00_0000, 0xfef0_0000, 0xfed0_0000]);
      // virtio_iommu_translate: an MSI region is let through untranslated, before any mapping.
      expect(dev.dma_write(0xfee0_0000, [1])).toMatchObject({ ok: true, pa: 0xfee0_0000 });
    });
  }

  it('machine_msi: false is the bare device: no region, so SW_MSI at 0x8000000 and 0xfee00000 is an ordinary IOVA', () => {
    const { L, host, dev } = lab('v6.16', BARE);
    expect(host.requests[0]).toEqual({ type: 'PROBE', domain: 0, endpoint: 8, status: 'OK' });
    expect(L.iommu_get_resv_regions(dev)).toEqual([
      { start: 0x800_0000, length: 0x10_0000, prot: MSI_PROT, type: L.IOMMU_RESV_SW_MSI },
    ]);
    expect(dev.dma_write(0xfee0_0000, [1])).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
  });

  it("the machine's region wins where a device region overlaps it (resv_region_list_insert)", () => {
    const { L, dev, viommu } = lab(
      'v6.16',
      {},
      {
        resv: [
          { start: 0xfe00_0000, length: 0x200_0000, type: 'reserved' },
          { start: 0xfee0_0000, length: 0x10_0000, type: 'msi' },
        ],
      },
    );
    // The RESERVED region is split around the window; the device's own copy of it is dropped.
    expect(viommu.host.bus.get(8)).toEqual([
      { low: 0xfe00_0000, high: 0xfedf_ffff, subtype: 0 },
      { low: 0xfee0_0000, high: 0xfeef_ffff, subtype: 1 },
      { low: 0xfef0_0000, high: 0xffff_ffff, subtype: 0 },
    ]);
    expect(L.iommu_get_resv_regions(dev).map((r) => [r.start, r.length, r.type])).toEqual([
      [0xfe00_0000, 0xe0_0000, L.IOMMU_RESV_RESERVED],
      [0xfee0_0000, 0x10_0000, L.IOMMU_RESV_MSI],
      [0xfef0_0000, 0x110_0000, L.IOMMU_RESV_RESERVED],
    ]);
    expect(dev.dma_write(0xfee0_0000, [1])).toMatchObject({ ok: true, pa: 0xfee0_0000 });
    expect(dev.dma_read(0xfef0_0000, 4)).toMatchObject({ ok: false, fault: { reason: 'mapping' } });
  });
});

describe("virtio-iommu's stale label follows the guest's own lookup (viommu_iova_to_phys, interval_tree_iter_first)", () => {
  for (const kernel of ['v6.8', 'v6.16'] as const) {
    it(`${kernel}: a lost INVAL leaves two guest nodes at one IOVA: the first inserted answers, as the host does, so no stale`, () => {
      const { L, dev, domain, session, host } = lab(kernel);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const pa2 = PA + 0x10_0000;
      expect(L.iommu_map(d, 0x30_0000, PA, L.SZ_4K, RW)).toBe(0);
      expect(L.iommu_map(d, 0x30_0000, pa2, L.SZ_4K, RW)).toBe(0);
      expect(host.requests.at(-1)).toMatchObject({ type: 'MAP', status: 'INVAL' });
      expect(L.iommu_iova_to_phys(d, 0x30_0000)).toBe(PA);
      expect(dev.dma_read(0x30_0000, 4)).toMatchObject({ ok: true, pa: PA, tlb: 'miss' });
      expect(session.checks().map((c) => c.id)).not.toContain('stale-iotlb-hit');
    });

    it(`${kernel}: a refused MAP starting a page lower answers first in the guest: the host's translation is stale`, () => {
      const { L, dev, domain, session } = lab(kernel);
      const d = domain();
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const pa2 = PA + 0x10_0000;
      expect(L.iommu_map(d, 0x50_0000, PA, L.SZ_4K, RW)).toBe(0);
      expect(L.iommu_map(d, 0x4f_f000, pa2, 2 * L.SZ_4K, RW)).toBe(0);
      expect(L.iommu_iova_to_phys(d, 0x50_0000)).toBe(pa2 + L.SZ_4K);
      expect(dev.dma_read(0x50_0000, 4)).toMatchObject({ ok: true, pa: PA, tlb: 'stale' });
      expect(session.checks().map((c) => c.id)).toContain('stale-iotlb-hit');
    });
  }
});

describe('virtio-iommu: one kernel-oops per call (the first NULL dereference ends the kernel)', () => {
  for (const kernel of ['v6.6', 'v6.8'] as const) {
    it(`${kernel}: iommu_map_sg on an unfinalised domain syncs the NULL viommu twice (__iommu_map's unroll, then __iommu_map_sg's) and oopses once`, () => {
      const { L, session } = lab(kernel);
      const d = L.iommu_domain_alloc(L.lab.bus('pci'))!;
      const before = session.checks().length;
      expect(L.iommu_map_sg(d, 0x10_0000, sg64, RW)).toBe(-L.EINVAL);
      const oops = session
        .checks()
        .slice(before)
        .filter((c) => c.id === 'kernel-oops');
      expect(oops).toHaveLength(1);
      // A later call oopses again: each call is its own run of the kernel.
      expect(L.iommu_map(d, 0x10_0000, PA, L.SZ_4K, RW)).toBe(-L.EINVAL);
      expect(session.checks().filter((c) => c.id === 'kernel-oops')).toHaveLength(2);
    });
  }
});
