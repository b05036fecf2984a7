import type { IommuDomain } from './domain.ts';
import { ev } from './trace-events.ts';

/** struct iommu_iotlb_gather (facts §2.4). */
export class IommuIotlbGather {
  start = Number.MAX_SAFE_INTEGER;
  end = 0;
  pgsize = 0;
  /** A flush queue will call flush_iotlb_all later, so drivers may skip their TLBIs. */
  queued = false;
  /** Page-table pages to free only after the flush. */
  readonly freelist: number[] = [];
}

export function iommu_iotlb_gather_init(gather = new IommuIotlbGather()): IommuIotlbGather {
  gather.start = Number.MAX_SAFE_INTEGER;
  gather.end = 0;
  gather.pgsize = 0;
  gather.queued = false;
  gather.freelist.length = 0;
  return gather;
}

/** True when [iova, iova+size) neither overlaps nor touches the gathered range. */
export function iommu_iotlb_gather_is_disjoint(
  gather: IommuIotlbGather,
  iova: number,
  size: number,
): boolean {
  const end = iova + size - 1;
  return gather.end !== 0 && (end + 1 < gather.start || iova > gather.end + 1);
}

export function iommu_iotlb_gather_add_range(gather: IommuIotlbGather, iova: number, size: number): void {
  const end = iova + size - 1;
  if (gather.start > iova) gather.start = iova;
  if (gather.end < end) gather.end = end;
}

/** Gather one page; a change of page size or a gap syncs what was gathered first. */
export function iommu_iotlb_gather_add_page(
  domain: IommuDomain,
  gather: IommuIotlbGather,
  iova: number,
  size: number,
): void {
  if ((gather.pgsize && gather.pgsize !== size) || iommu_iotlb_gather_is_disjoint(gather, iova, size))
    iommu_iotlb_sync(domain, gather);
  gather.pgsize = size;
  iommu_iotlb_gather_add_range(gather, iova, size);
}

/** Complete the invalidations gathered, then start a new gather. */
export function iommu_iotlb_sync(domain: IommuDomain, gather: IommuIotlbGather): void {
  const t = domain.machine.trace;
  t.emit(ev.iotlb_sync, domain.id, gather.end ? gather.start : 0, gather.end, gather.pgsize);
  domain.ops.iotlb_sync?.(domain, gather);
  // Only this domain's invalidations are done: another domain's range in the same gather is
  // invalidated on this domain's tag, so it stays stale and pending (the gather starts afresh).
  const k = domain.machine.pending_unmap(gather, domain);
  if (k >= 0) domain.machine.pending_unsynced.splice(k, 1);
  iommu_iotlb_gather_init(gather);
}
