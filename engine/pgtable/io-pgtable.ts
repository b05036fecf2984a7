/**
 * The page-table engine, written once for every format (the idea of Linux's generic_pt): the
 * walker, the leaf-run writer and the unmap algorithms live here; each format in formats/ only
 * describes its geometry, its descriptors and the rules where it differs.
 *
 * Levels are numbered bottom-up inside the engine (0 = the table of the smallest leaves); events
 * and panels use the format's own numbering (`fmt.native_level`). Tables are pages of PhysMem.
 * Hot paths (map runs, unmap runs, walks) allocate nothing and use no BigInt: addresses are
 * numbers, split into 32-bit halves only to index tables and build descriptors.
 */
import { end_fits, type PhysMem } from '../mem/phys-mem.ts';
import type { Trace } from '../trace/trace.ts';
import {
  KIND_BAD,
  KIND_EMPTY,
  KIND_LEAF,
  KIND_TABLE,
  MAP_NOTHING,
  ON_ERROR_ROLLBACK,
  ON_ERROR_ZERO,
  POLICY_EEXIST,
  POLICY_KEEP,
  POLICY_REPLACE,
  POW2,
  type PgtableFormat,
} from './format.ts';
import { ev } from './trace-events.ts';
import {
  DEFAULT_CFG,
  EEXIST,
  EINVAL,
  ENOMEM,
  ERANGE,
  WalkResult,
  type IoPgtableCfg,
  type IommuFlushOps,
  type MapPagesResult,
  type MappingRange,
  type TableView,
} from './types.ts';
import { iter_leaves, collect_mappings, collect_tables, type Leaf } from './pgtable-view.ts';

const TWO32 = 0x1_0000_0000;

/** x mod p for a power of two p, without the slow floating-point remainder. */
function low(x: number, p: number): number {
  return x - Math.floor(x / p) * p;
}

/**
 * Math.round(Math.log2(x)), without the library call (slow in V8) for a page size up to 1 GiB that
 * is a power of two, which is every call the core makes.
 */
function round_lg2(x: number): number {
  if ((x | 0) === x && x > 0 && (x & (x - 1)) === 0) return 31 - Math.clz32(x);
  return Math.round(Math.log2(x));
}

/** walk_alloc's answer when the format keeps an entry that is in the way (VT-d). */
const WALK_KEEP = -1000;

