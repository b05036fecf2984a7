/**
 * pgsize_bitmap arithmetic. Bitmaps reach bit 51 (AMD's GENMASK(51, 12)), past JavaScript's 32-bit
 * bit operators, so they are handled as lists of sizes, cached per bitmap value.
 */
import type { IommuDomain } from './domain.ts';

const sizeCache = new Map<number, readonly number[]>();
// The bitmap asked about last: map and unmap loops ask about one domain's bitmap over and over.
let lastBitmap = -1;
let lastSizes: readonly number[] = [];

/**
 * x % p for a power of two p: the same value as `%` for every x (a zero remainder may be +0 where
 * `%` gives −0). The hot paths take remainders of
 * addresses above 4 GiB, where `%` is a call to the C library's fmod in V8; a non-negative safe
 * integer's remainder is a mask of its low 32 bits (ToUint32 keeps them exactly), or exact
 * floating-point division for pages of 4 GiB and more.
 */
export function mod_pow2(x: number, p: number): number {
  if (x >= 0 && x <= Number.MAX_SAFE_INTEGER && Math.floor(x) === x) {
    if (p <= 0x8000_0000) return (x >>> 0) & (p - 1);
    return x - Math.floor(x / p) * p;
  }
  return x % p;
}

/** The page sizes a bitmap allows, ascending: 0x40201000 → [4K, 2M, 1G]. */
export function bitmap_sizes(bitmap: number): readonly number[] {
  if (bitmap === lastBitmap) return lastSizes;
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
  lastBitmap = bitmap;
  lastSizes = sizes;
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

/**
 * The sizes of a pgsize_bitmap, "4K | 2M | 1G"; a run of four or more consecutive powers of two is
 * written as its ends ("4K…256G (27 sizes) | 1T…2P (12 sizes)" on AMD v1, "4K…4P (41 sizes)" for
 * virtio-iommu before a probe narrows it).
 */
export function format_bitmap(bitmap: number): string {
  const sizes = bitmap_sizes(bitmap);
  if (!sizes.length) return '0';
  const parts: string[] = [];
  for (let i = 0; i < sizes.length;) {
    let j = i;
    while (j + 1 < sizes.length && sizes[j + 1] === sizes[j] * 2) j++;
    if (j - i >= 3) parts.push(`${format_size(sizes[i])}…${format_size(sizes[j])} (${j - i + 1} sizes)`);
    else for (let k = i; k <= j; k++) parts.push(format_size(sizes[k]));
    i = j + 1;
  }
  return parts.join(' | ');
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
  const out = { pgsize: 0, count: 0 };
  iommu_pgsize_into(domain.pgsize_bitmap, iova, paddr, size, out);
  return out;
}

/** iommu_pgsize into `out`, for the map and unmap loops (no object per step). */
export function iommu_pgsize_into(
  bitmap: number,
  iova: number,
  paddr: number,
  size: number,
  out: PgsizeResult,
): void {
  const sizes = bitmap_sizes(bitmap);
  let idx = -1;
  for (let i = sizes.length - 1; i >= 0; i--) {
    const s = sizes[i];
    if (s <= size && mod_pow2(iova, s) === 0 && mod_pow2(paddr, s) === 0) {
      idx = i;
      break;
    }
  }
  if (idx < 0) {
    out.pgsize = 0;
    out.count = 0;
    return;
  }
  const pgsize = sizes[idx];
  let span = size;
  // A larger page becomes possible later only when iova and paddr agree modulo it.
  if (idx + 1 < sizes.length) {
    const next = sizes[idx + 1];
    const iova_off = mod_pow2(iova, next);
    if (iova_off === mod_pow2(paddr, next)) {
      const offset = next - iova_off;
      if (offset + next <= size) span = offset;
    }
  }
  out.pgsize = pgsize;
  out.count = Math.floor(span / pgsize);
}

/** a | b for bitmaps wider than 32 bits. */
export function bitmap_union(a: number, b: number): number {
  let out = a;
  for (const size of bitmap_sizes(b)) if (!bitmap_has(a, size)) out += size;
  return out;
}
