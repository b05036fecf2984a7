/**
 * The IOTLB of one IOMMU instance: a fixed number of entries, each a translation of one leaf
 * (any power-of-two size) tagged by ASID / domain id. Lookups hash (tag, size, page number) into an
 * open-addressing table, once per distinct entry size present, so a lookup is a few probes whatever
 * the capacity. Replacement is least-recently-used, kept in a doubly linked list in typed arrays.
 *
 * Entries are never changed by page-table updates: the page table reports changes (pte_changed)
 * and the owner marks the overlapping entries stale, which is what lets the lab show a device
 * using a translation the tables no longer hold. Only invalidations remove entries. When a map
 * reports the change, the entries it reaches are read again against the table: one that caches
 * exactly the leaf the table holds now (written again with the same value, or mapped back before
 * the invalidation came) is current, and stays or becomes clean.
 *
 * Statistics: `hits`, `misses` and `stale_hits` are counted by the layer that translates (it
 * decides what a hit is); `invalidations` counts entries removed by invalidate_* here.
 */
import { WalkResult, type LeafWalker } from '../pgtable/types.ts';
import type { Trace } from '../trace/trace.ts';
import { ev } from './trace-events.ts';

const VALID = 1;
const STALE = 2;
const NEGATIVE = 4;

const TWO32 = 0x1_0000_0000;
const POW2 = Float64Array.from({ length: 64 }, (_, i) => 2 ** i);

/** log2 of a power of two up to 2^52, else -1 (no Math.log2: this runs on every fill). */
function lg2_of(size: number): number {
  if (size >= 1 && size <= 0x8000_0000) return (size & (size - 1)) === 0 ? 31 - Math.clz32(size) : -1;
  const hi = size / TWO32;
  if (!(hi >= 1 && hi <= 0x10_0000) || Math.floor(hi) !== hi || (hi & (hi - 1)) !== 0) return -1;
  return 63 - Math.clz32(hi);
}

export interface IotlbStats {
  hits: number;
  misses: number;
  stale_hits: number;
  invalidations: number;
}

export interface IotlbEntry {
  tag: number;
  iova: number;
  size: number;
  pa: number;
  prot: number;
  stale: boolean;
  negative: boolean;
}

/** mark_stale's walk when it re-reads an entry against the table (no allocation per entry). */
const recheck = new WalkResult();

function checkNum(name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw new RangeError(`${name} must be an integer 0..${max}, got ${String(v)}`);
  return v;
}

export class Iotlb {
  readonly capacity: number;
  readonly stats: IotlbStats = { hits: 0, misses: 0, stale_hits: 0, invalidations: 0 };
  /** Valid entries now. */
  count = 0;

  private readonly tags: Int32Array;
  private readonly bases: Float64Array;
  private readonly pas: Float64Array;
  private readonly lg2s: Uint8Array;
  private readonly prots: Uint8Array;
  private readonly flags: Uint8Array;
  /** Home slot of each entry in the hash table. */
  private readonly homes: Int32Array;
  /** LRU list: head = most recently used. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = -1;
  private tail = -1;
  private readonly free_stack: Int32Array;
  private free_top: number;
  /** Open addressing, linear probing: entry index + 1, 0 = empty. */
  private readonly slots: Int32Array;
  private readonly hmask: number;
  /** Entries per size (log2) and the sizes present, ascending. */
  private readonly size_count: Int32Array = new Int32Array(64);
  private readonly sizes: Int32Array = new Int32Array(64);
  private n_sizes = 0;
  /** The entry peek found last by hashing (checked again before it is used). */
  private last_found = -1;
  /** The owner's name as an interned trace string (the `iommu` field of every event). */
  private readonly id: number;

  constructor(
    capacity: number,
    readonly trace: Trace,
    /** The instance (or omap MMU) this IOTLB belongs to, named in its events. */
    name = 'iotlb',
  ) {
    this.id = trace.str(name);
    checkNum('tlb_entries', capacity, 1 << 20);
    if (capacity < 1) throw new RangeError('tlb_entries must be at least 1');
    this.capacity = capacity;
    this.tags = new Int32Array(capacity);
    this.bases = new Float64Array(capacity);
    this.pas = new Float64Array(capacity);
    this.lg2s = new Uint8Array(capacity);
    this.prots = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.homes = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.free_stack = new Int32Array(capacity);
    // Entry 0 is handed out first: deterministic and easy to read in panels.
    for (let i = 0; i < capacity; i++) this.free_stack[i] = capacity - 1 - i;
    this.free_top = capacity;
    let h = 16;
    while (h < capacity * 2) h *= 2;
    this.slots = new Int32Array(h);
    this.hmask = h - 1;
  }

