/**
 * What a page-table format tells the engine, in the spirit of Linux's generic_pt format headers:
 * the geometry (levels, index bits, leaf sizes), the descriptor encoding both ways, and the few
 * rules where real formats disagree (what happens on a remap, on a partial unmap, on a hole).
 *
 * A format is a class whose instances hold no state after construction (marked STATIC for
 * checkpoints); every IoPgtable keeps a reference to one.
 */
import { STATIC } from '../trace/deep-clone.ts';
import type { IoPgtable } from './io-pgtable.ts';
import {
  EINVAL,
  ERANGE,
  IOMMU_READ,
  IOMMU_WRITE,
  type DecodedEntry,
  type IoPgtableCfg,
  type MapPagesResult,
} from './types.ts';

/** Entry kinds as `kind()` reports them. */
export const KIND_EMPTY = 0;
export const KIND_TABLE = 1;
export const KIND_LEAF = 2;
/** Present but unusable (amd-v1: a NextLevel that skips levels). Walks fault on it. */
export const KIND_BAD = 3;

/** What to do with an entry that is in the way of a new leaf. */
export const POLICY_EEXIST = 0;
/** Keep the old entry, warn, and go on as if mapped (VT-d's "PTE already set"). */
export const POLICY_KEEP = 1;
/** Clear it (free the tables below it) and write the new leaf. */
export const POLICY_REPLACE = 2;
/** Overwrite a table pointer without freeing the table (omap: the L2 table leaks). */
export const POLICY_REPLACE_LEAK = 3;

/** check_map's answer for "map nothing and return 0" (old io-pgtable-arm with prot 0). */
export const MAP_NOTHING = 1;

export const UNMAP_BY_SIZE = 0;
export const UNMAP_RANGE = 1;
export const UNMAP_PER_LEAF = 2;

export const ON_ERROR_PARTIAL = 0;
export const ON_ERROR_ZERO = 1;
export const ON_ERROR_ROLLBACK = 2;

/** The shape of a table tree, bottom-up: index 0 is the level of the smallest leaves. */
export interface Geometry {
  /** Levels a new table has. */
  levels: number;
  /** Levels it may grow to (amd-v1); equal to `levels` elsewhere. */
  max_levels: number;
  /** Per level: log2 of the bytes one entry maps. */
  shift: number[];
  /** Per level: index bits (2^bits entries; the top table may have fewer than the others). */
  bits: number[];
  /** Per level: bit k set = a leaf of 2^(shift + k) bytes (2^k replicated entries) may sit here. */
  leaf_mask: number[];
  /** Per level: bytes the allocator gives a table (a multiple of 4 KiB) and its alignment. */
  table_alloc: number[];
  /** IOVA the index starts from (gart's aperture start; 0 elsewhere). */
  iova_bias: number;
  /** Bytes of IOVA accepted from iova_bias when less than the tree covers (gart's aperture size). */
  span?: number;
  /** Page sizes this configuration can map. */
  pgsize_bitmap: number;
}

export abstract class PgtableFormat {
  declare readonly [STATIC]: true;

  abstract readonly name: string;
  abstract readonly pte_bytes: 4 | 8;

  // ── rules (overridden by the formats that differ) ──────────────────────────────────────────
  /** io-pgtable-arm fills at most one table per map_pages/unmap_pages call; the core loops. */
  readonly run_stops_at_table_end: boolean = false;
  /** Legacy single-page ops (omap, gart): one leaf per call whatever pgcount says. */
  readonly one_leaf_per_call: boolean = false;
  /** VT-d picks superpages itself from alignment, whatever pgsize the caller passed. */
  readonly chooses_leaf_size: boolean = false;
  /** What `mapped` says after an error. */
  readonly on_error_mapped: number = ON_ERROR_PARTIAL;
  readonly unmap_mode: number = UNMAP_BY_SIZE;
  /** iova_to_phys returns the page's address without the offset (gart, s390). */
  readonly iova_to_phys_page_only: boolean = false;
  /** Tables must lie below this physical address (descriptors that hold 32-bit table addresses: omap). */
  readonly table_limit: number = Infinity;
  /** An empty entry is all zeros (s390 marks empty entries with an invalid bit instead). */
  readonly empty_is_zero: boolean = true;

  /** Check and complete the configuration (RangeError on impossible values) and derive the geometry. */
  abstract setup(cfg: IoPgtableCfg): Geometry;

