/**
 * pgsize_bitmap arithmetic past 32 bits: bitmaps reach bit 51 (AMD's GENMASK(51, 12)), beyond
 * JavaScript's bit operators, so bits are tested with exact double arithmetic.
 */

/** Whether bit `n` of `bitmap` is set. */
export function bitmap_bit(bitmap: number, n: number): boolean {
  return Math.floor(bitmap / 2 ** n) % 2 === 1;
}

/** Whether `size` (a power of two) is one of the bitmap's page sizes. */
export function bitmap_has(bitmap: number, size: number): boolean {
  if (!(size > 0) || !Number.isSafeInteger(size)) return false;
  const n = Math.log2(size);
  return Number.isInteger(n) && bitmap_bit(bitmap, n);
}

/** Page sizes of a bitmap, ascending. */
export function bitmap_sizes(bitmap: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < 53; n++) if (bitmap_bit(bitmap, n)) out.push(2 ** n);
  return out;
}

/** The bitmap with bits lo..hi (inclusive) set: Linux's GENMASK(hi, lo). */
export function genmask(hi: number, lo: number): number {
  return 2 ** (hi + 1) - 2 ** lo;
}

/** Bits set in both (bitwise AND for values up to 2^53). */
export function bitmap_and(a: number, b: number): number {
  let out = 0;
  for (let n = 0; n < 53; n++) if (bitmap_bit(a, n) && bitmap_bit(b, n)) out += 2 ** n;
  return out;
}
