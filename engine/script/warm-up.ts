/**
 * The engine's hot paths, exercised once per process before SES locks the realm down.
 *
 * Why: lockdown freezes Object.prototype and the typed-array prototypes. In the V8 of Node 20
 * (11.3), a keyed store to a typed array whose inline cache is first set up after that freeze
 * takes a slow path — about 100 times slower (measured: 2 ns → 230 ns a store) — while a cache
 * set up before the freeze stays fast. Chromium 156 does not show it. The engine keeps its state
 * in typed arrays (trace, call log, page tables, IOTLB, memory), so on Node every step of a script
 * would pay it. A few calls of each path before lockdown give those caches their fast form.
 *
 * The labs made here are thrown away: nothing they do reaches a script's lab (each lab has its own
 * machine, trace and handles). A failure here is ignored: warming up must never stop a run.
 */
import type * as Api from './iommu-lab.d.ts';
import { createLabModule } from './module.ts';

/** Calls per path: V8 gives a function feedback (inline caches) after about ten calls. */
const ROUNDS = 12;
/** IOTLB entries of the warm-up's instances: fewer than the pages it reads. */
const TLB_ENTRIES = 4;

/** Exercise the hot paths; returns the drivers that went through them without an error. */
export function warmUpEngine(): string[] {
  const warmed: string[] = [];
  for (const [kernel, driver] of DRIVERS) {
    try {
      warmDriver(kernel, driver, driver === DRIVERS[0][1]);
      warmed.push(driver);
    } catch {
      // a driver this build cannot set up this way: its first runs are slower, nothing else
    }
  }
  return warmed;
}

/**
 * The page-table engine, the IOTLB, memory, the trace and the call log are shared by every driver,
 * so one driver with a table, one without (virtio's host keeps mappings) and one whose empty
 * entries are not zero (s390: new tables are filled with invalid entries) cover the typed arrays.
 */
const DRIVERS: readonly [kernel: string, driver: string][] = [
  ['v6.16', 'arm-smmu-v3'],
  ['v6.16', 'virtio-iommu'],
  ['v6.16', 's390-iommu'],
];

function warmDriver(kernel: string, driver: string, timeTravel: boolean): void {
  const { exports, session } = createLabModule({ kernel });
  const L = exports as unknown as typeof Api;
  // A small IOTLB, so the device reads below evict entries and remove them from the middle of
  // the hash table and of the LRU list, as any workload with more pages than entries does.
  const iommu = L.lab.add_iommu('warm0', driver as Api.DriverName, { tlb_entries: TLB_ENTRIES });
  const dev = L.lab.add_device('warm-dev', { iommu });
  const dma = L.lab.add_device('warm-dma', { iommu, default_domain: 'dma' });
  const domain =
    kernel === 'v6.6' ? L.iommu_domain_alloc(L.lab.bus('pci')) : L.iommu_paging_domain_alloc(dev);
  if (!domain || L.IS_ERR(domain)) return;
  L.iommu_attach_device(domain, dev);
  const pg = domain.pgsize_bitmap;
  const page = pg & 0xfff ? 0x1000 : pg & -pg;
  const base = Math.max(domain.geometry.aperture_start, 0x10_0000);
  const buf = L.lab.mem.alloc(0x4000);
  L.lab.mem.write(buf, [1, 2, 3, 4]);
  for (let i = 0; i < ROUNDS; i++) {
    const iova = base + i * page;
    L.iommu_map(domain, iova, 0x8000_0000 + i * page, page, L.IOMMU_READ | L.IOMMU_WRITE);
    L.iommu_iova_to_phys(domain, iova);
    dev.dma_read(iova, 4);
    dev.dma_read(iova + 4, 4);
    dev.dma_write(iova, [5, 6]);
    dev.dma_read(iova + page * ROUNDS * 2, 4); // a fault
    L.iommu_map_sg(domain, iova + page * ROUNDS * 4, [{ paddr: 0x9000_0000, length: page }], L.IOMMU_READ);
    L.iommu_unmap(domain, iova + page * ROUNDS * 4, page);
    const gather = L.iommu_iotlb_gather_init();
    L.iommu_unmap_fast(domain, iova, page, gather);
    L.iommu_iotlb_sync(domain, gather);
    const handle = L.dma_map_single(dma, buf, 0x1000, L.DMA_BIDIRECTIONAL);
    dma.dma_read(handle, 4);
    L.dma_unmap_single(dma, handle, 0x1000, L.DMA_BIDIRECTIONAL);
    L.lab.advance_time(1);
  }
  // More pages than the IOTLB holds, read in a scattered order: fills that evict, hits on
  // entries in the middle of the LRU list, invalidations of some of them.
  const pages = TLB_ENTRIES * 3;
  const spread = base + page * ROUNDS * 8;
  L.iommu_map(domain, spread, 0x8000_0000, page * pages, L.IOMMU_READ | L.IOMMU_WRITE);
  for (let i = 0; i < pages * ROUNDS; i++) dev.dma_read(spread + ((i * 7) % pages) * page, 4);
  L.iommu_flush_iotlb_all(domain);
  L.iommu_unmap(domain, spread, page * pages);
  // An argument above 4 GiB is kept as a float64 in the trace: reading it back decodes one.
  L.iommu_iova_to_phys(domain, 2 ** 40);
  session.trace.slice(session.trace.length - 4, 4);
  // Time travel (a replay checked against the trace, a checkpoint copied and restored) and the
  // panels' reads, over the lab just driven: the same code whatever the driver.
  if (!timeTravel) return;
  session.seek(session.steps >> 1);
  session.seek(session.steps >> 2);
  session.trace.query(0, 50, { kinds: ['tlb'] });
}
