/**
 * An interval map as plain data: nodes [start, last] (inclusive) with a physical address and flags,
 * kept sorted by start in parallel arrays. It serves both sides of virtio-iommu:
 * - the guest's interval tree (Linux interval_tree), where nodes may overlap and iteration over an
 *   overlapping range goes in start order (nodes with equal starts in insertion order);
 * - the host's per-domain mappings (QEMU's GTree keyed by interval), which never overlap.
 */
export class IntervalList {
  readonly start: number[] = [];
  readonly last: number[] = [];
  readonly phys: number[] = [];
  readonly flags: number[] = [];
  /**
   * The longest node inserted since the list was last empty: a node overlapping [a, b] starts at
   * or after a − max_len + 1, which bounds the search when nodes may overlap.
   */
  max_len = 0;
  /**
   * Whether two nodes may overlap: set by the insert that made the first overlap, cleared only when
   * the list empties. Until then first_overlap takes the O(log n) path of first_overlap_disjoint.
   */
  overlapping = false;

  get length(): number {
    return this.start.length;
  }

  /** Index of the first node whose start is ≥ x. */
  lower_bound(x: number): number {
    let lo = 0;
    let hi = this.start.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.start[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first node whose start is > x. */
  upper_bound(x: number): number {
    let lo = 0;
    let hi = this.start.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.start[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Insert after any node with the same start; returns its index. */
  insert(start: number, last: number, phys: number, flags: number): number {
    const i = this.upper_bound(start);
    // In a list without overlaps, only the neighbours can overlap the new node.
    if (
      !this.overlapping &&
      ((i > 0 && this.last[i - 1] >= start) || (i < this.start.length && this.start[i] <= last))
    )
      this.overlapping = true;
    if (i === this.start.length) {
      this.start.push(start);
      this.last.push(last);
      this.phys.push(phys);
      this.flags.push(flags);
    } else {
      this.start.splice(i, 0, start);
      this.last.splice(i, 0, last);
      this.phys.splice(i, 0, phys);
      this.flags.splice(i, 0, flags);
    }
    const len = last - start + 1;
    if (len > this.max_len) this.max_len = len;
    return i;
  }

  remove(i: number): void {
    this.start.splice(i, 1);
    this.last.splice(i, 1);
    this.phys.splice(i, 1);
    this.flags.splice(i, 1);
    if (this.start.length === 0) {
      this.max_len = 0;
      this.overlapping = false;
    }
  }

  clear(): void {
    this.start.length = 0;
    this.last.length = 0;
    this.phys.length = 0;
    this.flags.length = 0;
    this.max_len = 0;
    this.overlapping = false;
  }

  /**
   * The node with the lowest start overlapping [a, b], the first inserted among equal starts, or -1
   * (interval_tree_iter_first).
   */
  first_overlap(a: number, b: number): number {
    if (!this.overlapping) return this.first_overlap_disjoint(a, b);
    return this.overlap_from(this.lower_bound(Math.max(0, a - this.max_len + 1)), a, b);
  }

  /** The first node at index ≥ i overlapping [a, b], or -1 (interval_tree_iter_next from i − 1). */
  overlap_from(i: number, a: number, b: number): number {
    const n = this.start.length;
    for (let j = i; j < n && this.start[j] <= b; j++) if (this.last[j] >= a) return j;
    return -1;
  }

  /** For lists whose nodes never overlap: the node overlapping [a, b] with the lowest start, in O(log n). */
  first_overlap_disjoint(a: number, b: number): number {
    const i = this.upper_bound(a) - 1;
    if (i >= 0 && this.last[i] >= a) return i;
    return i + 1 < this.start.length && this.start[i + 1] <= b ? i + 1 : -1;
  }

  size_of(i: number): number {
    return this.last[i] - this.start[i] + 1;
  }
}
