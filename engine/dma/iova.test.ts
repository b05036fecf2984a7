import { describe, expect, it } from 'vitest';
import { IOVA_MAG_SIZE, IovaDomain, order_base_2, roundup_pow_of_two } from './iova.ts';

const G = 0x1000;
/** pfn of the last page below 4 GiB */
const PFN_32 = 0xfffff;
const PFN_48 = 2 ** 36 - 1;

describe('IovaDomain (iova.c)', () => {
  it('hands out ranges top-down from the limit, each aligned to its rounded size', () => {
    const iovad = new IovaDomain(G, 1);
    expect(iovad.alloc_iova_fast(1, PFN_32, true)).toBe(0xfffff);
    expect(iovad.alloc_iova_fast(1, PFN_32, true)).toBe(0xffffe);
    // 3 pages round up to 4, aligned to 4
    expect(iovad.alloc_iova_fast(3, PFN_32, true)).toBe(0xffff8);
    // 40 pages (≥ 32) are not rounded, but the start is aligned to 64
    expect(iovad.alloc_iova_fast(40, PFN_32, true)).toBe(0xfffc0);
    expect(iovad.ranges().map((r) => [r.pfn_lo, r.pfn_hi])).toEqual([
      [0xfffc0, 0xfffc0 + 39],
      [0xffff8, 0xffffb],
      [0xffffe, 0xffffe],
      [0xfffff, 0xfffff],
    ]);
  });

  it('never hands out pfn 0, however full the space', () => {
    const iovad = new IovaDomain(G, 1);
    const got: number[] = [];
    for (;;) {
      const pfn = iovad.alloc_iova_fast(1, 15, true);
      if (!pfn) break;
      got.push(pfn);
    }
    expect(got).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('keeps reserved ranges out and walks past them', () => {
    const iovad = new IovaDomain(G, 1);
    iovad.reserve_iova(0xffffe, 0xfffff);
    iovad.reserve_iova(0xffffc, 0xffffc);
    expect(iovad.alloc_iova_fast(1, PFN_32, true)).toBe(0xffffd);
    expect(iovad.alloc_iova_fast(1, PFN_32, true)).toBe(0xffffb);
    expect(iovad.alloc_iova_fast(2, PFN_32, true)).toBe(0xffff8);
  });

  it('merges an overlapping reservation into the existing node and adds the part above', () => {
    const iovad = new IovaDomain(G, 1);
    iovad.reserve_iova(0x100, 0x1ff);
    iovad.reserve_iova(0x80, 0x27f);
    expect(iovad.ranges().map((r) => [r.pfn_lo, r.pfn_hi, r.state])).toEqual([
      [0x80, 0x1ff, 'reserved'],
      [0x200, 0x27f, 'reserved'],
    ]);
  });

  it('gives a freed small range back from the cache, newest first (LIFO)', () => {
    const iovad = new IovaDomain(G, 1);
    const a = iovad.alloc_iova_fast(1, PFN_48, true);
    const b = iovad.alloc_iova_fast(1, PFN_48, true);
    expect(iovad.free_iova_fast(a, 1)).toBe('rcache');
    expect(iovad.free_iova_fast(b, 1)).toBe('rcache');
    const out = { from_cache: false };
    expect(iovad.alloc_iova_fast(1, PFN_48, true, out)).toBe(b);
    expect(out.from_cache).toBe(true);
    expect(iovad.alloc_iova_fast(1, PFN_48, true)).toBe(a);
  });

  it('does not take a cached range above the requested limit', () => {
    const iovad = new IovaDomain(G, 1);
    const high = iovad.alloc_iova_fast(1, PFN_48, true);
    iovad.free_iova_fast(high, 1);
    const low = iovad.alloc_iova_fast(1, PFN_32, false);
    expect(low).toBe(PFN_32);
  });

  it('takes the newest cached range below the limit and keeps the one above it', () => {
    const iovad = new IovaDomain(G, 1);
    const low = iovad.alloc_iova_fast(1, PFN_32, true);
    const high = iovad.alloc_iova_fast(1, PFN_48, true);
    iovad.free_iova_fast(low, 1);
    iovad.free_iova_fast(high, 1);
    const out = { from_cache: false };
    expect(iovad.alloc_iova_fast(1, PFN_32, false, out)).toBe(low);
    expect(out.from_cache).toBe(true);
    expect(iovad.alloc_iova_fast(1, PFN_48, false, out)).toBe(high);
    expect(out.from_cache).toBe(true);
  });

  it('returns large ranges to the tree, and the next search starts above a freed range', () => {
    const iovad = new IovaDomain(G, 1);
    const a = iovad.alloc_iova_fast(64, PFN_32, true);
    const b = iovad.alloc_iova_fast(64, PFN_32, true);
    expect(b).toBe(a - 64);
    expect(iovad.free_iova_fast(a, 64)).toBe('tree');
    expect(iovad.alloc_iova_fast(64, PFN_32, true)).toBe(a);
  });

  it('refuses to free what it did not hand out, or twice', () => {
    const iovad = new IovaDomain(G, 1);
    iovad.reserve_iova(0x10, 0x10);
    const a = iovad.alloc_iova_fast(2, PFN_32, true);
    expect(iovad.free_iova_fast(0x1234, 1)).toBe('');
    expect(iovad.free_iova_fast(0x10, 1)).toBe('');
    expect(iovad.free_iova_fast(a + 1, 1)).toBe('');
    expect(iovad.free_iova_fast(a, 2)).toBe('rcache');
    expect(iovad.free_iova_fast(a, 2)).toBe('');
  });

  it('spills full magazines to the depot and still hands every range out exactly once', () => {
    const iovad = new IovaDomain(G, 1);
    const n = IOVA_MAG_SIZE * 3 + 5;
    const pfns: number[] = [];
    for (let i = 0; i < n; i++) pfns.push(iovad.alloc_iova_fast(1, PFN_48, true));
    for (const p of pfns) expect(iovad.free_iova_fast(p, 1)).toBe('rcache');
    expect(iovad.rcaches[0].depot.length).toBeGreaterThan(0);
    const again = new Set<number>();
    for (let i = 0; i < n; i++) again.add(iovad.alloc_iova_fast(1, PFN_48, true));
    expect([...again].sort()).toEqual([...pfns].sort());
  });

  it('flushes the caches and retries when the tree is full', () => {
    const iovad = new IovaDomain(G, 1);
    const pfns = [1, 2, 3, 4].map(() => iovad.alloc_iova_fast(1, 4, true));
    expect(pfns).toEqual([4, 3, 2, 1]);
    for (const p of pfns) iovad.free_iova_fast(p, 1);
    // a 2-page range fits only once the cached single pages go back to the tree
    expect(iovad.alloc_iova_fast(2, 4, false)).toBe(0);
    expect(iovad.alloc_iova_fast(2, 4, true)).toBe(2); // [2, 3]: size-aligned below the limit
  });

  it('size helpers', () => {
    expect([1, 2, 3, 5, 32].map(roundup_pow_of_two)).toEqual([1, 2, 4, 8, 32]);
    expect([1, 2, 3, 5, 32, 33].map(order_base_2)).toEqual([0, 1, 2, 3, 5, 6]);
  });
});
