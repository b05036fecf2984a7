/**
 * The IOVA cache's depot, per kernel era — IOMMU-FACTS §4.2 (drivers/iommu/iova.c).
 *
 * A freed IOVA of up to 32 pages is not given back to the allocator: it goes into a per-CPU
 * magazine of 127 for the next mapping of its size, and full magazines move to a shared depot.
 * v6.6 keeps at most 32 magazines there. From v6.7 the depot is a list without a limit, and a
 * delayed work gives one magazine back every 100 ms while the depot holds more than one per CPU
 * (the lab models one CPU), so addresses a burst of mappings used become free again.
 *
 * Here 382 one-page mappings, unmapped, leave two magazines in the depot. 100 ms later v6.8 and
 * v6.16 have freed one of them (iova_magazine_free in the trace), and a two-page mapping, a size
 * nothing has cached, lands in the hole it left; on v6.6 it goes below every IOVA used so far.
 * Run it with `--kernel v6.6` to see the other side.
 */
import { lab, dma_map_single, dma_unmap_single, DMA_TO_DEVICE, SZ_4K, SZ_8K, expect } from 'iommu-lab';

const MAGAZINE = 127;
const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const nic = lab.add_device('nic0', { iommu: smmu, default_domain: 'dma' });
const buf = lab.mem.alloc(SZ_4K);

// Two magazines for the CPU, then one more every 127 frees: 3 × 127 + 1 leaves two in the depot.
const iovas: number[] = [];
for (let i = 0; i < 3 * MAGAZINE + 1; i++) iovas.push(dma_map_single(nic, buf, SZ_4K, DMA_TO_DEVICE));
for (const iova of iovas) dma_unmap_single(nic, iova, SZ_4K, DMA_TO_DEVICE);
const lowest = iovas[iovas.length - 1];

lab.advance_time(100);
const trimmed = lab.trace().filter((e) => e.name === 'iova_magazine_free');
const two = dma_map_single(nic, buf, SZ_8K, DMA_TO_DEVICE);

if (lab.kernel() === 'v6.6') {
  expect(trimmed).toHaveLength(0);
  expect(two).toBe(lowest - SZ_8K);
} else {
  // iova_depot_work_func frees the depot's newest magazine: the 255th to 381st unmapped IOVAs.
  expect(trimmed).toHaveLength(1);
  expect(trimmed[0]).toMatchObject({ pfns: MAGAZINE, depot: 1, reason: 'work' });
  expect(two).toBeGreaterThanOrEqual(iovas[3 * MAGAZINE - 1]);
  expect(two).toBeLessThan(iovas[2 * MAGAZINE]);
  // One magazine per CPU stays in the depot: later runs free nothing.
  lab.advance_time(1000);
  expect(lab.trace().filter((e) => e.name === 'iova_magazine_free')).toHaveLength(1);
}

// One-page mappings still come from the CPU's magazine, newest first, in every era.
expect(dma_map_single(nic, buf, SZ_4K, DMA_TO_DEVICE)).toBe(lowest);
