/**
 * The interval map both sides of virtio-iommu keep. The guest's may hold overlapping nodes (a MAP
 * the host refused while v6.8+ lost its status); its lookup must then answer as Linux's
 * interval_tree_iter_first does: the lowest start, the first inserted among equal starts.
 */
import { describe, expect, it } from 'vitest';
import { IntervalList } from './interval-list.ts';

describe('IntervalList.first_overlap (interval_tree_iter_first)', () => {
  it('without overlaps: the node holding the address, found by the disjoint lookup', () => {
    const t = new IntervalList();
    t.insert(0x1000, 0x1fff, 0xa000, 3);
    t.insert(0x3000, 0x3fff, 0xb000, 3);
    expect(t.overlapping).toBe(false);
    expect(t.first_overlap(0x3800, 0x3800)).toBe(1);
    expect(t.first_overlap(0x2000, 0x2fff)).toBe(-1);
    expect(t.first_overlap(0x1800, 0x3000)).toBe(0);
  });

  it('equal starts: the first inserted answers', () => {
    const t = new IntervalList();
    t.insert(0x1000, 0x1fff, 0xa000, 3);
    t.insert(0x1000, 0x1fff, 0xb000, 3);
    expect(t.overlapping).toBe(true);
    expect(t.phys[t.first_overlap(0x1000, 0x1000)]).toBe(0xa000);
  });

  it('a node starting lower answers before a later one, even when an earlier node started higher', () => {
    const t = new IntervalList();
    t.insert(0x5000, 0x5fff, 0xa000, 3);
    t.insert(0x4000, 0x5fff, 0xb000, 3);
    expect(t.phys[t.first_overlap(0x5000, 0x5000)]).toBe(0xb000);
    // The disjoint lookup (the last node starting at or below) would answer the other one.
    expect(t.phys[t.first_overlap_disjoint(0x5000, 0x5000)]).toBe(0xa000);
  });

  it('the overlap is seen from either neighbour, and forgotten once the list is empty', () => {
    const t = new IntervalList();
    t.insert(0x2000, 0x2fff, 0, 3);
    t.insert(0x1000, 0x1fff, 0, 3);
    t.insert(0x3000, 0x3fff, 0, 3);
    expect(t.overlapping).toBe(false);
    t.insert(0x0, 0x1000, 0, 3); // reaches into its successor
    expect(t.overlapping).toBe(true);
    while (t.length) t.remove(0);
    expect(t.overlapping).toBe(false);
    t.insert(0x1000, 0x1fff, 0, 3);
    t.insert(0x1800, 0x27ff, 0, 3); // reaches back into its predecessor's range
    expect(t.overlapping).toBe(true);
    t.clear();
    expect(t.overlapping).toBe(false);
  });
});
