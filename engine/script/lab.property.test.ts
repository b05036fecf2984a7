/**
 * Random sequences of map, unmap, map_sg, unmap_fast + sync, attach/detach and DMA against a page
 * oracle (IOMMU-FACTS §2): iova_to_phys agrees, return values follow the core's rules, no DMA
 * reaches a page that is not mapped once the unmap was synced, and nothing but the documented
 * errors is ever thrown. Runs on the real engine through the same module scripts import.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as Api from './iommu-lab.d.ts';
import { createLabModule } from './module.ts';

const PAGE = 0x1000;
const PAGES = 48;
const IOVA_BASE = 0x10_0000;
// PAs never share 2M alignment with their IOVAs here, so every leaf is a 4K page and the oracle is per page.
const PA_BASE = 0x8000_1000;

type Op =
  | { op: 'map'; page: number; n: number; pa: number }
  | { op: 'unmap'; page: number; n: number }
  | { op: 'map_sg'; page: number; pas: number[] }
  | { op: 'unmap_fast'; page: number; n: number }
  | { op: 'attach' }
  | { op: 'detach' }
  | { op: 'dma'; page: number; write: boolean };

const page = fc.integer({ min: 0, max: PAGES - 1 });
const count = fc.integer({ min: 1, max: 8 });
const pa = fc.integer({ min: 0, max: 63 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('map' as const), page, n: count, pa }),
  fc.record({ op: fc.constant('unmap' as const), page, n: count }),
  fc.record({ op: fc.constant('map_sg' as const), page, pas: fc.array(pa, { minLength: 1, maxLength: 5 }) }),
  fc.record({ op: fc.constant('unmap_fast' as const), page, n: count }),
  fc.record({ op: fc.constant('attach' as const) }),
  fc.record({ op: fc.constant('detach' as const) }),
  fc.record({ op: fc.constant('dma' as const), page, write: fc.boolean() }),
);

function run(ops: Op[], kernel: Api.KernelName): void {
  const { exports } = createLabModule({ kernel });
  const L = exports as unknown as typeof Api;
  const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
  const dev = L.lab.add_device('dev0', { iommu: smmu });
  const domain =
    kernel === 'v6.16' ? L.iommu_paging_domain_alloc(dev) : L.iommu_domain_alloc(L.lab.bus('pci'));
  if (!domain || L.IS_ERR(domain)) throw new Error('no domain');
  const oracle = new Map<number, number>(); // page index → pa
  let attached = false;
  let finalised = kernel === 'v6.16';
  const RW = L.IOMMU_READ | L.IOMMU_WRITE;
  const iovaOf = (p: number) => IOVA_BASE + p * PAGE;

  const mapRange = (p: number, pas: number[]): number => {
    for (let i = 0; i < pas.length; i++) if (p + i >= PAGES || oracle.has(p + i)) return -L.EEXIST;
    pas.forEach((x, i) => oracle.set(p + i, x));
    return 0;
  };
  const unmapRange = (p: number, n: number): number => {
    let done = 0;
    while (done < n && oracle.has(p + done)) oracle.delete(p + done++);
    return done * PAGE;
  };

  for (const o of ops) {
    switch (o.op) {
      case 'map': {
        const pas = Array.from({ length: o.n }, (_, i) => PA_BASE + (o.pa + i) * PAGE);
        const want = finalised ? mapRange(o.page, pas) : -L.ENODEV;
        const ret = L.iommu_map(domain, iovaOf(o.page), pas[0], o.n * PAGE, RW);
        // Beyond the last oracle page the map may succeed: keep the oracle's window closed instead.
        if (o.page + o.n > PAGES && ret === 0) L.iommu_unmap(domain, iovaOf(o.page), o.n * PAGE);
        else expect(ret).toBe(want);
        break;
      }
      case 'map_sg': {
        const pas = o.pas.map((x) => PA_BASE + x * PAGE * 2); // never contiguous: one run per entry
        const sg = pas.map((paddr) => ({ paddr, length: PAGE }));
        if (o.page + pas.length > PAGES) break;
        const want = finalised ? mapRange(o.page, pas) : -L.ENODEV;
        const ret = L.iommu_map_sg(domain, iovaOf(o.page), sg, RW);
        expect(ret).toBe(want === 0 ? pas.length * PAGE : want);
        break;
      }
      case 'unmap':
        expect(L.iommu_unmap(domain, iovaOf(o.page), o.n * PAGE)).toBe(unmapRange(o.page, o.n));
        break;
      case 'unmap_fast': {
        const g = L.iommu_iotlb_gather_init();
        expect(L.iommu_unmap_fast(domain, iovaOf(o.page), o.n * PAGE, g)).toBe(unmapRange(o.page, o.n));
        L.iommu_iotlb_sync(domain, g);
        break;
      }
      case 'attach':
        if (!attached) {
          expect(L.iommu_attach_device(domain, dev)).toBe(0);
          attached = finalised = true;
        } else {
          expect(L.iommu_attach_device(domain, dev)).toBe(-L.EBUSY);
        }
        break;
      case 'detach':
        if (attached) L.iommu_detach_device(domain, dev);
        attached = false;
        break;
      case 'dma': {
        const r = o.write ? dev.dma_write(iovaOf(o.page), [0xaa]) : dev.dma_read(iovaOf(o.page), 1);
        const mapped = oracle.get(o.page);
        expect(r.ok).toBe(attached && mapped !== undefined);
        if (r.ok && mapped !== undefined) {
          expect(r.pa).toBe(mapped);
          expect(r.tlb).not.toBe('stale');
        }
        break;
      }
    }
    for (let p = 0; p < PAGES; p++) expect(L.iommu_iova_to_phys(domain, iovaOf(p))).toBe(oracle.get(p) ?? 0);
  }
}

describe('the core against a page oracle (arm-smmu-v3)', () => {
  for (const kernel of ['v6.16', 'v6.6'] as const) {
    it(`holds for random call sequences on ${kernel}`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => run(ops, kernel)),
        { numRuns: 150 },
      );
    });
  }
});
