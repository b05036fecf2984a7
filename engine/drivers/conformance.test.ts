/**
 * One conformance suite over every driver model and every kernel era that has it: what the core
 * promises whatever the driver (IOMMU-FACTS §2) — maps read back through iova_to_phys and through a
 * device's DMA, pgsize splits follow the domain's bitmap, a synced unmap leaves nothing a device can
 * reach, a gather synced once covers every page it gathered, and random map/unmap sequences agree
 * with a page oracle. Driver quirks have their own named tests beside each driver.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KernelVersionError } from '../core/kernel-profile.ts';
import type * as Api from '../script/iommu-lab.d.ts';
import { createLabModule } from '../script/module.ts';
import { DRIVERS } from './index.ts';

const KERNELS: Api.KernelName[] = ['v6.6', 'v6.8', 'v6.16'];
const SZ_4K = 0x1000;
const RW = 3;
const PLATFORM = new Set(['omap-iommu', 'tegra-gart']);

interface Rig {
  L: typeof Api;
  dev: Api.Device;
  domain: Api.IommuDomain;
  /** First IOVA of a 1 MiB window inside the aperture. */
  base: number;
}

/** A device behind the driver, with a paging domain attached; null where the era lacks the driver. */
function rig(driver: string, kernel: Api.KernelName): Rig | null {
  const L = createLabModule({ kernel }).exports as unknown as typeof Api;
  let iommu: Api.Iommu;
  try {
    iommu = L.lab.add_iommu('iommu0', driver as 'arm-smmu-v3');
  } catch (e) {
    if (e instanceof KernelVersionError || (e as Error).name === 'KernelVersionError') return null;
    throw e;
  }
  const platform = PLATFORM.has(driver);
  const dev = L.lab.add_device('dev0', { iommu, bus: platform ? 'platform' : 'pci' });
  const domain =
    kernel === 'v6.16'
      ? L.iommu_paging_domain_alloc(dev)
      : L.iommu_domain_alloc(L.lab.bus(platform ? 'platform' : 'pci'));
  if (!domain || L.IS_ERR(domain)) throw new Error(`${driver} ${kernel}: no paging domain`);
  expect(L.iommu_attach_device(domain, dev)).toBe(0);
  return { L, dev, domain, base: usable_window(L, dev, domain) };
}

/** A 1 MiB window inside the aperture that no reserved region of the device touches. */
function usable_window(L: typeof Api, dev: Api.Device, domain: Api.IommuDomain): number {
  const MB = 0x10_0000;
  const g = domain.geometry;
  let base = Math.ceil((g.aperture_start + MB) / MB) * MB;
  for (let moved = true; moved;) {
    moved = false;
    for (const r of L.iommu_get_resv_regions(dev)) {
      if (base < r.start + r.length && r.start < base + MB) {
        base = Math.ceil((r.start + r.length) / MB) * MB;
        moved = true;
      }
    }
  }
  return base;
}

/** iommu_pgsize as facts §2.2 describes it, from the bitmap alone: the reference the lab must match. */
function reference_pgsize(
  bitmap: number,
  iova: number,
  pa: number,
  size: number,
): { pgsize: number; count: number } {
  const sizes: number[] = [];
  for (let s = 1; s <= bitmap && s < 2 ** 53; s *= 2) if (Math.floor(bitmap / s) % 2) sizes.push(s);
  const fits = sizes.filter((s) => s <= size && iova % s === 0 && pa % s === 0);
  const pgsize = fits[fits.length - 1];
  const next = sizes.find((s) => s > pgsize);
  let span = size;
  if (next !== undefined && iova % next === pa % next) {
    const off = next - (iova % next);
    if (off + next <= size) span = off;
  }
  return { pgsize, count: Math.floor(span / pgsize) };
}

