/** iommu_unmap and friends (facts §2.3). */
import { raise_check } from './checks.ts';
import { __IOMMU_DOMAIN_PAGING, IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY } from './constants.ts';
import type { IommuDomain } from './domain.ts';
import { hex } from './format.ts';
import { IommuIotlbGather, iommu_iotlb_gather_init, iommu_iotlb_sync } from './gather.ts';
import { bitmap_min_size, iommu_pgsize_into, mod_pow2, type PgsizeResult } from './pgsize.ts';
import { ev } from './trace-events.ts';
import { ev as pte_ev } from '../pgtable/trace-events.ts';
import { WalkResult } from '../pgtable/types.ts';
import type { Trace } from '../trace/trace.ts';

/** The unmap loop's iommu_pgsize answer (one object for every step). */
const pg: PgsizeResult = { pgsize: 0, count: 0 };

/** Unmap without the sync; stops at the first hole and returns the bytes unmapped. */
export function __iommu_unmap(
  domain: IommuDomain,
  iova: number,
  size: number,
  gather: IommuIotlbGather,
): number {
  const ops = domain.ops;
  if (!(domain.type & __IOMMU_DOMAIN_PAGING)) return 0;
  if (!ops.unmap_pages || domain.pgsize_bitmap === 0) return 0;
  const min = bitmap_min_size(domain.pgsize_bitmap);
  if (mod_pow2(iova, min) || mod_pow2(size, min)) return 0;

  const t = domain.machine.trace;
  const first = t.position;
  let unmapped = 0;
  while (unmapped < size) {
    const cur = iova + unmapped;
    iommu_pgsize_into(domain.pgsize_bitmap, cur, cur, size - unmapped, pg);
    const pgsize = pg.pgsize;
    const count = pg.count;
    const checks = domain.machine.checks.length;
    const got = ops.unmap_pages(domain, cur, pgsize, count, gather);
    t.emit(ev.unmap_pages, domain.id, cur, pgsize, count, got);
    if (!got) {
      // A driver that said why itself (virtio-iommu dropping MAPs before a hole) knows best.
      if (domain.machine.checks.length === checks) report_short_unmap(domain, iova, size, cur);
      break;
    }
    unmapped += got;
  }
  t.emit(ev.unmap, domain.id, iova, size, unmapped);
  // A large leaf the range only began or ended in, left in place (VT-d): the size and any hole
  // past the leaf come from the driver growing the range, and checks/watchers.ts names the leaf.
  if (left_partial(t, first)) return unmapped;
  if (unmapped === size) {
    // The whole range reported unmapped, yet the table found a hole in it (VT-d, amd-v1, s390,
    // tegra-gart and omap's L2 slots count what was not there): a second unmap of the same range,
    // or a range never mapped.
    const hole = first_hole(t, first);
    if (hole >= 0)
      raise_check(
        domain.machine,
        'unmap-of-hole',
        `unmap [${hex(iova)}, +${hex(size)}) on domain ${domain.id}: nothing was mapped at ${hex(hole)}, yet ${domain.owner.name} reported the whole range unmapped`,
      );
  } else if (unmapped > size) {
    // More than asked for: a larger leaf dropped whole, or (VT-d) a hole reported at the size of
    // the level where the walk stopped. The page table's events since the call tell which.
    const hole = first_hole(t, first);
    if (hole >= 0)
      raise_check(
        domain.machine,
        'unmap-of-hole',
        `unmap [${hex(iova)}, +${hex(size)}) on domain ${domain.id}: nothing was mapped at ${hex(hole)}, yet ${domain.owner.name} reported ${hex(unmapped)} bytes unmapped (the size of the level where its walk stopped)`,
      );
    else
      raise_check(
        domain.machine,
        'partial-unmap-of-large-page',
        `unmap [${hex(iova)}, +${hex(size)}) on domain ${domain.id} reported ${hex(unmapped)} bytes unmapped: a larger mapping was in the way and ${domain.owner.name} counted it whole`,
      );
  }
  return unmapped;
}

/**
 * The driver unmapped nothing at `at`: a hole, part of a larger mapping it will not split, or a
 * range it refused whole because it runs past the aperture (s390's WARN_ON), in that order.
 */