function checkArg(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${name} must be a non-negative safe integer, got ${String(v)}`);
  return v;
}

/** Thrown by the constructor when the top table cannot be allocated. */
export class PgtableNoMemError extends Error {
  readonly errno = -ENOMEM;
  constructor() {
    super('io-pgtable: cannot allocate the top table (-ENOMEM)');
  }
}

export class IoPgtable {
  readonly cfg: IoPgtableCfg;
  /** Physical address of the top table (0 once freed). */
  root = 0;
  /** root / 4096, what walks start from. */
  root_frame = 0;
  /** Levels in use now (amd-v1 grows it). */
  levels: number;
  readonly max_levels: number;
  /** Tables allocated and still linked (or leaked: omap). */
  table_count = 0;

  // Geometry, bottom-up per level.
  readonly shift: Int32Array;
  readonly bits: Int32Array;
  readonly mask: Int32Array;
  readonly leaf_mask: Int32Array;
  readonly table_alloc: Float64Array;
  readonly iova_bias: number;
  /** Bytes of IOVA the format accepts from iova_bias (gart's aperture), whatever the tree covers. */
  readonly span: number;
  /** iova_bias + min(span, coverage()): the end of what walks can reach. */
  limit = 0;
  /** 32-bit words per entry: 1 or 2. */
  readonly wpe: number;
  /** 2^ias and 2^oas, for range checks. */
  readonly ias_size: number;
  readonly oas_size: number;
  /** cfg.pgsize_bitmap as two 32-bit halves, for quick membership tests. */
  private readonly bm_lo: number;
  private readonly bm_hi: number;

  // Scratch: the IOVA being walked (relative to iova_bias) as 32-bit halves.
  private ilo = 0;
  private ihi = 0;
  /** Index at the target level of the last walk_alloc. */
  wa_idx = 0;
  // Scratch: what find() reached.
  f_lvl = 0;
  f_table = 0;
  f_idx = 0;
  f_lo = 0;
  f_hi = 0;
  private readonly wr = new WalkResult();
  // Coalesced unmap run for events (per-leaf unmaps).
  private u_iova = 0;
  private u_size = 0;
  private u_count = 0;
  private u_lvl = 0;
  private u_end = -1;
  // Coalesced changed range for pte_changed.
  private c_start = 0;
  private c_end = -1;
  /** While a map runs: this table, handed with pte_changed so cached entries can be re-read. */
  private c_table: IoPgtable | null = null;
  /** unmap_range has reported a hole in the range it is clearing (one pgtable_unmap_hole a call). */
  private hole_noted = false;

  constructor(
    readonly mem: PhysMem,
    readonly trace: Trace,
    readonly fmt: PgtableFormat,
    cfg: Partial<IoPgtableCfg>,
    readonly flush: IommuFlushOps | null,
  ) {
    const full: IoPgtableCfg = { ...DEFAULT_CFG };
    for (const [k, v] of Object.entries(cfg))
      if (v !== undefined) (full as unknown as Record<string, unknown>)[k] = v;
    checkArg('cfg.pgsize_bitmap', full.pgsize_bitmap);
    checkArg('cfg.id', full.id);
    const geo = fmt.setup(full);
    full.pgsize_bitmap = geo.pgsize_bitmap;
    this.cfg = full;
    this.levels = geo.levels;
    this.max_levels = geo.max_levels;
    const n = geo.max_levels;
    this.shift = Int32Array.from(geo.shift.slice(0, n));
    this.bits = Int32Array.from(geo.bits.slice(0, n));
    this.mask = this.bits.map((b) => (b >= 31 ? -1 : (1 << b) - 1));
    this.leaf_mask = Int32Array.from(geo.leaf_mask.slice(0, n));
    this.table_alloc = Float64Array.from(geo.table_alloc.slice(0, n));
    this.iova_bias = geo.iova_bias;
    this.span = geo.span ?? Infinity;
    this.wpe = fmt.pte_bytes / 4;
    this.ias_size = 2 ** full.ias;
    this.oas_size = 2 ** full.oas;
    this.bm_lo = (full.pgsize_bitmap % TWO32) | 0;
    this.bm_hi = Math.floor(full.pgsize_bitmap / TWO32) | 0;
    this.update_limit();
    this.root = this.alloc_table(this.levels - 1, this.iova_bias);
    if (this.root === 0) throw new PgtableNoMemError();
    this.root_frame = (this.root / 4096) | 0;
  }

  private update_limit(): void {
    this.limit = this.iova_bias + Math.min(this.span, this.coverage());
  }

  /** Like the constructor, but null instead of an exception when memory runs out. */
  static try_alloc(
    mem: PhysMem,
    trace: Trace,
    fmt: PgtableFormat,
    cfg: Partial<IoPgtableCfg>,
    flush: IommuFlushOps | null,
  ): IoPgtable | null {
    try {
      return new IoPgtable(mem, trace, fmt, cfg, flush);
    } catch (e) {
      if (e instanceof PgtableNoMemError) return null;
      throw e;
    }
  }

  // ── public API ────────────────────────────────────────────────────────────────────────────────

  /** Map `pgcount` pages of `pgsize` bytes; `mapped` counts bytes mapped even when ret < 0. */
  map_pages(iova: number, paddr: number, pgsize: number, pgcount: number, prot: number): MapPagesResult {
    checkArg('iova', iova);
    checkArg('paddr', paddr);
    checkArg('pgsize', pgsize);
    checkArg('pgcount', pgcount);
    checkArg('prot', prot);
    if (!end_fits(iova, pgsize * pgcount) || !end_fits(paddr, pgsize * pgcount))
      throw new RangeError('iova/paddr + pgsize * pgcount is beyond 2^53');
    this.check_live();
    return this.fmt.map(this, iova, paddr, pgsize, pgcount, prot);
  }

  /** Unmap; returns bytes unmapped (0 on a hole at the start, Linux semantics; may exceed the request). */
  unmap_pages(iova: number, pgsize: number, pgcount: number, gather: unknown): number {
    checkArg('iova', iova);
    checkArg('pgsize', pgsize);
    checkArg('pgcount', pgcount);
    if (!end_fits(iova, pgsize * pgcount)) throw new RangeError('iova + pgsize * pgcount is beyond 2^53');
    this.check_live();
    if (pgcount === 0) return 0;
    return this.fmt.unmap(this, iova, pgsize, pgcount, gather);
  }

  /** The physical address `iova` translates to, 0 when unmapped. */
  iova_to_phys(iova: number): number {
    checkArg('iova', iova);
    if (this.root === 0) return 0;
    return this.fmt.iova_to_phys(this, iova);
  }

  /**
   * The device-side walk: fills `out` for the leaf covering `iova`, false when there is none (then
   * out.level is the format's level where the walk stopped). No allocation.
   */
  walk(iova: number, out: WalkResult): boolean {
    const rel = iova - this.iova_bias;
    if (rel < 0 || iova >= this.limit || this.root === 0) return false;
    const lo = rel >>> 0;
    const hi = (rel - lo) / TWO32;
    const mem = this.mem;
    const fmt = this.fmt;
    const wpe = this.wpe;
    const shift = this.shift;
    const mask = this.mask;
    let frame = this.root_frame;
    for (let lvl = this.levels - 1; lvl >= 0; lvl--) {
      const sh = shift[lvl];
      const m = mask[lvl];
      const idx =
        sh >= 32 ? (hi >>> (sh - 32)) & m : sh === 0 ? lo & m : ((lo >>> sh) | (hi << (32 - sh))) & m;
      const arr = mem.view_frame(frame);
      const o = mem.view_off + idx * wpe;
      const elo = arr[o];
      const ehi = wpe === 2 ? arr[o + 1] : 0;
      const k = fmt.kind(elo, ehi, lvl);
      if (k === KIND_TABLE && lvl > 0) {
        frame = fmt.table_frame(elo, ehi, lvl);
        continue;
      }
      if (k !== KIND_LEAF) {
        out.level = fmt.native_level(lvl, this.levels);
        return false;
      }
      const lg2 = fmt.leaf_lg2(elo, ehi, lvl, sh);
      out.size = POW2[lg2];
      out.pa_base = fmt.leaf_pa(elo, ehi, lvl, lg2);
      out.prot = fmt.leaf_prot(elo, ehi, lvl);
      out.level = fmt.native_level(lvl, this.levels);
      out.iova_base =
        lg2 < 32
          ? iova - ((lo & ((1 << lg2) - 1)) >>> 0)
          : iova - ((hi & ((1 << (lg2 - 32)) - 1)) * TWO32 + lo);
      return true;
    }
    return false;
  }

  /** Free every table page. The table must not be used afterwards. */
  free(): void {
    if (this.root === 0) return;
    const before = this.table_count;
    const root = this.root;
    this.free_tree(root, this.levels - 1, 0, false);
    this.root = 0;
    this.root_frame = 0;
    this.trace.emit(ev.free, this.cfg.id, root, before - this.table_count);
  }

  /** Merged mappings in IOVA order (see MappingRange). */
  mappings(): MappingRange[] {
    return collect_mappings(this, 0, Infinity).items;
  }

  /** A window of `mappings()`: up to `limit` ranges starting at the first leaf at or after `from_iova`. */
  mappings_page(from_iova: number, limit: number): { items: MappingRange[]; next_iova: number } {
    checkArg('from_iova', from_iova);
    checkArg('limit', limit);
    return collect_mappings(this, from_iova, limit);
  }

  /** Every leaf in IOVA order, unmerged (replicated entries reported once). */
  leaves(from_iova = 0): Generator<Leaf> {
    return iter_leaves(this, from_iova);
  }

  /** The table tree for panels: every table with its non-empty entries decoded. */
  tables(): TableView[] {
    return collect_tables(this);
  }

  // ── helpers the formats and views use ─────────────────────────────────────────────────────────

  /** log2 of `size` when it is one of cfg.pgsize_bitmap's sizes, else -1. */
  pgsize_lg2(size: number): number {
    if (size >= 1 && size <= 0x8000_0000) {
      if ((size & (size - 1)) !== 0) return -1;
      const lg2 = 31 - Math.clz32(size);
      return (this.bm_lo >>> lg2) & 1 ? lg2 : -1;
    }
    const hi = size / TWO32;
    if (!(hi >= 1 && hi <= 0x8000_0000) || (hi & (hi - 1)) !== 0 || hi !== Math.floor(hi)) return -1;
    const lg2 = 31 - Math.clz32(hi);
    return (this.bm_hi >>> lg2) & 1 ? lg2 + 32 : -1;
  }

  /** Whether `x` is a multiple of the power of two `p`. */
  aligned(x: number, p: number): boolean {
    return Math.floor(x / p) * p === x;
  }

  /** `x` rounded down to a multiple of the power of two `p`, counted from iova_bias. */
  align_iova(x: number, p: number): number {
    return x - low(x - this.iova_bias, p);
  }

  /** Bytes of IOVA the tree covers from iova_bias with the levels in use. */
  coverage(): number {
    const top = this.levels - 1;
    return POW2[Math.min(63, this.shift[top] + this.bits[top])];
  }

  /** Entries in a table at `lvl`. */
  entries(lvl: number): number {
    return this.mask[lvl] + 1;
  }

  /** The engine level whose leaves can be 2^lg2 bytes, or -1. */
  leaf_level(lg2: number): number {
    for (let lvl = 0; lvl < this.max_levels; lvl++) {
      const k = lg2 - this.shift[lvl];
      if (k >= 0 && k < 31 && (this.leaf_mask[lvl] >>> k) & 1) return lvl;
    }
    return -1;
  }

  native_level(lvl: number): number {
    return this.fmt.native_level(lvl, this.levels);
  }

  /** Set the walk scratch to `iova` (absolute). */
  set_iova(iova: number): void {
    const rel = iova - this.iova_bias;
    const lo = rel >>> 0;
    this.ilo = lo;
    this.ihi = (rel - lo) / TWO32;
  }

  /** Index of the scratch IOVA in a table at `lvl`. */
  index(lvl: number): number {
    const sh = this.shift[lvl];
    const m = this.mask[lvl];
    if (sh >= 32) return (this.ihi >>> (sh - 32)) & m;
    if (sh === 0) return this.ilo & m;
    return ((this.ilo >>> sh) | (this.ihi << (32 - sh))) & m;
  }

  read_lo(table: number, idx: number): number {
    const arr = this.mem.view(table);
    return arr[this.mem.view_off + idx * this.wpe];
  }

  read_hi(table: number, idx: number): number {
    if (this.wpe === 1) return 0;
    const arr = this.mem.view(table);
    return arr[this.mem.view_off + idx * 2 + 1];
  }

  /** The kind of entry `idx` of the table at `table` (level `lvl`). */
  read_kind(table: number, idx: number, lvl: number): number {
    return this.fmt.kind(this.read_lo(table, idx), this.read_hi(table, idx), lvl);
  }

  write_entry(table: number, idx: number, lo: number, hi: number): void {
    const arr = this.mem.view_w(table);
    const o = this.mem.view_off + idx * this.wpe;
    arr[o] = lo;
    if (this.wpe === 2) arr[o + 1] = hi;
  }

  /** Clear `n` entries from `idx` the format's way. */
  clear_entries(table: number, idx: number, n: number, lvl: number): void {
    const arr = this.mem.view_w(table);
    const wpe = this.wpe;
    const fmt = this.fmt;
    let o = this.mem.view_off + idx * wpe;
    for (let i = 0; i < n; i++, o += wpe) {
      arr[o] = fmt.clear_lo(arr[o], lvl);
      if (wpe === 2) arr[o + 1] = fmt.clear_hi(arr[o + 1], lvl);
    }
  }

  /**
   * Read-only walk to the entry that decides `iova`: sets f_lvl, f_table, f_idx, f_lo, f_hi and
   * returns its kind (KIND_LEAF, KIND_EMPTY at the level where the walk stopped, or KIND_BAD).
   */
  find(iova: number): number {
    if (iova < this.iova_bias || iova >= this.limit) {
      this.f_lvl = this.levels - 1;
      this.f_table = 0;
      return KIND_EMPTY;
    }
    this.set_iova(iova);
    const fmt = this.fmt;
    let pa = this.root;
    for (let lvl = this.levels - 1; lvl >= 0; lvl--) {
      const idx = this.index(lvl);
      const lo = this.read_lo(pa, idx);
      const hi = this.read_hi(pa, idx);
      const k = fmt.kind(lo, hi, lvl);
      this.f_lvl = lvl;
      this.f_table = pa;
      this.f_idx = idx;
      this.f_lo = lo;
      this.f_hi = hi;
      if (k === KIND_TABLE && lvl > 0) {
        pa = fmt.table_pa(lo, hi, lvl);
        continue;
      }
      return k === KIND_TABLE ? KIND_BAD : k;
    }
    return KIND_EMPTY;
  }

  /** log2 size of the leaf find() reached. */
  found_lg2(): number {
    return this.fmt.leaf_lg2(this.f_lo, this.f_hi, this.f_lvl, this.shift[this.f_lvl]);
  }

  /** Allocate and initialise a table for `lvl` covering `iova`; 0 on -ENOMEM. */
  alloc_table(lvl: number, iova: number): number {
    const size = this.table_alloc[lvl];
    const pa = this.mem.alloc_pages(size, size, this.fmt.table_limit);
    if (pa === 0) return 0;
    if (!this.fmt.empty_is_zero) {
      const arr = this.mem.view_w(pa);
      const off = this.mem.view_off;
      const empty = this.fmt.empty_lo(lvl);
      const n = this.entries(lvl);
      for (let i = 0; i < n; i++) arr[off + i * this.wpe] = empty;
    }
    this.table_count++;
    this.trace.emit(ev.alloc_table, this.cfg.id, pa, this.native_level(lvl), iova);
    return pa;
  }

  /**
   * Free the table at `pa` (level `lvl`, first IOVA `iova`) and every table below it. With
   * `events`, one pgtable_free_table per table (unlinks during map/unmap); free() is quieter.
   */
  free_tree(pa: number, lvl: number, iova: number, events = true): void {
    if (lvl > 0) {
      const n = this.entries(lvl);
      const esz = POW2[this.shift[lvl]];
      for (let i = 0; i < n; i++) {
        const lo = this.read_lo(pa, i);
        const hi = this.read_hi(pa, i);
        if (this.fmt.kind(lo, hi, lvl) === KIND_TABLE)
          this.free_tree(this.fmt.table_pa(lo, hi, lvl), lvl - 1, iova + i * esz, events);
      }
    }
    this.mem.free_pages(pa, this.table_alloc[lvl]);
    this.table_count--;
    if (events) this.trace.emit(ev.free_table, this.cfg.id, pa, this.native_level(lvl), iova);
  }

  /** Whether the table at `pa` (level `lvl`) or any table below it holds a leaf. */
  private maps_anything(pa: number, lvl: number): boolean {
    const n = this.entries(lvl);
    for (let i = 0; i < n; i++) {
      const lo = this.read_lo(pa, i);
      const hi = this.read_hi(pa, i);
      const k = this.fmt.kind(lo, hi, lvl);
      if (k === KIND_LEAF) return true;
      if (k === KIND_TABLE && lvl > 0 && this.maps_anything(this.fmt.table_pa(lo, hi, lvl), lvl - 1))
        return true;
    }
    return false;
  }

  /** Unlink-and-free a table entry at `idx` of `table` (level `lvl`): clears the entry first. */
  unlink_table(table: number, idx: number, lvl: number, entry_iova: number): void {
    const lo = this.read_lo(table, idx);
    const hi = this.read_hi(table, idx);
    const child = this.fmt.table_pa(lo, hi, lvl);
    this.clear_entries(table, idx, 1, lvl);
    const size = POW2[this.shift[lvl]];
    this.flush?.tlb_flush_walk(entry_iova, size, POW2[this.shift[0]]);
    this.free_tree(child, lvl - 1, entry_iova);
  }

  /** `same`: the entries in the way held exactly what was written over them (nothing changed). */
  emit_pte_exists(iova: number, lvl: number, action: string, same = false): void {
    this.trace.emit(
      ev.pte_exists,
      this.cfg.id,
      iova,
      this.native_level(lvl),
      this.trace.str(action),
      same ? 1 : 0,
    );
  }

  /** Whether the entry (lo, hi) is the leaf write_run would write for `pa` with these attributes. */
  private holds_leaf(lo: number, hi: number, pa: number, attr_lo: number, attr_hi: number): boolean {
    const plo = pa >>> 0;
    const phi = (pa - plo) / TWO32;
    return (
      lo >>> 0 === (this.fmt.addr_lo(plo, phi) | attr_lo) >>> 0 &&
      hi >>> 0 === (this.fmt.addr_hi(phi) | attr_hi) >>> 0
    );
  }

  emit_partial(iova: number, size: number, leaf_size: number, action: string): void {
    this.trace.emit(ev.partial_unmap, this.cfg.id, iova, size, leaf_size, this.trace.str(action));
  }

  emit_hole(iova: number, lvl: number): void {
    this.trace.emit(ev.unmap_hole, this.cfg.id, iova, this.native_level(lvl));
  }

  /** Record that [iova, iova+size) changed; contiguous ranges are reported as one pte_changed. */
  note_changed(iova: number, size: number): void {
    if (this.c_end >= 0 && iova === this.c_end) {
      this.c_end = iova + size;
      return;
    }
    this.flush_changed();
    this.c_start = iova;
    this.c_end = iova + size;
  }

  flush_changed(): void {
    if (this.c_end >= 0) {
      this.flush?.pte_changed(this.c_start, this.c_end - this.c_start, this.c_table);
      this.c_end = -1;
    }
  }

  /** Record `size` bytes cleared at `iova` in a table at `lvl` (coalesced into pgtable_unmap events). */
  note_unmapped(iova: number, size: number, lvl: number): void {
    if (this.u_end >= 0 && iova === this.u_end && size === this.u_size && lvl === this.u_lvl) {
      this.u_count++;
      this.u_end = iova + size;
      return;
    }
    this.flush_unmapped();
    this.u_iova = iova;
    this.u_size = size;
    this.u_count = 1;
    this.u_lvl = lvl;
    this.u_end = iova + size;
  }

  flush_unmapped(): void {
    if (this.u_end >= 0) {
      this.trace.emit(
        ev.unmap,
        this.cfg.id,
        this.u_iova,
        this.u_size,
        this.u_count,
        this.native_level(this.u_lvl),
      );
      this.u_end = -1;
    }
  }

  // ── map ───────────────────────────────────────────────────────────────────────────────────────

  /** The engine's map: runs of leaves, one walk per table. */
  map_generic(iova: number, paddr: number, pgsize: number, pgcount: number, prot: number): MapPagesResult {
    const fmt = this.fmt;
    const chk = fmt.check_map(this, iova, paddr, pgsize, pgcount, prot);
    if (chk === MAP_NOTHING) return { ret: 0, mapped: 0 };
    if (chk < 0) return { ret: chk, mapped: 0 };
    let lg2 = round_lg2(pgsize);
    let lvl = this.leaf_level(lg2);
    if (lvl < 0 && !fmt.chooses_leaf_size) return { ret: -EINVAL, mapped: 0 };
    // Linux BUGs or writes garbage on a misaligned call; the core never makes one.
    if (!this.aligned(iova, pgsize) || !this.aligned(paddr, pgsize)) return { ret: -EINVAL, mapped: 0 };
    const total = pgsize * pgcount;
    let done = 0;
    let ret = 0;
    if (this.max_levels > this.levels && total > 0) {
      ret = this.grow(iova + total - 1, lvl);
      if (ret < 0) return { ret, mapped: 0 };
    }
    const cover = this.limit;
    this.c_table = this;
    while (done < total) {
      const cur = iova + done;
      const cpa = paddr + done;
      if (fmt.chooses_leaf_size) {
        lvl = this.choose_leaf_level(cur, cpa, total - done);
        lg2 = this.shift[lvl];
      }
      const ls = POW2[lg2];
      if (cur < this.iova_bias || cur + ls > cover) {
        ret = -ERANGE;
        break;
      }
      const table = this.walk_alloc(cur, lvl);
      if (table < 0 && table !== WALK_KEEP) {
        ret = table;
        break;
      }
      if (table === WALK_KEEP) {
        this.set_iova(cur);
        this.wa_idx = this.index(lvl);
      }
      const idx = this.wa_idx;
      const n = POW2[lg2 - this.shift[lvl]];
      const fit = Math.floor((this.entries(lvl) - idx) / n);
      let run = Math.min(fit, (total - done) / ls);
      if (fmt.one_leaf_per_call) run = 1;
      if (table === WALK_KEEP) {
        // The format keeps a larger leaf found on the way down (VT-d: Linux walks into its data).
        this.emit_pte_exists(cur, lvl + 1, 'into-leaf');
      } else {
        const r = this.write_run(table * 4096, lvl, idx, cur, cpa, lg2, n, run, prot);
        if (r < 0) {
          ret = r;
          break;
        }
      }
      done += run * ls;
      if (fmt.run_stops_at_table_end || fmt.one_leaf_per_call) break;
    }
    this.flush_changed();
    this.c_table = null;
    if (ret < 0 && fmt.on_error_mapped !== 0) {
      if (fmt.on_error_mapped === ON_ERROR_ROLLBACK && done > 0) this.clear_mapped(iova, done);
      if (fmt.on_error_mapped === ON_ERROR_ZERO || fmt.on_error_mapped === ON_ERROR_ROLLBACK) done = 0;
    }
    return { ret, mapped: done };
  }

  /** VT-d's hardware_largepage_caps: the largest superpage level the alignment and length allow. */
  private choose_leaf_level(iova: number, pa: number, left: number): number {
    let best = 0;
    for (let lvl = 1; lvl < this.levels; lvl++) {
      if (!this.leaf_mask[lvl]) break;
      const sz = POW2[this.shift[lvl]];
      if (!this.aligned(iova, sz) || !this.aligned(pa, sz) || left < sz) break;
      best = lvl;
    }
    return best;
  }

  /** Invalidate [iova, iova+size) leaf by leaf (s390's undo after a failed map). */
  private clear_mapped(iova: number, size: number): void {
    let cur = iova;
    while (cur < iova + size) {
      if (this.find(cur) !== KIND_LEAF) {
        cur += POW2[this.shift[0]];
        continue;
      }
      const lg2 = this.found_lg2();
      const n = POW2[lg2 - this.shift[this.f_lvl]];
      this.clear_entries(this.f_table, this.f_idx - (this.f_idx % n), n, this.f_lvl);
      cur = this.align_iova(cur, POW2[lg2]) + POW2[lg2];
    }
  }

  /**
   * Walk down to the table at `target` for `iova`, allocating missing tables. Returns the table's
   * frame (pa / 4096), -errno, or WALK_KEEP when the format keeps a leaf found on the way. Leaves
   * the index of `iova` in that table in `wa_idx`.
   */
  walk_alloc(iova: number, target: number): number {
    const fmt = this.fmt;
    const mem = this.mem;
    const wpe = this.wpe;
    this.set_iova(iova);
    let frame = this.root_frame;
    for (let lvl = this.levels - 1; lvl > target; lvl--) {
      const idx = this.index(lvl);
      const arr = mem.view_frame_w(frame);
      const o = mem.view_off + idx * wpe;
      const lo = arr[o];
      const hi = wpe === 2 ? arr[o + 1] : 0;
      const k = fmt.kind(lo, hi, lvl);
      if (k === KIND_TABLE) {
        frame = fmt.table_frame(lo, hi, lvl);
        continue;
      }
      if (k === KIND_BAD) return -ENOMEM; // amd-v1: "no level skipping support yet" → alloc_pte fails
      const table = frame * 4096;
      if (k === KIND_LEAF) {
        const pol = fmt.leaf_above_policy(lvl);
        if (pol === POLICY_EEXIST) {
          this.emit_pte_exists(iova, lvl, 'eexist');
          return -EEXIST;
        }
        if (pol === POLICY_KEEP) return WALK_KEEP;
        const lg2 = fmt.leaf_lg2(lo, hi, lvl, this.shift[lvl]);
        const n = POW2[lg2 - this.shift[lvl]];
        this.clear_entries(table, idx - (idx % n), n, lvl);
        const lsize = POW2[lg2];
        const base = this.align_iova(iova, lsize);
        this.emit_pte_exists(base, lvl, 'replaced');
        this.note_changed(base, lsize);
        this.flush?.tlb_flush_walk(base, lsize, POW2[this.shift[0]]);
      }
      const child = this.alloc_table(lvl - 1, this.align_iova(iova, POW2[this.shift[lvl]]));
      if (child === 0) return -ENOMEM;
      this.write_entry(table, idx, fmt.table_lo(child, lvl), fmt.table_hi(child, lvl));
      this.set_iova(iova);
      frame = (child / 4096) | 0;
    }
    this.wa_idx = this.index(target);
    return frame;
  }

  /**
   * Write `run` leaves of 2^lg2 bytes (each `n` replicated entries) from index `idx` of `table`.
   * Entries in the way are handled by the format's policy first. Returns run or -errno.
   */
  private write_run(
    table: number,
    lvl: number,
    idx: number,
    iova: number,
    pa: number,
    lg2: number,
    n: number,
    run: number,
    prot: number,
  ): number {
    const fmt = this.fmt;
    const mem = this.mem;
    const wpe = this.wpe;
    const count = run * n;
    const esz = POW2[this.shift[lvl]];
    let arr = mem.view_w(table);
    const base = mem.view_off + idx * wpe;
    const zero_empty = fmt.empty_is_zero;
    const attr_lo = fmt.leaf_attr_lo(prot, lvl, lg2);
    const attr_hi = fmt.leaf_attr_hi(prot, lvl, lg2);
    const ls = POW2[lg2];
    let keep = false;
    let replaced = -1;
    // Whether every entry in the way already holds exactly what is written (the same map made twice).
    let same = true;
    for (let e = 0; e < count; e++) {
      const o = base + e * wpe;
      const lo = arr[o];
      const hi = wpe === 2 ? arr[o + 1] : 0;
      if (zero_empty && lo === 0 && hi === 0) continue;
      const k = fmt.kind(lo, hi, lvl);
      if (k === KIND_EMPTY) continue;
      const pol = fmt.existing_policy(k, lvl);
      const eiova = iova + e * esz;
      if (pol === POLICY_EEXIST) {
        this.emit_pte_exists(eiova, lvl, 'eexist');
        return -EEXIST;
      }
      if (pol === POLICY_KEEP) {
        if (!keep) this.emit_pte_exists(eiova, lvl, 'kept');
        keep = true;
        continue;
      }
      // A table in the way counts as a mapping replaced only when it still maps something (VT-d
      // and amd-v1 leave empty tables behind after an unmap).
      if (k === KIND_TABLE && pol === POLICY_REPLACE) {
        if ((replaced < 0 || same) && this.maps_anything(fmt.table_pa(lo, hi, lvl), lvl - 1)) {
          if (replaced < 0) replaced = eiova;
          same = false;
        }
        this.unlink_table(table, idx + e, lvl, eiova);
        arr = mem.view_w(table);
      } else {
        if (replaced < 0) replaced = eiova;
        if (same) same = this.holds_leaf(lo, hi, pa + Math.floor(e / n) * ls, attr_lo, attr_hi);
      }
    }
    if (replaced >= 0) this.emit_pte_exists(replaced, lvl, 'replaced', same);

    const step_hi = Math.floor(ls / TWO32);
    const step_lo = ls - step_hi * TWO32;
    let plo = pa >>> 0;
    let phi = (pa - plo) / TWO32;
    let o = base;
    for (let j = 0; j < run; j++) {
      const lo = fmt.addr_lo(plo, phi) | attr_lo;
      const hi = fmt.addr_hi(phi) | attr_hi;
      for (let r = 0; r < n; r++, o += wpe) {
        if (keep) {
          const k = fmt.kind(arr[o], wpe === 2 ? arr[o + 1] : 0, lvl);
          if (k !== KIND_EMPTY) continue;
          // Only what is written changes: a kept entry's cached translation still matches it.
          this.note_changed(iova + (j * n + r) * esz, esz);
        }
        arr[o] = lo;
        if (wpe === 2) arr[o + 1] = hi;
      }
      plo += step_lo;
      if (plo >= TWO32) {
        plo -= TWO32;
        phi++;
      }
      phi += step_hi;
    }
    this.trace.emit(ev.map, this.cfg.id, iova, pa, ls, run, this.native_level(lvl));
    if (!keep) this.note_changed(iova, run * ls);
    return run;
  }

  /**
   * amd-v1's increase_address_space: add levels on top until `last` is covered and leaves at
   * `need_lvl` are possible. The old root becomes entry 0 of the new one.
   */
  private grow(last: number, need_lvl: number): number {
    while (last - this.iova_bias >= this.coverage() || this.levels - 1 < need_lvl) {
      if (this.levels >= this.max_levels) return -ENOMEM;
      const lvl = this.levels;
      const top = this.alloc_table(lvl, 0);
      if (top === 0) return -ENOMEM;
      this.write_entry(top, 0, this.fmt.table_lo(this.root, lvl), this.fmt.table_hi(this.root, lvl));
      this.root = top;
      this.root_frame = (top / 4096) | 0;
      this.levels++;
      this.update_limit();
      this.trace.emit(ev.increase_top, this.cfg.id, top, this.levels);
      this.flush?.root_changed?.(top, this.levels);
    }
    return 0;
  }

  /**
   * VT-d's prepare_domain_attach_device ("Knock out extra levels of page tables"): down to `levels`,
   * the table entry 0 points to becomes the root and the old top page is freed; with entry 0 empty
   * the page stays and serves one level lower (it is empty: a mapping above the new width refuses
   * the attach first). For formats whose levels are all one page of the same entries.
   */
  knock_out_top(levels: number): void {
    while (this.levels > levels) {
      const lvl = this.levels - 1;
      const lo = this.read_lo(this.root, 0);
      const hi = this.read_hi(this.root, 0);
      if (this.fmt.kind(lo, hi, lvl) === KIND_TABLE) {
        const old = this.root;
        this.root = this.fmt.table_pa(lo, hi, lvl);
        this.root_frame = (this.root / 4096) | 0;
        this.mem.free_pages(old, this.table_alloc[lvl]);
        this.table_count--;
        this.trace.emit(ev.free_table, this.cfg.id, old, this.native_level(lvl), this.iova_bias);
      }
      this.levels--;
      this.update_limit();
    }
  }

  // ── unmap ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * io-pgtable-arm's unmap: descend to the level of `pgsize` and clear up to `pgcount` entries
   * in that one table; a table found there is freed whole; a larger leaf on the way is split
   * (cfg.split_blocks_on_partial_unmap) or refused with 0.
   */
  unmap_by_size(iova: number, pgsize: number, pgcount: number, gather: unknown): number {
    const lg2 = this.pgsize_lg2(pgsize);
    if (lg2 < 0) return 0;
    if (iova < this.iova_bias || iova >= this.limit || !this.aligned(iova, pgsize)) return 0;
    const target = this.leaf_level(lg2);
    if (target < 0) return 0;
    return this.unmap_by_size_from(this.root, this.levels - 1, target, iova, pgsize, pgcount, gather);
  }

  private unmap_by_size_from(
    table: number,
    top: number,
    target: number,
    iova: number,
    pgsize: number,
    pgcount: number,
    gather: unknown,
  ): number {
    const fmt = this.fmt;
    const mem = this.mem;
    const wpe = this.wpe;
    this.set_iova(iova);
    let frame = (table / 4096) | 0;
    for (let lvl = top; lvl > target; lvl--) {
      const idx = this.index(lvl);
      const arr = mem.view_frame(frame);
      const o = mem.view_off + idx * wpe;
      const lo = arr[o];
      const hi = wpe === 2 ? arr[o + 1] : 0;
      const k = fmt.kind(lo, hi, lvl);
      if (k === KIND_TABLE) {
        frame = fmt.table_frame(lo, hi, lvl);
        continue;
      }
      if (k !== KIND_LEAF) {
        this.emit_hole(iova, lvl);
        return 0;
      }
      const lsize = POW2[fmt.leaf_lg2(lo, hi, lvl, this.shift[lvl])];
      if (this.cfg.split_blocks_on_partial_unmap)
        return this.split_blk_unmap(frame * 4096, idx, lvl, iova, pgsize, pgcount, gather);
      // v6.13+: "Unmap of a partial large IOPTE is not allowed"
      this.emit_partial(iova, pgsize * pgcount, lsize, 'refused');
      return 0;
    }
    const pa = frame * 4096;
    const idx = this.index(target);
    const num = Math.min(pgcount, this.entries(target) - idx);
    const arr0 = this.mem.view_w(pa);
    const base = this.mem.view_off + idx * this.wpe;
    // Before v6.12 only leaves are gathered: a freed table's walk is flushed by unlink_table.
    const gather_all = this.cfg.gather_tables_on_unmap;
    let i = 0;
    for (; i < num; i++) {
      const o = base + i * this.wpe;
      const lo = arr0[o];
      const hi = this.wpe === 2 ? arr0[o + 1] : 0;
      const k = fmt.kind(lo, hi, target);
      if (k === KIND_EMPTY) {
        this.emit_hole(iova + i * pgsize, target);
        break;
      }
      if (k === KIND_TABLE) this.unlink_table(pa, idx + i, target, iova + i * pgsize);
      else if (!gather_all) this.flush?.tlb_add_page(gather, iova + i * pgsize, pgsize);
    }
    if (i === 0) return 0;
    this.clear_entries(pa, idx, i, target);
    if (gather_all && this.flush)
      for (let j = 0; j < i; j++) this.flush.tlb_add_page(gather, iova + j * pgsize, pgsize);
    this.trace.emit(ev.unmap, this.cfg.id, iova, pgsize, i, this.native_level(target));
    this.flush?.pte_changed(iova, i * pgsize);
    return i * pgsize;
  }

  /**
   * arm_lpae_split_blk_unmap: replace the block at `idx` of `table` (level `lvl`) by a table of
   * the next level's leaves minus the part being unmapped, then carry on below.
   */
  private split_blk_unmap(
    table: number,
    idx: number,
    lvl: number,
    iova: number,
    pgsize: number,
    pgcount: number,
    gather: unknown,
  ): number {
    const fmt = this.fmt;
    const lo = this.read_lo(table, idx);
    const hi = this.read_hi(table, idx);
    const blk_lg2 = fmt.leaf_lg2(lo, hi, lvl, this.shift[lvl]);
    const blk_size = POW2[blk_lg2];
    const blk_pa = fmt.leaf_pa(lo, hi, lvl, blk_lg2);
    const prot = fmt.leaf_prot(lo, hi, lvl);
    const blk_iova = this.align_iova(iova, blk_size);
    const child_lvl = lvl - 1;
    const split_lg2 = this.shift[child_lvl];
    const split_sz = POW2[split_lg2];
    const child = this.alloc_table(child_lvl, blk_iova);
    if (child === 0) return 0;
    this.set_iova(iova);
    let start = -1;
    let num = 0;
    if (pgsize === split_sz) {
      start = this.index(child_lvl);
      num = Math.min(pgcount, this.entries(child_lvl) - start);
    }
    const alo = fmt.leaf_attr_lo(prot, child_lvl, split_lg2);
    const ahi = fmt.leaf_attr_hi(prot, child_lvl, split_lg2);
    const n = this.entries(child_lvl);
    for (let i = 0; i < n; i++) {
      if (start >= 0 && i >= start && i < start + num) continue;
      const p = blk_pa + i * split_sz;
      const plo = p >>> 0;
      const phi = (p - plo) / TWO32;
      this.write_entry(child, i, fmt.addr_lo(plo, phi) | alo, fmt.addr_hi(phi) | ahi);
    }
    this.write_entry(table, idx, fmt.table_lo(child, lvl), fmt.table_hi(child, lvl));
    this.trace.emit(ev.split_blk, this.cfg.id, blk_iova, blk_size, this.native_level(lvl), child);
    this.emit_partial(iova, pgsize * pgcount, blk_size, 'split');
    this.flush?.pte_changed(blk_iova, blk_size);
    if (start >= 0) {
      if (this.flush)
        for (let j = 0; j < num; j++) this.flush.tlb_add_page(gather, iova + j * pgsize, pgsize);
      this.trace.emit(ev.unmap, this.cfg.id, iova, pgsize, num, this.native_level(child_lvl));
      return num * pgsize;
    }
    return this.unmap_by_size_from(
      child,
      child_lvl,
      this.leaf_level(Math.log2(pgsize)),
      iova,
      pgsize,
      pgcount,
      gather,
    );
  }

  /**
   * VT-d's intel_iommu_unmap: the size grows to the leaf (or hole) found at `iova`, then every
   * entry wholly inside [iova, iova+size) is cleared and every table wholly inside is freed.
   * Returns that size, hole or not.
   */
  unmap_range(iova: number, pgsize: number, pgcount: number, gather: unknown): number {
    let size = pgsize * pgcount;
    const cover = this.limit;
    if (iova < this.iova_bias || iova >= cover) return 0; // pfn_to_dma_pte: beyond the domain's width
    // Nothing mapped at iova: the size is still the level's where the walk stopped.
    this.hole_noted = this.find(iova) !== KIND_LEAF;
    if (this.hole_noted) this.emit_hole(iova, this.f_lvl);
    const lsize = POW2[this.shift[this.f_lvl]];
    if (size < lsize) size = lsize;
    const last = iova + size - 1;
    // domain_unmap WARNs and clears nothing past the width, but intel_iommu_unmap still returns size.
    if (last < cover) {
      this.clear_range(this.root, this.levels - 1, this.iova_bias, iova, last);
      this.flush_unmapped();
      this.flush_changed();
    }
    this.flush?.tlb_add_page(gather, iova, size);
    return size;
  }

  private clear_range(table: number, lvl: number, tbase: number, start: number, last: number): void {
    const fmt = this.fmt;
    const esz = POW2[this.shift[lvl]];
    const n = this.entries(lvl);
    let idx = start > tbase ? Math.floor((start - tbase) / esz) : 0;
    for (; idx < n; idx++) {
      const eb = tbase + idx * esz;
      if (eb > last) break;
      const lo = this.read_lo(table, idx);
      const hi = this.read_hi(table, idx);
      const k = fmt.kind(lo, hi, lvl);
      if (k === KIND_EMPTY) {
        // A hole inside the range is cleared like a page and counted in the size returned.
        if (!this.hole_noted) this.emit_hole(Math.max(start, eb), lvl);
        this.hole_noted = true;
        continue;
      }
      const covered = start <= eb && last >= eb + esz - 1;
      if (covered) {
        if (k === KIND_TABLE) this.unlink_table(table, idx, lvl, eb);
        else this.clear_entries(table, idx, 1, lvl);
        this.note_unmapped(eb, esz, lvl);
        this.note_changed(eb, esz);
      } else if (k === KIND_TABLE) {
        this.clear_range(fmt.table_pa(lo, hi, lvl), lvl - 1, eb, start, last);
      } else {
        // Linux would descend into the superpage's memory as if it were a table; the lab leaves it.
        this.emit_partial(
          Math.max(start, eb),
          Math.min(last, eb + esz - 1) - Math.max(start, eb) + 1,
          esz,
          'ignored',
        );
      }
    }
  }

  /**
   * amd-v1's unmap: leaf by leaf from `iova`, each cleared whole (all its replicated entries) and
   * counted at its full size. May return more than asked. fetch_pte checks presence only above the
   * last level, so an empty entry in an existing last-level table is "unmapped" and counted like a
   * page; the walk stops only at a hole higher up (no table there).
   */
  unmap_per_leaf(iova: number, pgsize: number, pgcount: number, gather: unknown): number {
    const size = pgsize * pgcount;
    let unmapped = 0;
    let cur = iova;
    while (unmapped < size) {
      const k = this.find(cur);
      if (k !== KIND_LEAF) {
        this.emit_hole(cur, this.f_lvl);
        if (k !== KIND_EMPTY || this.f_lvl !== 0 || this.f_table === 0) break;
        const page = POW2[this.shift[0]];
        unmapped += page;
        cur = this.align_iova(cur, page) + page;
        continue;
      }
      const lg2 = this.found_lg2();
      const lsize = POW2[lg2];
      const n = POW2[lg2 - this.shift[this.f_lvl]];
      this.clear_entries(this.f_table, this.f_idx - (this.f_idx % n), n, this.f_lvl);
      const base = this.align_iova(cur, lsize);
      if (base !== cur || lsize > size - unmapped) this.emit_partial(cur, size - unmapped, lsize, 'whole');
      this.flush?.tlb_add_page(gather, base, lsize);
      this.note_unmapped(base, lsize, this.f_lvl);
      this.note_changed(base, lsize);
      unmapped += lsize;
      cur = base + lsize;
    }
    this.flush_unmapped();
    this.flush_changed();
    return unmapped;
  }

  // ── lookups ───────────────────────────────────────────────────────────────────────────────────

  iova_to_phys_generic(iova: number): number {
    const w = this.wr;
    if (!this.walk(iova, w)) return 0;
    if (this.fmt.iova_to_phys_page_only) return w.pa_base;
    return w.pa_base + (iova - w.iova_base);
  }

  private check_live(): void {
    if (this.root === 0) throw new Error('io-pgtable: the table was freed');
  }
}
