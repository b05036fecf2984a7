/**
 * pgsize_bitmap arithmetic. Bitmaps reach bit 51 (AMD's GENMASK(51, 12)), past JavaScript's 32-bit
 * bit operators, so they are handled as lists of sizes, cached per bitmap value.
 */
import type { IommuDomain } from './domain.ts';

const sizeCache = new Map<number, readonly number[]>();

/** The page sizes a bitmap allows, ascending: 0x40201000 → [4K, 2M, 1G]. */
export function bitmap_sizes(bitmap: number): readonly number[] {
  let sizes = sizeCache.get(bitmap);
  if (!sizes) {
    const list: number[] = [];
    let rest = bitmap;
    for (let bit = 0, size = 1; rest > 0 && bit < 53; bit++, size *= 2) {
      if (Math.floor(rest / size) % 2 === 1) {
        list.push(size);
        rest -= size;
      }
    }
    sizes = Object.freeze(list);
    sizeCache.set(bitmap, sizes);
  }
  return sizes;
}

/** 1 << __ffs(bitmap): the smallest page, which is the alignment granule. 0 for an empty bitmap. */
export function bitmap_min_size(bitmap: number): number {
  return bitmap_sizes(bitmap)[0] ?? 0;
}

export function bitmap_has(bitmap: number, size: number): boolean {
  return bitmap_sizes(bitmap).includes(size);
}

/** "4K | 2M | 1G" for panels and messages. */
export function format_size(size: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P'];
  let u = 0;
  while (size >= 1024 && size % 1024 === 0 && u < units.length - 1) {
    size /= 1024;
    u++;
  }
  return `${size}${units[u]}`;
}

export function format_bitmap(bitmap: number): string {
  const sizes = bitmap_sizes(bitmap);
  return sizes.length ? sizes.map(format_size).join(' | ') : '0';
}

export interface PgsizeResult {
  pgsize: number;
  count: number;
}

/**
 * iommu_pgsize (facts §2.2): the largest page that fits size and the alignment of iova and paddr,
 * and how many of them to map before a larger page becomes possible. pgsize 0 means no size fits
 * (Linux BUGs there; the callers checked alignment first).
 */
export function iommu_pgsize(domain: IommuDomain, iova: number, paddr: number, size: number): PgsizeResult {
  const sizes = bitmap_sizes(domain.pgsize_bitmap);
  let idx = -1;
  for (let i = sizes.length - 1; i >= 0; i--) {
    const s = sizes[i];
    if (s <= size && iova % s === 0 && paddr % s === 0) {
      idx = i;
      break;
    }
  }
  if (idx < 0) return { pgsize: 0, count: 0 };
  const pgsize = sizes[idx];
  const next = sizes[idx + 1];
  let span = size;
  // A larger page becomes possible later only when iova and paddr agree modulo it.
  if (next !== undefined && iova % next === paddr % next) {
    const offset = next - (iova % next);
    if (offset + next <= size) span = offset;
  }
  return { pgsize, count: Math.floor(span / pgsize) };
}

/** a | b for bitmaps wider than 32 bits. */
export function bitmap_union(a: number, b: number): number {
  let out = a;
  for (const size of bitmap_sizes(b)) if (!bitmap_has(a, size)) out += size;
  return out;
}
