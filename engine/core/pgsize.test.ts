import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bitmap_sizes, format_bitmap, iommu_pgsize_into, mod_pow2, type PgsizeResult } from './pgsize.ts';

/** iommu_pgsize written with `%`, as it was before the integer fast path: the oracle. */
function pgsize_reference(bitmap: number, iova: number, paddr: number, size: number): PgsizeResult {
  const sizes = bitmap_sizes(bitmap);
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
  if (next !== undefined && iova % next === paddr % next) {
    const offset = next - (iova % next);
    if (offset + next <= size) span = offset;
  }
  return { pgsize, count: Math.floor(span / pgsize) };
}

const POWERS = Array.from({ length: 53 }, (_, k) => 2 ** k);

describe('format_bitmap', () => {
  it('lists a few sizes and writes long runs by their ends', () => {
    expect(format_bitmap(0x1000 | 0x20_0000 | 0x4000_0000)).toBe('4K | 2M | 1G');
    expect(format_bitmap(0x7000)).toBe('4K | 8K | 16K');
    // AMD v1: every power of two from 4K except 8K (AMD_IOMMU_PGSIZES), up to 2^52.
    expect(format_bitmap(2 ** 53 - 0x1000 - 0x2000)).toBe('4K | 16K…4P (39 sizes)');
    expect(format_bitmap(0x1_0000 | 0x2_0000 | 0x4_0000 | 0x8_0000 | 0x4000_0000)).toBe(
      '64K…512K (4 sizes) | 1G',
    );
    expect(format_bitmap(0)).toBe('0');
  });
});

describe('mod_pow2', () => {
  it('equals % for safe integers on both sides of 2^32 and every power of two', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(...POWERS), (x, p) => {
        expect(mod_pow2(x, p)).toBe(x % p);
      }),
      { numRuns: 2000 },
    );
    expect(mod_pow2(0x1_2345_6789, 0x1000)).toBe(0x789);
    expect(mod_pow2(0x3_8000_0000, 2 ** 32)).toBe(0x8000_0000);
    expect(mod_pow2(2 ** 52 + 0x1000, 2 ** 40)).toBe(0x1000);
  });

  it('falls back to % for what is not a non-negative safe integer', () => {
    for (const x of [-4096, -1, 0.5, 4096.5, NaN, Infinity, -Infinity, 2 ** 60 + 2 ** 12])
      for (const p of [1, 0x1000, 2 ** 31, 2 ** 40])
        expect(Object.is(mod_pow2(x, p), x % p) || (mod_pow2(x, p) === 0 && x % p === 0)).toBe(true);
  });
});

describe('iommu_pgsize', () => {
  // 4K; 4K|2M|1G; 16K|32M; every size from 4K to 2^50; 4K|2M|1G|512G.
  const bitmaps = [0x1000, 0x40201000, 0x0200_4000, 0x7_ffff_ffff_f000, 0x40201000 + 2 ** 39];
  it('matches the %-based reference for addresses above and below 4 GiB', () => {
    const addr = fc.oneof(
      fc.nat({ max: 2 ** 20 }).map((n) => n * 0x1000),
      fc.nat({ max: 2 ** 40 }).map((n) => n * 0x1000),
      fc.nat({ max: 2 ** 12 }).map((n) => n * 0x20_0000 + 2 ** 33),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...bitmaps),
        addr,
        addr,
        fc.nat({ max: 2 ** 22 }).map((n) => n * 0x1000),
        (bm, iova, pa, size) => {
          const out = { pgsize: -1, count: -1 };
          iommu_pgsize_into(bm, iova, pa, size, out);
          expect(out).toEqual(pgsize_reference(bm, iova, pa, size));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('picks 2M runs up to the next 1G boundary when iova and paddr agree modulo 1G', () => {
    const out = { pgsize: 0, count: 0 };
    iommu_pgsize_into(0x40201000, 0x1_3fe0_0000, 0x2_3fe0_0000, 0x8000_0000, out);
    expect(out).toEqual({ pgsize: 0x20_0000, count: 1 });
    iommu_pgsize_into(0x40201000, 0x1_4000_0000, 0x2_4000_0000, 0x8000_0000, out);
    expect(out).toEqual({ pgsize: 0x4000_0000, count: 2 });
  });
});
