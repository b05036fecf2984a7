/**
 * Copies of big buffers that skip their zero pages. Engine state holds large, mostly empty typed
 * arrays (simulated RAM comes in 2 MiB chunks of which a few pages hold tables), and writing a
 * page of a fresh buffer costs a page fault: a plain copy of a 2 MiB chunk touches 512 pages,
 * a sparse one only the pages that hold data. The copy remembers which pages those were, so a
 * copy of the copy (a checkpoint restored) needs no scan at all.
 */

/** Buffers smaller than this are copied whole: the scan would cost more than the pages saved. */
export const SPARSE_MIN_BYTES = 64 * 1024;
export const SPARSE_PAGE = 4096;

/** Pages (indices) holding non-zero bytes, for buffers this module made and nobody writes. */
export type PageList = Int32Array;

/**
 * A copy of `buf`. With `known`, only those pages are copied (they must cover every non-zero
 * byte of `buf`); without, every page is scanned and the non-zero ones copied. Returns the copy
 * and the pages it holds.
 */
export function sparseCopy(buf: ArrayBuffer, known?: PageList): { copy: ArrayBuffer; pages: PageList } {
  const n = buf.byteLength;
  const copy = new ArrayBuffer(n);
  const src = new Uint8Array(buf);
  const dst = new Uint8Array(copy);
  if (known !== undefined) {
    for (let k = 0; k < known.length; k++) copyPage(src, dst, known[k], n);
    return { copy, pages: known };
  }
  const words = new Int32Array(buf, 0, n >>> 2);
  const pages: number[] = [];
  const wordsPerPage = SPARSE_PAGE >>> 2;
  for (let p = 0, lo = 0; lo < n; p++, lo += SPARSE_PAGE) {
    const hi = Math.min(n, lo + SPARSE_PAGE);
    let used = false;
    const wEnd = Math.min(words.length, (p + 1) * wordsPerPage);
    for (let w = p * wordsPerPage; w < wEnd; w++) {
      if (words[w] !== 0) {
        used = true;
        break;
      }
    }
    // Bytes past the last whole word (a length not a multiple of 4).
    for (let b = Math.max(lo, words.length * 4); !used && b < hi; b++) used = src[b] !== 0;
    if (used) {
      copyPage(src, dst, p, n);
      pages.push(p);
    }
  }
  return { copy, pages: Int32Array.from(pages) };
}

function copyPage(src: Uint8Array, dst: Uint8Array, page: number, n: number): void {
  const lo = page * SPARSE_PAGE;
  dst.set(src.subarray(lo, Math.min(n, lo + SPARSE_PAGE)), lo);
}