for (const driver of DRIVERS.keys()) {
  describe(driver, () => {
    for (const kernel of KERNELS) {
      const r0 = rig(driver, kernel);
      if (!r0) {
        it.skip(`${kernel}: not in this kernel`, () => {});
        continue;
      }

      it(`${kernel}: a map reads back through iova_to_phys and through the device`, () => {
        const { L, dev, domain, base } = rig(driver, kernel)!;
        const buf = L.lab.mem.alloc(4 * SZ_4K);
        L.lab.mem.write(buf + 2 * SZ_4K + 8, [0xde, 0xad, 0xbe, 0xef]);
        for (let i = 0; i < 4; i++)
          expect(L.iommu_map(domain, base + i * SZ_4K, buf + i * SZ_4K, SZ_4K, RW)).toBe(0);
        // Page-aligned: some drivers (s390, tegra-gart) drop the offset in iova_to_phys, as Linux does.
        expect(L.iommu_iova_to_phys(domain, base + 2 * SZ_4K)).toBe(buf + 2 * SZ_4K);
        const r = dev.dma_read(base + 2 * SZ_4K + 8, 4);
        expect(r.ok).toBe(true);
        if (r.ok) expect([...r.data!]).toEqual([0xde, 0xad, 0xbe, 0xef]);
        expect(dev.dma_write(base + SZ_4K, [1, 2, 3]).ok).toBe(true);
        expect([...L.lab.mem.read(buf + SZ_4K, 3)]).toEqual([1, 2, 3]);
      });

      it(`${kernel}: a trace field named domain is the lab's domain id (the Trace panel filters by it)`, () => {
        const { L, dev, domain, base } = rig(driver, kernel)!;
        const bus = L.lab.bus(PLATFORM.has(driver) ? 'platform' : 'pci');
        const alloc = () =>
          (kernel === 'v6.16'
            ? L.iommu_paging_domain_alloc(dev)
            : L.iommu_domain_alloc(bus)) as Api.IommuDomain;
        // Domains made and freed first, so the lab's ids run ahead of any id a driver hands out
        // itself (a VT-d DID, a virtio domain ID, an AMD domid: each has its own field name).
        for (const d of [alloc(), alloc(), alloc()]) L.iommu_domain_free(d);
        L.iommu_detach_device(domain, dev);
        const d = alloc();
        expect(L.iommu_attach_device(d, dev)).toBe(0);
        expect(L.iommu_map(d, base, L.lab.mem.alloc(SZ_4K), SZ_4K, RW)).toBe(0);
        expect(L.iommu_unmap(d, base, SZ_4K)).toBe(SZ_4K);
        L.iommu_flush_iotlb_all(d);
        const trace = L.lab.trace();
        const start = trace.findLast((e) => e.name === 'api_call' && e.fn === 'iommu_map')!.step;
        // 0 is no domain: tegra-gart's one global table.
        const others = trace.filter(
          (e) => e.step >= start && typeof e.domain === 'number' && e.domain !== d.id && e.domain !== 0,
        );
        expect(others.map((e) => `${e.name} domain=${e.domain}`)).toEqual([]);
      });

      it(`${kernel}: the last page of the aperture maps, reads back and is reached by the device (up to 2^53)`, () => {
        const { L, dev, domain } = rig(driver, kernel)!;
        const g = domain.geometry;
        // The top page the aperture (clamped to the last safe integer) holds.
        const top = Math.floor((g.aperture_end + 1) / SZ_4K) * SZ_4K - SZ_4K;
        if (L.iommu_get_resv_regions(dev).some((r) => top < r.start + r.length && r.start < top + SZ_4K))
          return;
        const buf = L.lab.mem.alloc(SZ_4K);
        L.lab.mem.write(buf, [7, 7]);
        expect(L.iommu_map(domain, top, buf, SZ_4K, RW)).toBe(0);
        expect(L.iommu_iova_to_phys(domain, top)).toBe(buf);
        const r = dev.dma_read(top, 2);
        expect(r.ok).toBe(true);
        if (r.ok) expect([...r.data!]).toEqual([7, 7]);
        expect(L.iommu_unmap(domain, top, SZ_4K)).toBe(SZ_4K);
      });

      it(`${kernel}: a map over a mapped page raises map-over-existing, whatever the driver then does`, () => {
        const { L, domain, base } = rig(driver, kernel)!;
        const buf = L.lab.mem.alloc(2 * SZ_4K);
        expect(L.iommu_map(domain, base, buf, SZ_4K, RW)).toBe(0);
        expect(L.lab.checks().filter((c) => c.id === 'map-over-existing')).toHaveLength(0);
        L.iommu_map(domain, base, buf + SZ_4K, SZ_4K, RW);
        expect(L.lab.checks().filter((c) => c.id === 'map-over-existing')).toHaveLength(1);
      });

      it(`${kernel}: a second unmap of the same page raises unmap-of-hole, whatever the driver returns`, () => {
        const { L, domain, base } = rig(driver, kernel)!;
        expect(L.iommu_map(domain, base, L.lab.mem.alloc(SZ_4K), SZ_4K, RW)).toBe(0);
        L.iommu_unmap(domain, base, SZ_4K);
        expect(L.lab.checks().filter((c) => c.id === 'unmap-of-hole')).toHaveLength(0);
        L.iommu_unmap(domain, base, SZ_4K);
        expect(L.lab.checks().filter((c) => c.id === 'unmap-of-hole').length).toBeGreaterThan(0);
      });

      it(`${kernel}: a synced unmap leaves nothing the device can reach`, () => {
        const { L, dev, domain, base } = rig(driver, kernel)!;
        const buf = L.lab.mem.alloc(SZ_4K);
        expect(L.iommu_map(domain, base, buf, SZ_4K, RW)).toBe(0);
        expect(dev.dma_read(base, 4).ok).toBe(true);
        expect(L.iommu_unmap(domain, base, SZ_4K)).toBe(SZ_4K);
        expect(L.iommu_iova_to_phys(domain, base)).toBe(0);
        expect(dev.dma_read(base, 4).ok).toBe(false);
      });

      it(`${kernel}: one gather synced once covers every page unmapped into it`, () => {
        const { L, dev, domain, base } = rig(driver, kernel)!;
        const buf = L.lab.mem.alloc(8 * SZ_4K);
        for (let i = 0; i < 8; i++)
          expect(L.iommu_map(domain, base + i * SZ_4K, buf + i * SZ_4K, SZ_4K, RW)).toBe(0);
        for (let i = 0; i < 8; i++) expect(dev.dma_read(base + i * SZ_4K, 1).ok).toBe(true);
        const g = L.iommu_iotlb_gather_init();
        for (let i = 0; i < 8; i += 2)
          expect(L.iommu_unmap_fast(domain, base + i * SZ_4K, SZ_4K, g)).toBe(SZ_4K);
        L.iommu_iotlb_sync(domain, g);
        for (let i = 0; i < 8; i++) {
          const r = dev.dma_read(base + i * SZ_4K, 1);
          expect(r.ok).toBe(i % 2 === 1);
          if (r.ok) expect(r.tlb).not.toBe('stale');
        }
      });

      it(`${kernel}: iommu_pgsize follows the domain's pgsize_bitmap`, () => {
        const { L, domain } = rig(driver, kernel)!;
        const bitmap = domain.pgsize_bitmap;
        expect(bitmap).toBeGreaterThan(0);
        fc.assert(
          fc.property(
            fc.integer({ min: 0, max: 0xfff }),
            fc.integer({ min: 0, max: 0xfff }),
            fc.integer({ min: 1, max: 0x3ff }),
            (i, p, n) => {
              const iova = i * SZ_4K * 37;
              const pa = p * SZ_4K * 53;
              const size = n * SZ_4K * 17;
              expect(L.iommu_pgsize(domain, iova, pa, size)).toEqual(
                reference_pgsize(bitmap, iova, pa, size),
              );
            },
          ),
          { numRuns: 200 },
        );
      });

      it(`${kernel}: random 4K maps and unmaps agree with a page oracle`, () => {
        fc.assert(
          fc.property(
            fc.array(
              fc.record({ map: fc.boolean(), page: fc.integer({ min: 0, max: 31 }), dma: fc.boolean() }),
              { minLength: 1, maxLength: 40 },
            ),
            (ops) => {
              const { L, dev, domain, base } = rig(driver, kernel)!;
              const buf = L.lab.mem.alloc(32 * SZ_4K);
              const mapped = new Set<number>();
              for (const o of ops) {
                const iova = base + o.page * SZ_4K;
                if (o.map && !mapped.has(o.page)) {
                  expect(L.iommu_map(domain, iova, buf + o.page * SZ_4K, SZ_4K, RW)).toBe(0);
                  mapped.add(o.page);
                } else if (!o.map && mapped.has(o.page)) {
                  expect(L.iommu_unmap(domain, iova, SZ_4K)).toBe(SZ_4K);
                  mapped.delete(o.page);
                }
                if (o.dma) expect(dev.dma_read(iova, 1).ok).toBe(mapped.has(o.page));
              }
              for (let p = 0; p < 32; p++)
                expect(L.iommu_iova_to_phys(domain, base + p * SZ_4K)).toBe(
                  mapped.has(p) ? buf + p * SZ_4K : 0,
                );
            },
          ),
          { numRuns: 40 },
        );
      });
    }
  });
}
