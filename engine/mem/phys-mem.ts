/**
 * Simulated physical memory.
 *
 * Two kinds of backing:
 * - RAM, the pool the page allocator hands out: [ram_base, ram_base + ram_size), backed by 2 MiB
 *   chunks created on first use and kept in a dense array indexed by (pa - ram_base) / 2 MiB, so a
 *   page-table walk reaches a table's words with one division and one array load;
 * - everything else (a script may map and DMA to any physical address): 4 KiB pages in a sparse Map,
 *   created on first write. Memory never written reads as zeros.
 *
 * Words are little-endian 32-bit halves, as the page tables store them (a 64-bit PTE is the pair
 * [lo, hi] at word indexes 2k, 2k + 1).
 */

export const PAGE_SIZE = 4096;
/** RAM backing granule: big enough that a walk rarely changes chunk, small enough to stay sparse. */
export const CHUNK_SIZE = 2 * 1024 * 1024;
const CHUNK_SHIFT = 21;
const CHUNK_FRAMES = CHUNK_SIZE / 4096;
const CHUNK_WORDS = CHUNK_SIZE / 4;
const PAGE_WORDS = PAGE_SIZE / 4;

/** Shared, never written: what `view()` returns for memory nobody wrote. */
const ZERO_CHUNK = new Uint32Array(CHUNK_WORDS);

/**
 * RAM chunks of released memories, for the next lab in this process. Zeroing a reused chunk costs
 * a fraction of first touching fresh host memory, whose page faults are what a new lab's tables
 * and buffers pay otherwise (on some VMs ~13 µs per 4 KiB page: 6 ms per chunk).
 */
const released: Uint32Array[] = [];
/** At most this many chunks (256 MiB) wait for reuse; the rest go to the garbage collector. */
const RELEASED_MAX = 128;

export interface PhysMemOptions {
  /** Start of the RAM pool (default 0x4000_0000: nothing is allocated at pa 0, so 0 means failure). */
  ram_base?: number;
  /** Size of the RAM pool (default 4 GiB); only chunks in use take host memory. */
  ram_size?: number;
}

export interface PhysRange {
  pa: number;
  size: number;
}

const TWO53 = 2 ** 53;

/**
 * Whether [start, start + length) ends at or below 2^53, for non-negative safe integers: the range
 * may reach the last safe address, so its exclusive end may be 2^53 itself (exact as a double;
 * a sum that rounded to it is told apart by subtracting back).
 */
export function end_fits(start: number, length: number): boolean {
  const end = start + length;
  return end < TWO53 || (end === TWO53 && end - length === start);
}

