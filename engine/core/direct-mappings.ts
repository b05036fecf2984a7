/** iommu_create_device_direct_mappings (facts §3.3). */
import { IOMMU_RESV_DIRECT, IOMMU_RESV_DIRECT_RELAXABLE, iommu_is_dma_domain } from './constants.ts';
import type { Device } from './device.ts';
import type { IommuDomain } from './domain.ts';
import { EINVAL } from './errno.ts';
import { iommu_map } from './map.ts';
import { ev } from './trace-events.ts';
import { bitmap_min_size } from './pgsize.ts';
import { device_resv_regions } from './resv.ts';
import { iommu_flush_iotlb_all, iommu_iova_to_phys } from './unmap.ts';

const roundUp = (x: number, a: number) => Math.ceil(x / a) * a;

/**
 * Map a device's DIRECT and DIRECT_RELAXABLE regions 1:1 in a DMA-API domain. Rounds the start
 * *up*, so a leading partial page is never mapped; pages already mapped split the walk into runs.
 * Sets require_direct for any DIRECT region, whatever the domain type.
 */
export function iommu_create_device_direct_mappings(domain: IommuDomain, dev: Device): number {
  const isDma = iommu_is_dma_domain(domain.type);
  const pg = bitmap_min_size(domain.pgsize_bitmap);
  if (isDma && !pg) return -EINVAL;
  let ret = 0;
  const regions = device_resv_regions(dev);
  const trace = dev.machine.trace;
  for (const r of regions) {
    if (r.type === IOMMU_RESV_DIRECT) dev.require_direct = true;
    if ((r.type !== IOMMU_RESV_DIRECT && r.type !== IOMMU_RESV_DIRECT_RELAXABLE) || !isDma) continue;
    const start = roundUp(r.start, pg);
    const end = roundUp(r.start + r.length, pg);
    // Recorded before the walk, which records nothing until it maps: a run's time limit that stops
    // the walk is then cut after this event, and a replay of the call stops here too, require_direct set.
    trace.emit(ev.direct_mapping, domain.id, trace.str(dev.name), start, end - start);
    let run = 0;
    for (let addr = start; addr <= end; addr += pg) {
      trace.poll(); // a region of a terabyte is minutes of probing: the run's time limit must reach in
      // Probing iova_to_phys(addr) for "already mapped" aliases a page mapped to PA 0 with no mapping.
      if (addr !== end && !iommu_iova_to_phys(domain, addr)) {
        run += pg;
        continue;
      }
      if (run) {
        ret = iommu_map(domain, addr - run, addr - run, run, r.prot);
        if (ret) return ret;
        run = 0;
      }
    }
  }
  if (regions.length && isDma && dev.machine.profile.has('direct_mappings_flush_all'))
    iommu_flush_iotlb_all(domain);
  return ret;
}
