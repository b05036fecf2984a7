/**
 * How big a domain's page table is before it is read: the engine sends every entry in one answer,
 * and a million leaves take seconds to collect and to draw, on every step the Page table view is
 * open at. The card's merged ranges say little (one range of 4 GiB in 4 KiB pages is 1,048,576
 * leaves), so the count is of leaves: each merged range is mapped in pages of one size (its
 * `pgsize`), so it holds size / pgsize leaves.
 */
export const LARGE_LEAVES = 50_000;

/** Rows fetched per request when the leaves are counted from the mappings. */
const WINDOW = 5_000;

export interface TableSize {
  mappingCount: number;
  mappingBytes: number;
  pgsize_bitmap: number;
}

export interface LeafRange {
  size: number;
  pgsize: number;
}

/** The smallest page size a domain maps with: the lowest bit of its bitmap (4 KiB when empty). */
export function smallestPage(bitmap: number): number {
  if (!(bitmap >= 1)) return 4096;
  let page = 1;
  // Division, not bit operators: bitmaps go past 32 bits.
  while (Math.floor(bitmap / page) % 2 === 0) page *= 2;
  return page;
}

/** Leaves in a list of merged ranges. */
export function leavesOf(ranges: readonly LeafRange[], fallbackPage: number): number {
  let n = 0;
  for (const r of ranges) n += Math.ceil(r.size / (r.pgsize > 0 ? r.pgsize : fallbackPage));
  return n;
}

/**
 * Whether the table has more than `limit` leaves, and how many. The card alone settles most cases:
 * at least one leaf per range (past the limit: `leaves` is that floor, `atLeast`), at most the
 * bytes over the smallest page (within the limit: `leaves` is that ceiling). Between the two, the
 * ranges themselves are read (at most `limit` of them, in windows) and the count is exact.
 */
export async function countLeaves(
  card: TableSize,
  fetchRanges: (offset: number, limit: number) => Promise<{ total: number; items: LeafRange[] }>,
  limit = LARGE_LEAVES,
): Promise<{ leaves: number; atLeast: boolean }> {
  if (card.mappingCount > limit) return { leaves: card.mappingCount, atLeast: true };
  const page = smallestPage(card.pgsize_bitmap);
  const most = Math.ceil(card.mappingBytes / page);
  if (most <= limit) return { leaves: most, atLeast: false };
  let leaves = 0;
  for (let offset = 0; offset < card.mappingCount; offset += WINDOW) {
    const w = await fetchRanges(offset, WINDOW);
    leaves += leavesOf(w.items, page);
    if (w.items.length < WINDOW) break;
  }
  return { leaves, atLeast: false };
}