  // ── lookups ───────────────────────────────────────────────────────────────────────────────────

  /** The entry translating `iova` for `tag` (any size), or -1. A hit makes it most recently used. */
  lookup(tag: number, iova: number): number {
    const i = this.peek(tag, iova);
    if (i >= 0 && i !== this.head) this.touch(i);
    return i;
  }

  /** Like lookup, without touching the LRU order (panels, checks). */
  peek(tag: number, iova: number): number {
    if (this.count === 0) return -1;
    // A device streaming through one page asks about the same entry again: while one entry
    // size is cached, a valid entry of `tag` covering `iova` is the only one there can be
    // (entries are unique per tag, size and base), so the entry found last answers without
    // hashing whenever it still covers the address.
    const l = this.last_found;
    if (l >= 0 && this.n_sizes === 1 && this.tags[l] === tag && (this.flags[l] & VALID) !== 0) {
      const off = iova - this.bases[l];
      if (off >= 0 && off < POW2[this.lg2s[l]]) return l;
    }
    for (let s = 0; s < this.n_sizes; s++) {
      const lg2 = this.sizes[s];
      const p = POW2[lg2];
      const pn = Math.floor(iova / p);
      const i = this.find(tag, pn, lg2);
      if (i >= 0) {
        this.last_found = i;
        return i;
      }
    }
    return -1;
  }

  iova_of(i: number): number {
    return this.bases[i];
  }
  size_of(i: number): number {
    return POW2[this.lg2s[i]];
  }
  /** Physical address of the entry's first byte. */
  pa_of(i: number): number {
    return this.pas[i];
  }
  prot_of(i: number): number {
    return this.prots[i];
  }
  tag_of(i: number): number {
    return this.tags[i];
  }
  is_stale(i: number): boolean {
    return (this.flags[i] & STALE) !== 0;
  }
  is_negative(i: number): boolean {
    return (this.flags[i] & NEGATIVE) !== 0;
  }

  // ── fill ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * Cache a translation of `size` bytes (a power of two) at `iova_base` (aligned to it). An entry
   * with the same tag, base and size is replaced in place; otherwise a free entry is used, or the
   * least recently used one is evicted. Returns the entry index.
   */
  insert(
    tag: number,
    iova_base: number,
    size: number,
    pa_base: number,
    prot: number,
    negative = false,
  ): number {
    if (!(tag >= 0 && tag <= 0x7fff_ffff && (tag | 0) === tag)) checkNum('tag', tag, 0x7fff_ffff);
    if (!(prot >= 0 && prot <= 0xff && (prot | 0) === prot)) checkNum('prot', prot, 0xff);
    checkNum('iova', iova_base);
    checkNum('pa', pa_base);
    const lg2 = lg2_of(size);
    if (lg2 < 0) throw new RangeError(`size must be a power of two up to 2^52, got ${size}`);
    const pn = iova_base / size;
    if (Math.floor(pn) !== pn)
      throw new RangeError(`iova 0x${iova_base.toString(16)} is not aligned to size 0x${size.toString(16)}`);
    let i = this.find(tag, pn, lg2);
    if (i < 0) {
      i = this.alloc_entry();
      this.tags[i] = tag;
      this.bases[i] = iova_base;
      this.lg2s[i] = lg2;
      const h = this.hash(tag, pn, lg2);
      this.homes[i] = h;
      let slot = h;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.hmask;
      this.slots[slot] = i + 1;
      this.push_front(i);
      if (this.size_count[lg2]++ === 0) this.add_size(lg2);
      this.count++;
    } else if (i !== this.head) this.touch(i);
    this.pas[i] = negative ? 0 : pa_base;
    this.prots[i] = negative ? 0 : prot;
    this.flags[i] = VALID | (negative ? NEGATIVE : 0);
    if (negative) this.trace.emit(ev.insert_negative, this.id, tag, iova_base, size);
    else this.trace.emit(ev.insert, this.id, tag, iova_base, size, pa_base, prot);
    return i;
  }

  // ── stale marking and invalidation ────────────────────────────────────────────────────────────

