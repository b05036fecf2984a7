/**
 * The IOVA allocator (drivers/iommu/iova.c, facts §4.2): a set of allocated page ranges searched
 * top-down from a limit, with a per-CPU range cache ("rcache") of recently freed sizes in front.
 *
 * Linux keeps the ranges in an rb-tree; the lab keeps them in an array sorted by pfn_lo, which
 * gives the same in-order neighbours (rb_prev/rb_next) and the same results. The two cached
 * nodes (below and above 4 GiB), the anchor at the top, the retry above the cached node and the
 * max32_alloc_size shortcut are modelled as iova.c has them, because they decide which address
 * comes next, and that order is what scripts observe. One CPU is modelled.
 */
import type { IommuDomain } from '../core/domain.ts';
import { IOVA_DEPOT_DELAY, IovaDepotWork } from './iova-depot.ts';
import { ev } from './trace-events.ts';

/** pfn of the anchor node that closes the tree at the top (~0UL in Linux). */
export const IOVA_ANCHOR = Number.MAX_SAFE_INTEGER;
/** log2 of the largest size the rcache holds, plus one (include/linux/iova.h). */
export const IOVA_RANGE_CACHE_MAX_SIZE = 6;
/** pfns per magazine (iova.c IOVA_MAG_SIZE: 127 since v6.0, so a magazine with its size is 1 KiB). */
export const IOVA_MAG_SIZE = 127;
/** Magazines kept in each size's depot (iova.c MAX_GLOBAL_MAGS, until v6.7 made the depot a list). */
export const MAX_GLOBAL_MAGS = 32;
/** num_online_cpus(): the depot work keeps one magazine per CPU, and the lab models one CPU. */
const NUM_ONLINE_CPUS = 1;

/** What a range in the allocator is, for the lab's checks (Linux does not tell these apart). */
export type IovaState =
  /** handed out by alloc_iova_fast and not freed */
  | 'live'
  /** freed into an rcache magazine: still in the tree, waiting to be handed out again */
  | 'cached'
  /** waiting in a flush queue for the IOTLB flush that makes it safe to reuse */
  | 'queued'
  /** reserve_iova: never handed out */
  | 'reserved'
  | 'anchor';

/** struct iova */
export class IovaNode {
  constructor(
    public pfn_lo: number,
    public pfn_hi: number,
    public state: IovaState,
  ) {}
}

/** One size class of the rcache: the CPU's loaded and previous magazines and the shared depot. */
export class IovaRcache {
  loaded: number[] = [];
  prev: number[] = [];
  /**
   * Full magazines, the newest last. v6.6 keeps an array (depot[depot_size++]), v6.7+ a list
   * pushed and popped at its head (iova_depot_push/pop): both hand back the newest first.
   */
  readonly depot: number[][] = [];
  /** v6.7+: rcache->work is scheduled and has not run yet (schedule_delayed_work is then a no-op). */
  work_pending = false;
}