  // ── decoding ───────────────────────────────────────────────────────────────────────────────
  abstract kind(lo: number, hi: number, lvl: number): number;
  abstract table_pa(lo: number, hi: number, lvl: number): number;
  /**
   * The next table's frame number (pa / 4096). Walks use frames so they stay in 32-bit integer
   * arithmetic; formats override this with a few bit operations.
   */
  table_frame(lo: number, hi: number, lvl: number): number {
    return Math.floor(this.table_pa(lo, hi, lvl) / 4096);
  }
  /** Output address of a leaf, aligned to its size. */
  abstract leaf_pa(lo: number, hi: number, lvl: number, lg2: number): number;
  /** log2 of the bytes a leaf maps; `shift` is the level's entry size. */
  leaf_lg2(_lo: number, _hi: number, _lvl: number, shift: number): number {
    return shift;
  }
  abstract leaf_prot(lo: number, hi: number, lvl: number): number;
  /** Panels: every field by its specification name. */
  abstract describe(lo: number, hi: number, lvl: number, shift: number): DecodedEntry;
  /** The format's own number for engine level `lvl` (0 = smallest leaves) in a tree of `levels`. */
  abstract native_level(lvl: number, levels: number): number;

  // ── encoding ───────────────────────────────────────────────────────────────────────────────
  abstract table_lo(pa: number, lvl: number): number;
  table_hi(pa: number, _lvl: number): number {
    return Math.floor(pa / 0x1_0000_0000);
  }
  /** Attribute bits of a leaf of 2^lg2 bytes at `lvl`, ORed with the address words. */
  abstract leaf_attr_lo(prot: number, lvl: number, lg2: number): number;
  leaf_attr_hi(_prot: number, _lvl: number, _lg2: number): number {
    return 0;
  }
  /** Address bits of the low word for a (size-aligned) pa given as 32-bit halves. */
  addr_lo(pa_lo: number, _pa_hi: number): number {
    return pa_lo;
  }
  addr_hi(pa_hi: number): number {
    return pa_hi;
  }
  /** What an entry becomes when cleared (s390 keeps the address and sets the invalid bit). */
  clear_lo(_lo: number, _lvl: number): number {
    return 0;
  }
  clear_hi(_hi: number, _lvl: number): number {
    return 0;
  }
  /** The value a new table's entries start with. */
  empty_lo(_lvl: number): number {
    return 0;
  }

  // ── rules ──────────────────────────────────────────────────────────────────────────────────
  /** An entry of `kind` sits where a new leaf goes at `lvl`. */
  existing_policy(_kind: number, _lvl: number): number {
    return POLICY_EEXIST;
  }
  /** Descending to a lower level, a leaf is found at `lvl`. */
  leaf_above_policy(_lvl: number): number {
    return POLICY_EEXIST;
  }

  /**
   * Argument checks of map_pages, in the format's order: 0 to go on, -errno, or MAP_NOTHING.
   * The default is io-pgtable's: a size not in the bitmap, then the address range, then prot.
   */
  check_map(
    pt: IoPgtable,
    iova: number,
    paddr: number,
    pgsize: number,
    _pgcount: number,
    prot: number,
  ): number {
    if (pt.pgsize_lg2(pgsize) < 0) return -EINVAL;
    if (iova >= pt.ias_size || paddr >= pt.oas_size) return -ERANGE;
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -EINVAL;
    return 0;
  }

  // ── operations: the engine's by default; a format with a different algorithm overrides ─────
  map(
    pt: IoPgtable,
    iova: number,
    paddr: number,
    pgsize: number,
    pgcount: number,
    prot: number,
  ): MapPagesResult {
    return pt.map_generic(iova, paddr, pgsize, pgcount, prot);
  }
  unmap(pt: IoPgtable, iova: number, pgsize: number, pgcount: number, gather: unknown): number {
    switch (this.unmap_mode) {
      case UNMAP_RANGE:
        return pt.unmap_range(iova, pgsize, pgcount, gather);
      case UNMAP_PER_LEAF:
        return pt.unmap_per_leaf(iova, pgsize, pgcount, gather);
      default:
        return pt.unmap_by_size(iova, pgsize, pgcount, gather);
    }
  }
  iova_to_phys(pt: IoPgtable, iova: number): number {
    return pt.iova_to_phys_generic(iova);
  }
}

(PgtableFormat.prototype as { [STATIC]: boolean })[STATIC] = true;

/** 2^n for n in 0..63, exact as doubles. */
export const POW2: Float64Array = (() => {
  const a = new Float64Array(64);
  for (let i = 0; i < 64; i++) a[i] = 2 ** i;
  return a;
})();
