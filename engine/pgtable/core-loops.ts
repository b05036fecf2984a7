/**
 * The loops the IOMMU core wraps around map_pages/unmap_pages (facts §2.1, §2.3), for one page
 * size: map until everything is mapped or an error, unmap until a call returns 0. Tests, benches
 * and panels that drive a page table without the core use them.
 */
import type { IoPgtable } from './io-pgtable.ts';

/** Map `pgcount` pages of `pgsize`, calling map_pages again while it maps less (one table, one leaf...). */
export function map_all(
  pt: IoPgtable,
  iova: number,
  paddr: number,
  pgsize: number,
  pgcount: number,
  prot: number,
): { ret: number; mapped: number } {
  let mapped = 0;
  const total = pgsize * pgcount;
  while (mapped < total) {
    const r = pt.map_pages(iova + mapped, paddr + mapped, pgsize, (total - mapped) / pgsize, prot);
    mapped += r.mapped;
    if (r.ret !== 0) return { ret: r.ret, mapped };
    if (r.mapped === 0) break;
  }
  return { ret: 0, mapped };
}

/** Unmap `pgcount` pages of `pgsize`, stopping at the first call that unmaps nothing (a hole). */
export function unmap_all(
  pt: IoPgtable,
  iova: number,
  pgsize: number,
  pgcount: number,
  gather: unknown = null,
): number {
  let done = 0;
  const total = pgsize * pgcount;
  while (done < total) {
    const left = total - done;
    const got = pt.unmap_pages(iova + done, pgsize, Math.max(1, Math.floor(left / pgsize)), gather);
    if (got === 0) break;
    done += got;
  }
  return done;
}