function report_short_unmap(domain: IommuDomain, iova: number, size: number, at: number): void {
  const g = domain.geometry;
  const last = iova + size - 1;
  // Outside a forced aperture nothing can be mapped, whatever iova_to_phys answers there (the
  // GART's is (phys_addr_t)-EINVAL, which looks like an address).
  const outside = g.force_aperture && (at < g.aperture_start || at > g.aperture_end);
  const mapped = outside ? 0 : mapped_at(domain, at);
  if (!mapped) {
    raise_check(
      domain.machine,
      'unmap-of-hole',
      `unmap [${hex(iova)}, +${hex(size)}) on domain ${domain.id} stopped at ${hex(at)}: nothing mapped there` +
        (outside ? ` (outside the aperture [${hex(g.aperture_start)}, ${hex(g.aperture_end)}])` : ''),
    );
    return;
  }
  // Only a leaf the range begins or ends inside is a large page in the way.
  const leaf = leaf_at(domain, at);
  if (leaf && (leaf.iova_base < at || leaf.iova_base + leaf.size - 1 > last)) {
    raise_check(
      domain.machine,
      'partial-unmap-of-large-page',
      `unmap [${hex(iova)}, +${hex(size)}) on domain ${domain.id}: ${hex(at)} is inside a ${hex(leaf.size)} mapping at ${hex(leaf.iova_base)} the driver will not split, so it unmapped nothing there`,
    );
    return;
  }
  if (g.force_aperture && (iova < g.aperture_start || last > g.aperture_end)) {
    raise_check(
      domain.machine,
      'out-of-aperture-unmap',
      `unmap [${hex(iova)}, +${hex(size)}) on domain ${domain.id} runs past the aperture [${hex(g.aperture_start)}, ${hex(g.aperture_end)}]: ${domain.owner.name} refused the range and unmapped nothing from ${hex(at)} on, though ${hex(at)} is mapped`,
    );
  }
  // Otherwise no cause the lab can name: a mapped page the range covers whole, inside the
  // aperture, refused (no modelled driver does this).
}

/** The diagnosis's look at the leaf (or virtio MAP) holding `iova`: its start and size, or null. */
function leaf_at(domain: IommuDomain, iova: number): WalkResult | null {
  const out = new WalkResult();
  const table = domain.page_table();
  if (table) return table.walk(iova, out) ? out : null;
  for (const m of domain.mappings()) {
    if (iova < m.iova || iova >= m.iova + m.size) continue;
    // Merged ranges are runs of leaves of one size.
    out.iova_base = m.iova + Math.floor((iova - m.iova) / m.pgsize) * m.pgsize;
    out.size = m.pgsize;
    return out;
  }
  return null;
}

/**
 * The diagnosis's own look at `iova`. Linux's unmap never asks iova_to_phys, and a driver may not
 * be able to answer (omap's would oops on a domain with no MMU attached): that counts as nothing
 * there, and the look raises no check of its own.
 */
function mapped_at(domain: IommuDomain, iova: number): number {
  const m = domain.machine;
  m.diagnosing = true;
  try {
    return domain.ops.iova_to_phys?.(domain, iova) ?? 0;
  } catch {
    return 0;
  } finally {
    m.diagnosing = false;
  }
}

export function iommu_unmap(domain: IommuDomain, iova: number, size: number): number {
  const gather = iommu_iotlb_gather_init();
  const ret = __iommu_unmap(domain, iova, size, gather);
  iommu_iotlb_sync(domain, gather);
  return ret;
}

/** Unmap and leave the invalidation in `gather` for a later iommu_iotlb_sync. */
export function iommu_unmap_fast(
  domain: IommuDomain,
  iova: number,
  size: number,
  gather: IommuIotlbGather,
): number {
  const ret = __iommu_unmap(domain, iova, size, gather);
  // A flush queue's gather is flushed later by design (DMA-FQ); anything else waits for a sync.
  if (!gather.queued && ret > 0) {
    const pending = domain.machine.pending_unsynced;
    const p = pending[domain.machine.pending_unmap(gather, domain)];
    // More than asked for is a larger leaf dropped whole (amd-v1): it starts at its own alignment.
    const start = ret > size && Number.isInteger(Math.log2(ret)) ? iova - mod_pow2(iova, ret) : iova;
    const last = start + ret - 1;
    if (p) {
      p.start = Math.min(p.start, start);
      p.last = Math.max(p.last, last);
    } else pending.push({ gather, domain, start, last });
  }
  return ret;
}

export function iommu_flush_iotlb_all(domain: IommuDomain): void {
  domain.machine.trace.emit(ev.flush_iotlb_all, domain.id);
  domain.ops.flush_iotlb_all?.(domain);
}

/** IDENTITY returns the IOVA, BLOCKED returns 0, otherwise the driver answers (0 = unmapped). */
export function iommu_iova_to_phys(domain: IommuDomain, iova: number): number {
  if (domain.type === IOMMU_DOMAIN_IDENTITY) return iova;
  if (domain.type === IOMMU_DOMAIN_BLOCKED) return 0;
  return domain.ops.iova_to_phys?.(domain, iova) ?? 0;
}

/** Whether a page table left a large leaf partly inside the range in place since event `from`. */
function left_partial(t: Trace, from: number): boolean {
  for (let i = from, end = t.position; i < end; i++)
    if (t.idAt(i) === pte_ev.partial_unmap.id && t.strings[t.arg(i, 4)] === 'ignored') return true;
  return false;
}

/** The IOVA of the first hole a page table reported since event `from`, or -1. */
function first_hole(t: Trace, from: number): number {
  for (let i = from, end = t.position; i < end; i++)
    if (t.idAt(i) === pte_ev.unmap_hole.id) return t.arg(i, 1);
  return -1;
}
