/**
 * IOTLB flushes of a dmar_domain on every unit it is attached to, per era (facts §5.5
 * "Invalidation"). Before v6.10 iommu_flush_iotlb_psi(iommu, domain, pfn, pages) does them, called
 * by intel_iommu_tlb_sync, __mapping_notify_one and switch_to_super_page; from v6.10 the cache tags
 * of cache.c do (cache_tag_flush_range, _range_np, _all), which align the range first with
 * calculate_psi_aligned_address. Second-stage domains get IOTLB invalidations (PSI, DSI when the
 * mask is above MAMV); first-stage domains get PASID-based ones for RID_PASID (qi_flush_piotlb).
 */
import type { IommuIotlbGather } from '../../core/gather.ts';
import type { DmarDomain } from './domain.ts';
import { IOMMU_NO_PASID, VTD_PAGE_SIZE } from './intel-iommu.ts';

/** Smallest naturally aligned block of 2^mask pages holding pfns [first, last] (PSI masks low bits). */
function psi_mask(first: number, last: number): number {
  let mask = 0;
  while (Math.floor(first / 2 ** mask) !== Math.floor(last / 2 ** mask)) mask++;
  return mask;
}

/**
 * Invalidate pfns [first, last] of `domain` on every unit, or (`np`) only where a not-present entry
 * may be cached: a unit in caching mode, a second-stage domain.
 */
function flush_pfns(domain: DmarDomain, first: number, last: number, np = false): void {
  const cache_tags = domain.machine.profile.has('intel_cache_tag');
  // calculate_psi_aligned_address and the second-stage path of iommu_flush_iotlb_psi agree: the
  // smallest aligned block that holds the range.
  const mask = psi_mask(first, last);
  const addr = Math.floor(first / 2 ** mask) * 2 ** mask * VTD_PAGE_SIZE;
  for (const [unit, info] of domain.units) {
    if (np && (!unit.cfg.caching_mode || domain.use_first_level)) continue;
    if (!domain.use_first_level) unit.qi_flush_iotlb_psi(info.did, addr, mask);
    // v6.10+: the aligned block. Before: qi_flush_piotlb gets the start and the page count and
    // aligns the start down to roundup_pow_of_two(pages), which may leave the range's end out.
    else if (cache_tags) unit.qi_flush_piotlb(info.did, IOMMU_NO_PASID, addr, 2 ** mask);
    else unit.qi_flush_piotlb(info.did, IOMMU_NO_PASID, first * VTD_PAGE_SIZE, last - first + 1);
    unit.qi_wait();
  }
}

function flush_range(domain: DmarDomain, iova: number, size: number, np: boolean): void {
  const first = Math.floor(iova / VTD_PAGE_SIZE);
  flush_pfns(domain, first, Math.floor((iova + size - 1) / VTD_PAGE_SIZE), np);
}

/**
 * iotlb_sync_map after entries went from not present to present: __mapping_notify_one before
 * v6.10, cache_tag_flush_range_np after. Caching mode lets a unit cache not-present second-stage
 * entries, so those are flushed; first-stage misses are never cached (VT-d spec 6.1), and without
 * caching mode only the write buffer is (QEMU's unit reports no RWBF, so nothing is issued).
 */
export function domain_flush_range_np(domain: DmarDomain, iova: number, size: number): void {
  flush_range(domain, iova, size, true);
}

/**
 * intel_iommu_tlb_sync. The core syncs an empty gather too (start ULONG_MAX, end 0: after a
 * misaligned unmap, or the rollback of a map that failed before mapping anything), and Linux
 * flushes it as if it were a range:
 * - before v6.10, size = end - start = 1 and aligned_nrpages gives one page at pfn 2^52 - 1: a
 *   PSI of mask 0 at 0xfffffffffffff000, which hits nothing;
 * - from v6.10, calculate_psi_aligned_address(ULONG_MAX, 0) counts two pages from pfn 2^52 - 1;
 *   the block that holds both has mask 53 at address 0, above MAMV: a domain-selective flush of a
 *   second-stage domain, and for a first-stage one a page-selective-within-PASID flush with mask
 *   53, which covers every address.
 */
export function domain_flush_gather(domain: DmarDomain, gather: IommuIotlbGather): void {
  if (gather.end !== 0) {
    flush_range(domain, gather.start, gather.end - gather.start + 1, false);
    return;
  }
  const last_pfn = 2 ** 52 - 1;
  if (!domain.machine.profile.has('intel_cache_tag')) flush_pfns(domain, last_pfn, last_pfn);
  else
    for (const [unit, info] of domain.units) {
      if (domain.use_first_level) unit.qi_flush_piotlb(info.did, IOMMU_NO_PASID, 0, 2 ** 53);
      else unit.qi_flush_iotlb_psi(info.did, 0, 53);
      unit.qi_wait();
    }
}

/**
 * switch_to_super_page: a superpage took the slot of a table at `iova` (`size` bytes), during a map
 * that ends at `map_end`. The table was freed, so its translations go, in caching mode or not:
 * before v6.10 a PSI of the slot (iommu_flush_iotlb_psi with lvl_pages); from v6.10
 * cache_tag_flush_range from the slot to the end of the run of superpages in this page of
 * entries (the run's end_pfn, not the slot's).
 */
export function domain_flush_super_page(
  domain: DmarDomain,
  iova: number,
  size: number,
  map_end: number,
): void {
  const first = Math.floor(iova / VTD_PAGE_SIZE);
  if (!domain.machine.profile.has('intel_cache_tag')) {
    flush_pfns(domain, first, first + size / VTD_PAGE_SIZE - 1);
    return;
  }
  const entries_end = (Math.floor(iova / (size * 512)) + 1) * size * 512;
  flush_pfns(domain, first, Math.floor((Math.min(map_end, entries_end) - 1) / VTD_PAGE_SIZE));
}

/** intel_flush_iotlb_all, cache_tag_flush_all: DSI, or PASID-selective for first-stage domains. */
export function domain_flush_all(domain: DmarDomain): void {
  for (const [unit, info] of domain.units) {
    if (domain.use_first_level) unit.qi_flush_piotlb(info.did, IOMMU_NO_PASID, 0, -1);
    else unit.qi_iotlb_domain(info.did);
    unit.qi_wait();
  }
}