/** __roundup_pow_of_two for sizes in pages. */
export function roundup_pow_of_two(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** order_base_2: the log of the next power of two ≥ n. */
export function order_base_2(n: number): number {
  let o = 0;
  while (2 ** o < n) o++;
  return o;
}

/** struct iova_domain */
export class IovaDomain {
  /** Allocated ranges sorted by pfn_lo; the anchor is always last. */
  readonly nodes: IovaNode[];
  readonly anchor: IovaNode;
  /** Where the next search below / above 4 GiB starts (iova.c cached32_node / cached_node). */
  cached32_node: IovaNode;
  cached_node: IovaNode;
  /** Smallest size that failed below 4 GiB since the last free there: larger requests fail at once. */
  max32_alloc_size: number;
  readonly dma_32bit_pfn: number;
  readonly rcaches: IovaRcache[] = [];
  /** The kernel era's depot (kernel-profile iova_depot_list): an unbounded, trimmed list, or 32 magazines. */
  readonly depot_list: boolean;

  constructor(
    readonly granule: number,
    /** First pfn that may be handed out (≥ 1, so IOVA 0 never is). */
    readonly start_pfn: number,
    /**
     * The DMA domain whose cookie holds this allocator: its machine gives the era, the clock for
     * the depot work and the trace. Without one (unit tests) the depot is v6.6's and nothing is traced.
     */
    readonly owner: IommuDomain | null = null,
  ) {
    this.depot_list = owner?.machine.profile.has('iova_depot_list') ?? false;
    this.anchor = new IovaNode(IOVA_ANCHOR, IOVA_ANCHOR, 'anchor');
    this.nodes = [this.anchor];
    this.cached32_node = this.anchor;
    this.cached_node = this.anchor;
    // 1UL << (32 - iova_shift): the first pfn at or above 4 GiB.
    this.dma_32bit_pfn = 0x1_0000_0000 / granule;
    this.max32_alloc_size = this.dma_32bit_pfn;
    for (let i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) this.rcaches.push(new IovaRcache());
  }

  iova_offset(addr: number): number {
    return addr % this.granule;
  }

  iova_align(size: number): number {
    return Math.ceil(size / this.granule) * this.granule;
  }

  iova_pfn(addr: number): number {
    return Math.floor(addr / this.granule);
  }

  // ── the tree ──

  /** Index of the first node with pfn_lo ≥ pfn. */
  private lower_bound(pfn: number): number {
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nodes[mid].pfn_lo < pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** find_iova: the node whose range holds pfn, or null. */
  find_iova(pfn: number): IovaNode | null {
    const i = this.lower_bound(pfn + 1) - 1;
    if (i < 0) return null;
    const n = this.nodes[i];
    return pfn <= n.pfn_hi && n !== this.anchor ? n : null;
  }

  private insert(node: IovaNode): void {
    this.nodes.splice(this.lower_bound(node.pfn_lo), 0, node);
  }

  /** iova_find_limit: where a retry walk starts — the lowest node reaching limit_pfn or above. */
  private find_limit(limit_pfn: number): IovaNode {
    // iova.c starts from the anchor when the limit is above 4 GiB, as a cheap guess.
    if (limit_pfn > this.dma_32bit_pfn) return this.anchor;
    let lo = 0;
    let hi = this.nodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nodes[mid].pfn_hi < limit_pfn) lo = mid + 1;
      else hi = mid;
    }
    return this.nodes[lo];
  }

  /**
   * __alloc_and_insert_iova_range: walk down from the cached node looking for a gap of `size`
   * pages below `limit_pfn` (exclusive), the start aligned to the next power of two ≥ size; when
   * that fails, search once more between the cached node and the limit. null when nothing fits.
   */
  private alloc_and_insert(size: number, limit_pfn: number, size_aligned: boolean): IovaNode | null {
    const align = size_aligned ? roundup_pow_of_two(size) : 1;
    const alignDown = (x: number) => x - (x % align);
    if (limit_pfn <= this.dma_32bit_pfn && size >= this.max32_alloc_size) return null;

    let high_pfn = limit_pfn;
    let low_pfn = this.start_pfn;
    let curr = limit_pfn <= this.dma_32bit_pfn ? this.cached32_node : this.cached_node;
    let ci = this.nodes.indexOf(curr);
    const retry_pfn = curr.pfn_hi;
    let new_pfn: number;
    for (;;) {
      // Walk backwards over the nodes while the candidate overlaps the one below.
      for (;;) {
        high_pfn = Math.min(high_pfn, curr.pfn_lo);
        new_pfn = high_pfn >= size ? alignDown(high_pfn - size) : -1;
        ci--;
        if (ci < 0) break;
        curr = this.nodes[ci];
        if (!(new_pfn <= curr.pfn_hi && new_pfn >= low_pfn)) break;
      }
      if (high_pfn >= size && new_pfn >= low_pfn) break;
      if (low_pfn === this.start_pfn && retry_pfn < limit_pfn) {
        high_pfn = limit_pfn;
        low_pfn = retry_pfn + 1;
        curr = this.find_limit(limit_pfn);
        ci = this.nodes.indexOf(curr);
        continue;
      }
      // iova.c records the failed size whatever the limit; only 32-bit requests consult it.
      this.max32_alloc_size = size;
      return null;
    }
    const node = new IovaNode(new_pfn, new_pfn + size - 1, 'live');
    this.insert(node);
    if (node.pfn_hi < this.dma_32bit_pfn) this.cached32_node = node;
    else this.cached_node = node;
    return node;
  }

  /** remove_iova, with __cached_rbnode_delete_update: a search restarts above a freed range. */
  private remove(node: IovaNode): void {
    const i = this.nodes.indexOf(node);
    const next = this.nodes[i + 1];
    const c32 = this.cached32_node;
    if (node === c32 || (node.pfn_hi < this.dma_32bit_pfn && node.pfn_lo >= c32.pfn_lo))
      this.cached32_node = next;
    if (node.pfn_lo < this.dma_32bit_pfn) this.max32_alloc_size = this.dma_32bit_pfn;
    if (node.pfn_lo >= this.cached_node.pfn_lo) this.cached_node = next;
    this.nodes.splice(i, 1);
  }

  /**
   * reserve_iova: keep [pfn_lo, pfn_hi] out of every allocation. A range overlapping existing
   * nodes extends the first of them downwards and the part above gets a node of its own.
   */
  reserve_iova(pfn_lo: number, pfn_hi: number): void {
    pfn_hi = Math.min(pfn_hi, IOVA_ANCHOR - 1);
    if (pfn_lo > pfn_hi) return;
    let overlap = false;
    for (const n of this.nodes) {
      if (n !== this.anchor && n.pfn_lo <= pfn_hi && pfn_lo <= n.pfn_hi) {
        if (pfn_lo < n.pfn_lo) n.pfn_lo = pfn_lo;
        if (pfn_hi > n.pfn_hi) pfn_lo = n.pfn_hi + 1;
        if (pfn_lo >= n.pfn_lo && pfn_hi <= n.pfn_hi) return;
        overlap = true;
      } else if (overlap) {
        break;
      }
    }
    this.insert(new IovaNode(pfn_lo, pfn_hi, 'reserved'));
  }

  // ── the rcache ──

  /** iova_rcache_insert: false when the size is too large to cache (it goes back to the tree). */
  private rcache_insert(pfn: number, size: number): boolean {
    const log = order_base_2(size);
    if (log >= IOVA_RANGE_CACHE_MAX_SIZE) return false;
    const rc = this.rcaches[log];
    if (rc.loaded.length < IOVA_MAG_SIZE) {
      // room in the loaded magazine
    } else if (rc.prev.length < IOVA_MAG_SIZE) {
      [rc.loaded, rc.prev] = [rc.prev, rc.loaded];
    } else {
      const full = rc.loaded;
      rc.loaded = [];
      if (this.depot_list) {
        rc.depot.push(full);
        this.schedule_depot_work(log);
      } else if (rc.depot.length < MAX_GLOBAL_MAGS) {
        rc.depot.push(full);
      } else {
        // v6.6: no room in the depot; the full magazine's ranges go back to the tree.
        const n = full.length;
        this.magazine_free_pfns(full);
        this.trace_magazine_free(log, n, 'full');
      }
    }
    rc.loaded.push(pfn);
    return true;
  }

  /** schedule_delayed_work(&rcache->work, IOVA_DEPOT_DELAY): nothing when it is pending already. */
  private schedule_depot_work(log: number): void {
    const rc = this.rcaches[log];
    if (!this.owner || rc.work_pending) return;
    rc.work_pending = true;
    const m = this.owner.machine;
    m.timers.push(new IovaDepotWork(m.clock_ms + IOVA_DEPOT_DELAY, this.owner, log));
  }

  /**
   * iova_depot_work_func: while the depot holds more magazines than there are CPUs, give the one
   * at its head (the newest) back to the tree and run again IOVA_DEPOT_DELAY later; otherwise stop
   * until the next push schedules it.
   */
  iova_depot_work_func(log: number): void {
    const rc = this.rcaches[log];
    rc.work_pending = false;
    if (rc.depot.length <= NUM_ONLINE_CPUS) return;
    const mag = rc.depot.pop()!;
    const n = mag.length;
    this.magazine_free_pfns(mag);
    this.trace_magazine_free(log, n, 'work');
    this.schedule_depot_work(log);
  }

  private trace_magazine_free(log: number, pfns: number, reason: 'full' | 'work'): void {
    if (!this.owner) return;
    const t = this.owner.machine.trace;
    const depot = this.rcaches[log].depot.length;
    t.emit(ev.iova_magazine_free, this.owner.id, 2 ** log * this.granule, pfns, depot, t.str(reason));
  }

  /** iova_rcache_get: a cached pfn of this size whose range ends at or below limit_pfn, or 0. */
  private rcache_get(size: number, limit_pfn: number): number {
    const log = order_base_2(size);
    if (log >= IOVA_RANGE_CACHE_MAX_SIZE) return 0;
    const rc = this.rcaches[log];
    if (rc.loaded.length) {
      // pop from the loaded magazine
    } else if (rc.prev.length) {
      [rc.loaded, rc.prev] = [rc.prev, rc.loaded];
    } else if (rc.depot.length) {
      rc.loaded = rc.depot.pop()!;
    } else {
      return 0;
    }
    // iova_magazine_pop: the newest pfn that fits the limit, swapped out with the last one.
    const mag = rc.loaded;
    const max = limit_pfn - size + 1;
    let i = mag.length - 1;
    while (mag[i] > max) {
      if (i === 0) return 0;
      i--;
    }
    const pfn = mag[i];
    // The usual pop takes the last pfn and stores nothing (a store to an array is a slow path
    // after the sandbox's lockdown, warm-up.ts); one further down is replaced by the last.
    const last = mag.pop()!;
    if (i < mag.length) mag[i] = last;
    return pfn;
  }

  private magazine_free_pfns(mag: number[]): void {
    for (const pfn of mag) {
      const n = this.find_iova(pfn);
      if (n) this.remove(n);
    }
    mag.length = 0;
  }

  /** free_cpu_cached_iovas + free_global_cached_iovas: give every cached range back to the tree. */
  flush_rcaches(): void {
    for (const rc of this.rcaches) {
      this.magazine_free_pfns(rc.loaded);
      this.magazine_free_pfns(rc.prev);
      for (const mag of rc.depot) this.magazine_free_pfns(mag);
      rc.depot.length = 0;
    }
  }

  // ── the API dma-iommu uses ──

  /**
   * alloc_iova_fast: `size` pages ending at or below `limit_pfn` (inclusive), from the rcache when it
   * has one, else from the tree; on failure optionally flush the rcaches and retry once.
   * Returns the first pfn, or 0. `from_cache` tells the caller where it came from.
   */
  alloc_iova_fast(
    size: number,
    limit_pfn: number,
    flush_rcache: boolean,
    out?: { from_cache: boolean },
  ): number {
    // Sizes the rcache can hold are rounded up to a power of two so a freed range fits any later
    // request of the same order (in iova.c since v5.17; dma-iommu did it before).
    if (size < 2 ** (IOVA_RANGE_CACHE_MAX_SIZE - 1)) size = roundup_pow_of_two(size);
    const cached = this.rcache_get(size, limit_pfn);
    if (cached) {
      const n = this.find_iova(cached);
      if (n) n.state = 'live';
      if (out) out.from_cache = true;
      return cached;
    }
    if (out) out.from_cache = false;
    let node = this.alloc_and_insert(size, limit_pfn + 1, true);
    if (!node && flush_rcache) {
      this.flush_rcaches();
      node = this.alloc_and_insert(size, limit_pfn + 1, true);
    }
    return node ? node.pfn_lo : 0;
  }

  /**
   * free_iova_fast: into the rcache when the size is cacheable, else out of the tree.
   * Returns where it went ('rcache' or 'tree'), or '' when pfn starts no range (Linux would cache
   * the bogus pfn anyway; the lab refuses, and the caller raises a check).
   */
  free_iova_fast(pfn: number, size: number): 'rcache' | 'tree' | '' {
    const n = this.find_iova(pfn);
    if (!n || n.pfn_lo !== pfn || n.state === 'reserved' || n.state === 'cached') return '';
    if (this.rcache_insert(pfn, size)) {
      n.state = 'cached';
      return 'rcache';
    }
    this.remove(n);
    return 'tree';
  }

  /** The ranges as [pfn_lo, pfn_hi, state] rows, anchor left out (panels and tests). */
  ranges(): { pfn_lo: number; pfn_hi: number; state: IovaState }[] {
    return this.nodes
      .filter((n) => n !== this.anchor)
      .map((n) => ({ pfn_lo: n.pfn_lo, pfn_hi: n.pfn_hi, state: n.state }));
  }
}
