/**
 * iommu_map and friends (facts §2.1): the core's half of mapping. The core never checks the
 * aperture or the attachment state; those are the drivers' business, and the lab's checks say so.
 */
import { raise_check } from './checks.ts';
import {
  __IOMMU_DOMAIN_PAGING,
  IOMMU_RESV_MSI,
  IOMMU_RESV_RESERVED,
  IOMMU_RESV_SW_MSI,
  iommu_is_dma_domain,
} from './constants.ts';
import type { Device } from './device.ts';
import type { IommuDomain, MappingRange } from './domain.ts';
import { EEXIST, EINVAL, ENODEV } from './errno.ts';
import { bitmap_min_size, iommu_pgsize_into, mod_pow2, type PgsizeResult } from './pgsize.ts';
import { device_resv_regions, ranges_overlap, resv_type_name } from './resv.ts';
import { ev } from './trace-events.ts';
import { iommu_unmap } from './unmap.ts';
import { hex } from './format.ts';

/** The map loop's iommu_pgsize answer (one object for every step). */
const pg: PgsizeResult = { pgsize: 0, count: 0 };

/** Map without the final iotlb_sync_map; on failure the mapped prefix is unmapped again. */
export function iommu_map_nosync(
  domain: IommuDomain,
  iova: number,
  paddr: number,
  size: number,
  prot: number,
): number {
  const ops = domain.ops;
  if (!(domain.type & __IOMMU_DOMAIN_PAGING)) {
    raise_check(
      domain.machine,
      'map-on-non-paging-domain',
      `iommu_map on domain ${domain.id}, which is not a paging domain`,
    );
    return -EINVAL;
  }
  if (!ops.map_pages || domain.pgsize_bitmap === 0) return -ENODEV;
  const min = bitmap_min_size(domain.pgsize_bitmap);
  if (mod_pow2(iova, min) || mod_pow2(paddr, min) || mod_pow2(size, min)) {
    raise_check(
      domain.machine,
      'unaligned-map',
      `unaligned: iova ${hex(iova)} pa ${hex(paddr)} size ${hex(size)} min_pagesz ${hex(min)}`,
    );
    return -EINVAL;
  }
  if (size === 0) {
    // __iommu_map has no early return: its loop runs zero times and trace_map fires with size 0.
    domain.machine.trace.emit(ev.map, domain.id, iova, paddr, 0, 0);
    return 0;
  }
  check_map_target(domain, iova, size);

  const t = domain.machine.trace;
  domain.machine.map_prot = prot;
  let left = size;
  let ret = 0;
  let cur = iova;
  let pa = paddr;
  while (left) {
    iommu_pgsize_into(domain.pgsize_bitmap, cur, pa, left, pg);
    const pgsize = pg.pgsize;
    const count = pg.count;
    const r = ops.map_pages(domain, cur, pa, pgsize, count, prot);
    t.emit(ev.map_pages, domain.id, cur, pa, pgsize, count, r.ret);
    left -= r.mapped;
    ret = r.ret;
    if (ret === -EEXIST)
      raise_check(
        domain.machine,
        'map-over-existing',
        `${domain.owner.name} map_pages of [${hex(cur)}, +${hex(pgsize * count)}) on domain ${domain.id} found a mapping in the way (-EEXIST): unmap it first`,
      );
    if (ret) break;
    if (r.mapped === 0) no_progress(domain, cur, pgsize, count, prot);
    cur += r.mapped;
    pa += r.mapped;
  }
  if (ret) iommu_unmap(domain, iova, size - left);
  else t.emit(ev.map, domain.id, iova, paddr, size, 0);
  return ret;
}

/**
 * map_pages returned 0 and mapped nothing (io-pgtable-arm's "no access, nothing to do" for a prot
 * without READ or WRITE, before that became -EINVAL): __iommu_map would call it again with the
 * same arguments, forever. The kernel hangs in this loop; the lab stops the script and says so.
 */
function no_progress(domain: IommuDomain, iova: number, pgsize: number, count: number, prot: number): never {
  throw new Error(
    `iommu_map never returns: ${domain.owner.name} map_pages(${hex(iova)}, pgsize ${hex(pgsize)}, ` +
      `count ${count}, prot ${hex(prot)}) returned 0 and mapped nothing, so __iommu_map calls it ` +
      `again with the same arguments forever (the kernel hangs here)`,
  );
}

/** ops->iotlb_sync_map once for the whole range; from v6.7 a failure unmaps the range again. */
export function iommu_sync_map(domain: IommuDomain, iova: number, size: number): number {
  const sync = domain.ops.iotlb_sync_map;
  if (!sync) return 0;
  const ret = sync(domain, iova, size);
  domain.machine.trace.emit(ev.iotlb_sync_map, domain.id, iova, size, ret);
  return domain.machine.profile.has('iotlb_sync_map_returns_int') ? ret : 0;
}