function checkAddr(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${name} must be a non-negative safe integer, got ${String(v)}`);
  return v;
}

export class PhysMem {
  readonly ram_base: number;
  readonly ram_size: number;
  private readonly ram_end: number;
  /** RAM chunks by (pa - ram_base) / CHUNK_SIZE; undefined until first touched. */
  private readonly chunks: (Uint32Array | undefined)[];
  /** Non-RAM memory: 4 KiB pages by page number. */
  private readonly sparse = new Map<number, Uint32Array>();

  /** Bump pointer of the page allocator (everything above it in RAM was never handed out). */
  private bump: number;
  /** Freed blocks by size in pages, reused last-freed first. */
  private readonly free_lists = new Map<number, number[]>();
  /** Live allocations: first page index (relative to ram_base) → pages. */
  private readonly allocs = new Map<number, number>();
  private allocated = 0;
  /** Countdown of fail_nth_alloc: the allocation that brings it from 1 to 0 fails. */
  private fail_countdown = 0;

  /** ram_base and ram_size in 4 KiB frames. */
  private readonly ram_frame0: number;
  private readonly ram_frames: number;

  /** Word index into the array `view()` / `view_w()` returned last. */
  view_off = 0;

  constructor(opts: PhysMemOptions = {}) {
    const base = checkAddr('ram_base', opts.ram_base ?? 0x4000_0000);
    const size = checkAddr('ram_size', opts.ram_size ?? 4 * 1024 * 1024 * 1024);
    // Offsets into the pool stay below 2^32 so walks can use 32-bit arithmetic on them.
    if (size > 4 * 1024 * 1024 * 1024) throw new RangeError('ram_size must be at most 4 GiB');
    if (base % CHUNK_SIZE !== 0) throw new RangeError('ram_base must be 2 MiB aligned');
    if (base === 0) throw new RangeError('ram_base must not be 0 (0 is the allocator failure value)');
    if (size === 0 || size % CHUNK_SIZE !== 0)
      throw new RangeError('ram_size must be a positive multiple of 2 MiB');
    if (!Number.isSafeInteger(base + size)) throw new RangeError('ram_base + ram_size is beyond 2^53');
    this.ram_base = base;
    this.ram_size = size;
    this.ram_end = base + size;
    this.ram_frame0 = base / PAGE_SIZE;
    this.ram_frames = size / PAGE_SIZE;
    this.chunks = new Array<Uint32Array | undefined>(size / CHUNK_SIZE).fill(undefined);
    this.bump = base;
  }

  // ── words, for page-table walkers ─────────────────────────────────────────────────────────────

  /**
   * The words backing `pa` for reading: returns an array and sets `view_off` to the word index of
   * `pa` in it (pa is rounded down to 4 bytes). Unbacked memory gives a shared array of zeros, which
   * must not be written. No allocation.
   */
  view(pa: number): Uint32Array {
    const rel = pa - this.ram_base;
    if (rel >= 0 && rel < this.ram_size) {
      this.view_off = (rel & (CHUNK_SIZE - 1)) >>> 2;
      return this.chunks[rel >>> CHUNK_SHIFT] ?? ZERO_CHUNK;
    }
    const pn = Math.floor(pa / PAGE_SIZE);
    this.view_off = (pa - pn * PAGE_SIZE) >>> 2;
    return this.sparse.get(pn) ?? ZERO_CHUNK;
  }

  /**
   * `view()` for a page-aligned table given by its frame number (pa / 4096): integer arithmetic
   * only, which is what keeps table walks fast.
   */
  view_frame(frame: number): Uint32Array {
    const rf = frame - this.ram_frame0;
    if (rf >= 0 && rf < this.ram_frames) {
      this.view_off = (rf & (CHUNK_FRAMES - 1)) << 10;
      return this.chunks[rf >>> (CHUNK_SHIFT - 12)] ?? ZERO_CHUNK;
    }
    return this.view(frame * PAGE_SIZE);
  }

  /** `view_frame()` for writing: creates the backing when missing. */
  view_frame_w(frame: number): Uint32Array {
    const rf = frame - this.ram_frame0;
    if (rf >= 0 && rf < this.ram_frames) {
      const ci = rf >>> (CHUNK_SHIFT - 12);
      this.view_off = (rf & (CHUNK_FRAMES - 1)) << 10;
      return this.chunks[ci] ?? this.make_chunk(ci);
    }
    return this.view_w(frame * PAGE_SIZE);
  }

  /** Like `view()` but for writing: creates the backing when missing. */
  view_w(pa: number): Uint32Array {
    const rel = pa - this.ram_base;
    if (rel >= 0 && rel < this.ram_size) {
      const ci = rel >>> CHUNK_SHIFT;
      this.view_off = (rel & (CHUNK_SIZE - 1)) >>> 2;
      return this.chunks[ci] ?? this.make_chunk(ci);
    }
    const pn = Math.floor(pa / PAGE_SIZE);
    this.view_off = (pa - pn * PAGE_SIZE) >>> 2;
    let page = this.sparse.get(pn);
    if (page === undefined) {
      page = new Uint32Array(PAGE_WORDS);
      this.sparse.set(pn, page);
    }
    return page;
  }

  private make_chunk(ci: number): Uint32Array {
    const reused = released.pop();
    const c = reused ? reused.fill(0) : new Uint32Array(CHUNK_WORDS);
    this.chunks[ci] = c;
    return c;
  }

  /**
   * The lab is done with this memory: its RAM chunks go to the next PhysMem that needs one, and
   * this one reads as zeros from now on (nothing may keep using what it handed out).
   */
  release(): void {
    for (let ci = 0; ci < this.chunks.length; ci++) {
      const c = this.chunks[ci];
      if (c === undefined) continue;
      if (released.length < RELEASED_MAX) released.push(c);
      this.chunks[ci] = undefined;
    }
    this.sparse.clear();
  }

  /** Words left in the array `view(pa)` returns, from `pa` on (for loops that stay in one backing). */
  words_left(pa: number): number {
    return this.bytes_left(pa) >>> 2;
  }

  /** Bytes from `pa` to the end of its backing (RAM chunk or sparse page). */
  private bytes_left(pa: number): number {
    const rel = pa - this.ram_base;
    if (rel >= 0 && rel < this.ram_size) return CHUNK_SIZE - (rel % CHUNK_SIZE);
    return PAGE_SIZE - (pa % PAGE_SIZE);
  }

  // ── page allocator ────────────────────────────────────────────────────────────────────────────

  /**
   * Zeroed RAM: `size` rounded up to 4 KiB, aligned to `align` (a power of two; below 4 KiB means
   * 4 KiB), ending at or below `limit` (memory a 32-bit device can address). Returns 0 when the
   * pool (below the limit) is exhausted or an injected failure fires. Deterministic: the last freed
   * block of the same size that fits the alignment is reused first, else the pool grows upwards.
   */
  alloc_pages(size: number, align = PAGE_SIZE, limit = Infinity): number {
    checkAddr('size', size);
    checkAddr('align', align);
    if (size === 0) throw new RangeError('size must be greater than 0');
    if (align < PAGE_SIZE) align = PAGE_SIZE;
    if (!Number.isSafeInteger(Math.log2(align)) || 2 ** Math.log2(align) !== align)
      throw new RangeError(`align must be a power of two, got ${align}`);
    if (this.fail_countdown > 0 && --this.fail_countdown === 0) return 0;

    const npages = Math.ceil(size / PAGE_SIZE);
    const bytes = npages * PAGE_SIZE;
    let pa = 0;
    const list = this.free_lists.get(npages);
    if (list !== undefined) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i] % align === 0 && list[i] + npages * PAGE_SIZE <= limit) {
          pa = list[i];
          list.splice(i, 1);
          break;
        }
      }
    }
    if (pa === 0) {
      const start = Math.ceil(this.bump / align) * align;
      if (start + bytes > Math.min(this.ram_end, limit)) return 0;
      // The pages skipped for alignment stay usable by later single-page allocations.
      for (let gap = this.bump; gap < start; gap += PAGE_SIZE) this.push_free(1, gap);
      this.bump = start + bytes;
      pa = start;
    }
    this.zero(pa, bytes);
    this.allocs.set((pa - this.ram_base) / PAGE_SIZE, npages);
    this.allocated += bytes;
    return pa;
  }

  /** Give back a block from alloc_pages; `size` must be the size it was allocated with. */
  free_pages(pa: number, size: number): void {
    checkAddr('pa', pa);
    checkAddr('size', size);
    const npages = Math.ceil(size / PAGE_SIZE);
    const key = (pa - this.ram_base) / PAGE_SIZE;
    const have = this.allocs.get(key);
    if (have === undefined)
      throw new RangeError(`free_pages: 0x${pa.toString(16)} is not an allocated block`);
    if (have !== npages)
      throw new RangeError(
        `free_pages: 0x${pa.toString(16)} was allocated with ${have} pages, freed with ${npages}`,
      );
    this.allocs.delete(key);
    this.allocated -= npages * PAGE_SIZE;
    this.push_free(npages, pa);
  }

  private push_free(npages: number, pa: number): void {
    let list = this.free_lists.get(npages);
    if (list === undefined) {
      list = [];
      this.free_lists.set(npages, list);
    }
    list.push(pa);
  }

  /** Fault injection: the n-th next allocation (1 = the next one) returns 0; 0 cancels. */
  fail_nth_alloc(n: number): void {
    checkAddr('n', n);
    this.fail_countdown = n;
  }

  /** Bytes currently allocated by alloc_pages. */
  get allocated_bytes(): number {
    return this.allocated;
  }

  /** Live allocations in address order (for panels). */
  pages(): PhysRange[] {
    const out: PhysRange[] = [];
    for (const [key, npages] of this.allocs)
      out.push({ pa: this.ram_base + key * PAGE_SIZE, size: npages * PAGE_SIZE });
    return out.sort((a, b) => a.pa - b.pa);
  }

  /** Whether `pa` lies in a live allocation. */
  is_allocated(pa: number): boolean {
    for (const [key, npages] of this.allocs) {
      const start = this.ram_base + key * PAGE_SIZE;
      if (pa >= start && pa < start + npages * PAGE_SIZE) return true;
    }
    return false;
  }

  // ── bytes, for scripts and DMA ────────────────────────────────────────────────────────────────

  private zero(pa: number, bytes: number): void {
    let p = pa;
    const end = pa + bytes;
    while (p < end) {
      const n = Math.min(this.words_left(p), (end - p) >>> 2);
      const arr = this.view(p);
      if (arr !== ZERO_CHUNK) arr.fill(0, this.view_off, this.view_off + n);
      p += n * 4;
    }
  }

  /** A copy of `length` bytes at `pa`. */
  read(pa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.read_into(pa, out, 0, length);
    return out;
  }

  /** Copy `length` bytes at `pa` into `out` from `at` on (a device access fills one buffer, page by page). */
  read_into(pa: number, out: Uint8Array, at: number, length: number): void {
    checkAddr('pa', pa);
    checkAddr('length', length);
    if (!end_fits(pa, length)) throw new RangeError('pa + length is beyond 2^53');
    if (at + length > out.length) throw new RangeError('the copy does not fit the buffer');
    let done = 0;
    while (done < length) {
      const p = pa + done;
      const arr = this.view(p);
      const byteOff = this.view_off * 4 + (p % 4);
      const n = Math.min(length - done, this.bytes_left(p));
      if (arr !== ZERO_CHUNK) out.set(new Uint8Array(arr.buffer, arr.byteOffset + byteOff, n), at + done);
      else out.fill(0, at + done, at + done + n);
      done += n;
    }
  }

  /** Write bytes at `pa`: a Uint8Array or an array of byte values (integers 0..255). */
  write(pa: number, bytes: Uint8Array | readonly number[]): void {
    checkAddr('pa', pa);
    let src: Uint8Array;
    if (bytes instanceof Uint8Array) src = bytes;
    else if (Array.isArray(bytes)) {
      src = new Uint8Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) {
        const b: unknown = bytes[i];
        if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)
          throw new RangeError(`bytes[${i}] must be an integer 0..255, got ${String(b)}`);
        src[i] = b;
      }
    } else throw new RangeError('bytes must be a Uint8Array or an array of byte values');
    if (!end_fits(pa, src.length)) throw new RangeError('pa + bytes.length is beyond 2^53');
    let done = 0;
    while (done < src.length) {
      const p = pa + done;
      const arr = this.view_w(p);
      const byteOff = this.view_off * 4 + (p % 4);
      const n = Math.min(src.length - done, this.bytes_left(p));
      new Uint8Array(arr.buffer, arr.byteOffset + byteOff, n).set(src.subarray(done, done + n));
      done += n;
    }
  }

  read_u32(pa: number): number {
    checkAddr('pa', pa);
    if (pa % 4 === 0) {
      const arr = this.view(pa);
      return arr[this.view_off];
    }
    const b = this.read(pa, 4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  write_u32(pa: number, v: number): void {
    checkAddr('pa', pa);
    if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0xffff_ffff)
      throw new RangeError(`value must be a 32-bit integer, got ${v}`);
    if (pa % 4 === 0) {
      const arr = this.view_w(pa);
      arr[this.view_off] = v;
      return;
    }
    this.write(pa, [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
  }

  /** The 64-bit little-endian value at `pa` as a number (exact below 2^53). */
  read_u64(pa: number): number {
    return this.read_u32(pa) + this.read_u32(pa + 4) * 0x1_0000_0000;
  }

  /** Write a 64-bit little-endian value given as a safe integer. */
  write_u64(pa: number, v: number): void {
    checkAddr('value', v);
    const lo = v >>> 0;
    this.write_u32(pa, lo);
    this.write_u32(pa + 4, (v - lo) / 0x1_0000_0000);
  }
}
