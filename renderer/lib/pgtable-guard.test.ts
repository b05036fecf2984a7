import { describe, expect, it } from 'vitest';
import { countLeaves, LARGE_LEAVES, leavesOf, smallestPage } from './pgtable-guard.ts';

const K4 = 4096;
const M2 = 2 ** 21;
const G1 = 2 ** 30;
/** Intel's and ARM's 4K | 2M | 1G; virtio's ~0xfff (every size from 4 KiB, bits past 32). */
const BITMAP = K4 | M2 | G1;
const VIRTIO = 2 ** 53 - 4096;

/** A fake engine: `ranges` as the 'mappings' query gives them, counting the requests. */
function engine(ranges: { size: number; pgsize: number }[]) {
  const asked: number[] = [];
  const fetch = async (offset: number, limit: number) => {
    asked.push(offset);
    return { total: ranges.length, items: ranges.slice(offset, offset + limit) };
  };
  return { fetch, asked };
}

describe('the page-table guard counts leaves, not merged ranges', () => {
  it('the smallest page is the lowest bit of the bitmap, past 32 bits too', () => {
    expect(smallestPage(BITMAP)).toBe(K4);
    expect(smallestPage(VIRTIO)).toBe(K4);
    expect(smallestPage(M2 | G1)).toBe(M2);
    expect(smallestPage(2 ** 40)).toBe(2 ** 40);
    expect(smallestPage(0)).toBe(K4);
  });

  it('one range of 4 GiB in 4 KiB pages is 1,048,576 leaves: large, though it is one range', async () => {
    const ranges = [{ size: 4 * G1, pgsize: K4 }];
    const e = engine(ranges);
    const card = { mappingCount: 1, mappingBytes: 4 * G1, pgsize_bitmap: BITMAP };
    const n = await countLeaves(card, e.fetch);
    expect(n).toEqual({ leaves: 1_048_576, atLeast: false });
    expect(n.leaves).toBeGreaterThan(LARGE_LEAVES);
  });

  it('the same 4 GiB in 1 GiB pages is 4 leaves: read without asking', async () => {
    const e = engine([{ size: 4 * G1, pgsize: G1 }]);
    const card = { mappingCount: 1, mappingBytes: 4 * G1, pgsize_bitmap: BITMAP };
    expect((await countLeaves(card, e.fetch)).leaves).toBe(4);
  });

  it('a small mapping is settled by the card, without reading a range', async () => {
    const e = engine([]);
    const card = { mappingCount: 3, mappingBytes: 100 * K4, pgsize_bitmap: BITMAP };
    expect((await countLeaves(card, e.fetch)).leaves).toBeLessThanOrEqual(LARGE_LEAVES);
    expect(e.asked).toEqual([]);
  });

  it('more ranges than the limit: large at once, each range being at least one leaf', async () => {
    const e = engine([]);
    const card = { mappingCount: 100_000, mappingBytes: 100_000 * K4, pgsize_bitmap: BITMAP };
    expect(await countLeaves(card, e.fetch)).toEqual({ leaves: 100_000, atLeast: true });
    expect(e.asked).toEqual([]);
  });

  it('ranges are read in windows when the card cannot tell', async () => {
    const ranges = Array.from({ length: 12_000 }, () => ({ size: M2, pgsize: M2 }));
    const e = engine(ranges);
    const card = { mappingCount: ranges.length, mappingBytes: ranges.length * M2, pgsize_bitmap: BITMAP };
    expect(await countLeaves(card, e.fetch)).toEqual({ leaves: 12_000, atLeast: false });
    expect(e.asked).toEqual([0, 5000, 10_000]);
    expect(leavesOf([{ size: M2 + K4, pgsize: K4 }], K4)).toBe(513);
  });
});