export function iommu_map(
  domain: IommuDomain,
  iova: number,
  paddr: number,
  size: number,
  prot: number,
): number {
  let ret = iommu_map_nosync(domain, iova, paddr, size, prot);
  if (ret) return ret;
  ret = iommu_sync_map(domain, iova, size);
  if (ret) iommu_unmap(domain, iova, size);
  return ret;
}

export interface SgEntry {
  paddr: number;
  length: number;
}

/**
 * iommu_map_sg: physically contiguous entries are mapped as one run, and iotlb_sync_map runs once
 * for the whole list. On failure everything mapped is unmapped and the error returned.
 */
export function iommu_map_sg(
  domain: IommuDomain,
  iova: number,
  sg: readonly SgEntry[],
  prot: number,
): number {
  let mapped = 0;
  let start = 0;
  let len = 0;
  let ret = 0;
  const n = sg.length;
  for (let i = 0; n > 0 && i <= n; i++) {
    // The pass after the last entry reads the last entry again (Linux does not advance `sg` past
    // it), so a run it seems to continue (a last entry of length 0 right after the run) is never
    // mapped.
    const e = sg[Math.min(i, n - 1)];
    if (len && e.paddr !== start + len) {
      ret = iommu_map_nosync(domain, iova + mapped, start, len, prot);
      if (ret) break;
      mapped += len;
      len = 0;
    }
    if (len) len += e.length;
    else {
      start = e.paddr;
      len = e.length;
    }
  }
  if (!ret) ret = iommu_sync_map(domain, iova, mapped);
  if (ret) {
    iommu_unmap(domain, iova, mapped); // out_err: always, so the sync runs even when nothing was mapped
    return ret;
  }
  return mapped;
}

/** The lab's checks on what the core lets through: a map outside the aperture or over a reserved region. */
function check_map_target(domain: IommuDomain, iova: number, size: number): void {
  const m = domain.machine;
  const g = domain.geometry;
  if (g.force_aperture && (iova < g.aperture_start || iova + size - 1 > g.aperture_end)) {
    raise_check(
      m,
      'out-of-aperture-map',
      `map [${hex(iova)}, ${hex(iova + size - 1)}] is outside the aperture [${hex(g.aperture_start)}, ${hex(g.aperture_end)}] of domain ${domain.id}`,
    );
  }
  for (const dev of domain.devices) if (report_resv_overlap(domain, dev, iova, size)) return;
}

/**
 * RESERVED and MSI windows are never mappable; the SW_MSI window is where an UNMANAGED (VFIO)
 * domain's MSI cookie maps doorbells, while dma-iommu hands it out as ordinary IOVAs (facts §3.4).
 */
function never_mapped(domain: IommuDomain, type: number): boolean {
  return (
    type === IOMMU_RESV_RESERVED ||
    type === IOMMU_RESV_MSI ||
    (!iommu_is_dma_domain(domain.type) && type === IOMMU_RESV_SW_MSI)
  );
}

/** map-overlaps-reserved for [iova, iova+size) against `dev`'s regions; whether it fired. */
function report_resv_overlap(domain: IommuDomain, dev: Device, iova: number, size: number): boolean {
  for (const r of device_resv_regions(dev)) {
    if (never_mapped(domain, r.type) && ranges_overlap(iova, size, r.start, r.length)) {
      raise_check(
        domain.machine,
        'map-overlaps-reserved',
        `map [${hex(iova)}, ${hex(iova + size - 1)}] on domain ${domain.id} overlaps ${dev.name}'s ${resv_type_name(r.type)} region [${hex(r.start)}, ${hex(r.start + r.length - 1)}]`,
      );
      return true;
    }
  }
  return false;
}

/**
 * Devices join a domain that already maps one of their reserved windows (mapped before the
 * attach): VFIO and iommufd refuse such an attach (vfio_iommu_resv_conflict, -EADDRINUSE); the
 * core does not. The domain's mappings are listed only when a device has a window to compare.
 */
export function check_resv_on_attach(domain: IommuDomain, devs: readonly Device[]): void {
  let ranges: MappingRange[] | null = null;
  for (const dev of devs) {
    if (!device_resv_regions(dev).some((r) => never_mapped(domain, r.type))) continue;
    ranges ??= domain.mappings();
    for (const r of ranges) if (report_resv_overlap(domain, dev, r.iova, r.size)) break;
  }
}