  /**
   * Every entry of `tag` overlapping [iova, iova+size) becomes stale. Returns how many changed.
   * With `table` (the change was a map), an entry is first read again against it: one that caches
   * the leaf the table holds now stays clean, or is clean again if it was stale.
   */
  mark_stale(tag: number, iova: number, size: number, table: LeafWalker | null = null): number {
    if (this.count === 0 || size <= 0) return 0;
    let marked = 0;
    let current = 0;
    if (this.probes(iova, size) <= this.capacity) {
      const last = iova + size - 1;
      for (let s = 0; s < this.n_sizes; s++) {
        const lg2 = this.sizes[s];
        const p = POW2[lg2];
        for (let pn = Math.floor(iova / p), end = Math.floor(last / p); pn <= end; pn++) {
          const i = this.find(tag, pn, lg2);
          if (i < 0) continue;
          const r = this.restale(i, table);
          if (r > 0) marked++;
          else if (r < 0) current++;
        }
      }
    } else {
      for (let i = 0; i < this.capacity; i++) {
        if (!(this.flags[i] & VALID) || this.tags[i] !== tag || !this.overlaps(i, iova, size)) continue;
        const r = this.restale(i, table);
        if (r > 0) marked++;
        else if (r < 0) current++;
      }
    }
    if (marked) this.trace.emit(ev.mark_stale, this.id, tag, iova, size, marked);
    if (current) this.trace.emit(ev.revalidate, this.id, tag, iova, size, current);
    return marked;
  }

  /**
   * Entry `i` after a change over it: stale, unless `table` holds exactly its leaf (then clean).
   * 1: newly stale, -1: clean again, 0: unchanged.
   */
  private restale(i: number, table: LeafWalker | null): number {
    const stale = (this.flags[i] & STALE) !== 0;
    if (table !== null && this.matches(i, table)) {
      if (!stale) return 0;
      this.flags[i] &= ~STALE;
      return -1;
    }
    if (stale) return 0;
    this.flags[i] |= STALE;
    return 1;
  }

  /**
   * Whether entry `i` caches exactly the leaf `table` holds now at its IOVA: same base, size, PA
   * and prot. A negative entry is not re-read (a map that reaches one has almost always made its
   * page present): it goes stale as before, until the invalidation the map owes it.
   */
  private matches(i: number, table: LeafWalker): boolean {
    if (this.flags[i] & NEGATIVE) return false;
    const base = this.bases[i];
    return (
      table.walk(base, recheck) &&
      recheck.iova_base === base &&
      recheck.size === POW2[this.lg2s[i]] &&
      recheck.pa_base === this.pas[i] &&
      recheck.prot === this.prots[i]
    );
  }

  /** Remove every entry of `tag` overlapping [iova, iova+size). Returns entries removed. */
  invalidate_range(tag: number, iova: number, size: number): number {
    let removed = 0;
    if (this.count > 0 && size > 0) {
      if (this.probes(iova, size) <= this.capacity) {
        const last = iova + size - 1;
        // The sizes list changes as entries go: walk a copy of it.
        const sizes = this.sizes.slice(0, this.n_sizes);
        for (const lg2 of sizes) {
          const p = POW2[lg2];
          for (let pn = Math.floor(iova / p), end = Math.floor(last / p); pn <= end; pn++) {
            const i = this.find(tag, pn, lg2);
            if (i >= 0) {
              this.remove(i);
              removed++;
            }
          }
        }
      } else {
        for (let i = 0; i < this.capacity; i++) {
          if (!(this.flags[i] & VALID) || this.tags[i] !== tag || !this.overlaps(i, iova, size)) continue;
          this.remove(i);
          removed++;
        }
      }
    }
    this.stats.invalidations += removed;
    this.trace.emit(ev.invalidate_range, this.id, tag, iova, size, removed);
    return removed;
  }

  /** Remove every entry, of any tag, overlapping [iova, iova+size) (by-VA invalidation for all ASIDs). */
  invalidate_range_all_tags(iova: number, size: number): number {
    let removed = 0;
    for (let i = 0; i < this.capacity && this.count > 0; i++) {
      if (!(this.flags[i] & VALID) || !this.overlaps(i, iova, size)) continue;
      this.remove(i);
      removed++;
    }
    this.stats.invalidations += removed;
    this.trace.emit(ev.invalidate_range, this.id, -1, iova, size, removed);
    return removed;
  }

  /** Remove every entry of `tag`. */
  invalidate_tag(tag: number): number {
    let removed = 0;
    for (let i = 0; i < this.capacity && this.count > 0; i++) {
      if (!(this.flags[i] & VALID) || this.tags[i] !== tag) continue;
      this.remove(i);
      removed++;
    }
    this.stats.invalidations += removed;
    this.trace.emit(ev.invalidate_tag, this.id, tag, removed);
    return removed;
  }

  /** Remove everything. */
  invalidate_all(): number {
    const removed = this.count;
    if (removed > 0) {
      this.flags.fill(0);
      this.slots.fill(0);
      this.size_count.fill(0);
      this.n_sizes = 0;
      this.head = this.tail = -1;
      for (let i = 0; i < this.capacity; i++) this.free_stack[i] = this.capacity - 1 - i;
      this.free_top = this.capacity;
      this.count = 0;
    }
    this.stats.invalidations += removed;
    this.trace.emit(ev.invalidate_all, this.id, removed);
    return removed;
  }

  // ── panels ────────────────────────────────────────────────────────────────────────────────────

  /** Every valid entry, ordered by tag, then IOVA, then size. */
  entries(): IotlbEntry[] {
    const out: IotlbEntry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      if (!(this.flags[i] & VALID)) continue;
      out.push({
        tag: this.tags[i],
        iova: this.bases[i],
        size: POW2[this.lg2s[i]],
        pa: this.pas[i],
        prot: this.prots[i],
        stale: (this.flags[i] & STALE) !== 0,
        negative: (this.flags[i] & NEGATIVE) !== 0,
      });
    }
    return out.sort((a, b) => a.tag - b.tag || a.iova - b.iova || a.size - b.size);
  }

  /** Entry indexes from most to least recently used (the eviction order reversed). */
  lru_order(): number[] {
    const out: number[] = [];
    for (let i = this.head; i >= 0; i = this.next[i]) out.push(i);
    return out;
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────

  private hash(tag: number, pn: number, lg2: number): number {
    const lo = pn >>> 0;
    const hi = (pn - lo) / TWO32;
    let h =
      Math.imul(lo ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) ^
      Math.imul(tag + 1, 0x85ebca6b) ^
      Math.imul(lg2 + 1, 0x632be5ab);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h & this.hmask;
  }

  /** The entry with exactly this tag, page number and size, or -1. */
  private find(tag: number, pn: number, lg2: number): number {
    const base = pn * POW2[lg2];
    let slot = this.hash(tag, pn, lg2);
    for (;;) {
      const v = this.slots[slot];
      if (v === 0) return -1;
      const i = v - 1;
      if (this.bases[i] === base && this.tags[i] === tag && this.lg2s[i] === lg2) return i;
      slot = (slot + 1) & this.hmask;
    }
  }

  /** Slots a probe of [iova, iova+size) would visit across the sizes present. */
  private probes(iova: number, size: number): number {
    let n = 0;
    const last = iova + size - 1;
    for (let s = 0; s < this.n_sizes; s++) {
      const p = POW2[this.sizes[s]];
      n += Math.floor(last / p) - Math.floor(iova / p) + 1;
    }
    return n;
  }

  private overlaps(i: number, iova: number, size: number): boolean {
    const b = this.bases[i];
    return b < iova + size && iova < b + POW2[this.lg2s[i]];
  }

  private alloc_entry(): number {
    if (this.free_top > 0) return this.free_stack[--this.free_top];
    const victim = this.tail;
    this.trace.emit(
      ev.evict,
      this.id,
      this.tags[victim],
      this.bases[victim],
      POW2[this.lg2s[victim]],
      this.flags[victim] & STALE ? 1 : 0,
    );
    this.remove(victim);
    return this.free_stack[--this.free_top];
  }

  private remove(i: number): void {
    // Find the entry's slot, then close the gap (backward-shift deletion keeps probes short).
    let hole = this.homes[i];
    while (this.slots[hole] !== i + 1) hole = (hole + 1) & this.hmask;
    this.slots[hole] = 0;
    let j = (hole + 1) & this.hmask;
    while (this.slots[j] !== 0) {
      const home = this.homes[this.slots[j] - 1];
      // Move the entry at j into the hole unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        this.slots[hole] = this.slots[j];
        this.slots[j] = 0;
        hole = j;
      }
      j = (j + 1) & this.hmask;
    }
    this.unlink(i);
    const lg2 = this.lg2s[i];
    if (--this.size_count[lg2] === 0) this.drop_size(lg2);
    this.flags[i] = 0;
    this.free_stack[this.free_top++] = i;
    this.count--;
  }

  private push_front(i: number): void {
    this.prev[i] = -1;
    this.next[i] = this.head;
    if (this.head >= 0) this.prev[this.head] = i;
    this.head = i;
    if (this.tail < 0) this.tail = i;
  }

  private unlink(i: number): void {
    const p = this.prev[i];
    const n = this.next[i];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
  }

  private touch(i: number): void {
    this.unlink(i);
    this.push_front(i);
  }

  private add_size(lg2: number): void {
    let k = this.n_sizes++;
    while (k > 0 && this.sizes[k - 1] > lg2) {
      this.sizes[k] = this.sizes[k - 1];
      k--;
    }
    this.sizes[k] = lg2;
  }

  private drop_size(lg2: number): void {
    let k = 0;
    while (this.sizes[k] !== lg2) k++;
    for (; k < this.n_sizes - 1; k++) this.sizes[k] = this.sizes[k + 1];
    this.n_sizes--;
  }
}
