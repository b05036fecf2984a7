/**
 * OMAP IOMMU tables (drivers/iommu/omap-iommu.c, omap-iopgtable.h; facts §5.2): the Arm
 * short-descriptor layout with 32-bit IOVAs.
 * - L1: 4096 × 4 bytes (16 KiB, 16 KiB aligned), one per 1 MiB: bits[1:0] 01 = L2 table
 *   (address bits 31:10), 10 = section (bits 31:20), section with bit 18 = supersection (bits
 *   31:24) written as 16 identical entries;
 * - L2: 256 × 4 bytes (1 KiB; the lab gives each a 4 KiB page), one per 4 KiB: 10 = small page
 *   (bits 31:12), 01 = large page (bits 31:16) written as 16 identical entries.
 * The attribute bits (endianness, element size, mixed) are 0 as the driver programs them; there
 * are no permission bits, so every mapping reads and writes.
 *
 * Behaviour read in omap-iommu.c:
 * - map_pages/unmap_pages handle one page per call (the core loops); iova and paddr are u32;
 * - a store overwrites whatever entry is there; a section stored over an L2 table pointer leaves
 *   the L2 table allocated and unreachable (a leak, as in Linux);
 * - unmap (iopgtable_clear_entry) clears the one entry covering iova — rewinding to the first of
 *   16 for a large page or supersection — and returns its size even when the L2 entry was already
 *   empty (reported as a pgtable_unmap_hole); an empty L1 entry returns 0; an L2 table left empty
 *   is freed.
 * Where Linux writes a small page into a section's memory as if it were an L2 table, the lab
 * replaces the section by a new L2 table instead.
 */
import {
  KIND_EMPTY,
  KIND_LEAF,
  KIND_TABLE,
  PgtableFormat,
  POLICY_REPLACE,
  POLICY_REPLACE_LEAK,
  type Geometry,
} from '../format.ts';
import type { IoPgtable } from '../io-pgtable.ts';
import { bitmap_and } from '../bitmap.ts';
import {
  EINVAL,
  IOMMU_READ,
  IOMMU_WRITE,
  type DecodedEntry,
  type IoPgtableCfg,
  type MapPagesResult,
} from '../types.ts';
import { ev } from '../trace-events.ts';

const IOPGD_TABLE = 1;
const IOPGD_SECTION = 2;
const IOPGD_SUPER = (1 << 18) | 2;
const IOPTE_SMALL = 2;
const IOPTE_LARGE = 1;
const SIZES = 0x1000 + 0x1_0000 + 0x10_0000 + 0x100_0000; // 4K | 64K | 1M | 16M

export class OmapFormat extends PgtableFormat {
  readonly name = 'omap';
  /** The MMU's TTB register and the L1 descriptors hold 32-bit addresses (kzalloc on 32-bit Arm is below 4 GiB). */
  override readonly table_limit = 0x1_0000_0000;
  readonly pte_bytes = 4;
  override readonly one_leaf_per_call = true;

  setup(cfg: IoPgtableCfg): Geometry {
    cfg.ias = 32;
    cfg.oas = 32;
    const bitmap = cfg.pgsize_bitmap === 0 ? SIZES : bitmap_and(cfg.pgsize_bitmap, SIZES);
    if (bitmap === 0) throw new RangeError('omap: none of the requested page sizes is supported');
    return {
      levels: 2,
      max_levels: 2,
      shift: [12, 20],
      bits: [8, 12],
      // bit 0: one entry, bit 4: 16 replicated entries
      leaf_mask: [0x11, 0x11],
      table_alloc: [4096, 16384],
      iova_bias: 0,
      pgsize_bitmap: bitmap,
    };
  }

  kind(lo: number, _hi: number, lvl: number): number {
    const t = lo & 3;
    if (lvl === 1) return t === IOPGD_TABLE ? KIND_TABLE : t === IOPGD_SECTION ? KIND_LEAF : KIND_EMPTY;
    return t === 0 ? KIND_EMPTY : KIND_LEAF;
  }

  table_pa(lo: number, _hi: number, _lvl: number): number {
    return (lo & ~0x3ff) >>> 0;
  }

  override leaf_lg2(lo: number, _hi: number, lvl: number, _shift: number): number {
    if (lvl === 1) return (lo & IOPGD_SUPER) === IOPGD_SUPER ? 24 : 20;
    return (lo & 3) === IOPTE_LARGE ? 16 : 12;
  }

  leaf_pa(lo: number, _hi: number, _lvl: number, lg2: number): number {
    return (lo & -(1 << lg2)) >>> 0;
  }

  leaf_prot(_lo: number, _hi: number, _lvl: number): number {
    return IOMMU_READ | IOMMU_WRITE;
  }

  describe(lo: number, hi: number, lvl: number, _shift: number): DecodedEntry {
    const k = this.kind(lo, hi, lvl);
    const bits: Record<string, number> = { type: lo & 3 };
    if (k === KIND_EMPTY) return { type: 'invalid', pa: 0, prot: 0, size: 0, bits };
    if (k === KIND_TABLE) {
      bits.address = this.table_pa(lo, hi, lvl);
      return { type: 'table', pa: bits.address, prot: 0, size: 0, bits };
    }
    const lg2 = this.leaf_lg2(lo, hi, lvl, 0);
    if (lvl === 1) bits.supersection = (lo >>> 18) & 1;
    else bits.large = (lo & 3) === IOPTE_LARGE ? 1 : 0;
    bits.address = this.leaf_pa(lo, hi, lvl, lg2);
    return {
      type: lvl === 0 ? 'page' : 'block',
      pa: bits.address,
      prot: this.leaf_prot(lo, hi, lvl),
      size: 2 ** lg2,
      bits,
    };
  }

  native_level(lvl: number, _levels: number): number {
    return lvl === 1 ? 1 : 2;
  }

  table_lo(pa: number, _lvl: number): number {
    return (pa & ~0x3ff) | IOPGD_TABLE;
  }

  override table_hi(_pa: number, _lvl: number): number {
    return 0;
  }

  leaf_attr_lo(_prot: number, lvl: number, lg2: number): number {
    if (lvl === 1) return lg2 === 24 ? IOPGD_SUPER : IOPGD_SECTION;
    return lg2 === 16 ? IOPTE_LARGE : IOPTE_SMALL;
  }

  override addr_hi(_pa_hi: number): number {
    return 0;
  }

  override existing_policy(kind: number, _lvl: number): number {
    return kind === KIND_TABLE ? POLICY_REPLACE_LEAK : POLICY_REPLACE;
  }

  override leaf_above_policy(_lvl: number): number {
    return POLICY_REPLACE;
  }

  /** omap_iommu_map: bytes_to_iopgsz fails for other sizes (-EINVAL); prot is not looked at. */
  override check_map(
    _pt: IoPgtable,
    _iova: number,
    _paddr: number,
    pgsize: number,
    _pgcount: number,
    _prot: number,
  ): number {
    return pgsize === 0x1000 || pgsize === 0x1_0000 || pgsize === 0x10_0000 || pgsize === 0x100_0000
      ? 0
      : -EINVAL;
  }

  /** The driver's da and pa are u32: higher bits are dropped. */
  override map(
    pt: IoPgtable,
    iova: number,
    paddr: number,
    pgsize: number,
    pgcount: number,
    prot: number,
  ): MapPagesResult {
    return pt.map_generic(iova >>> 0, paddr >>> 0, pgsize, pgcount, prot);
  }

  override iova_to_phys(pt: IoPgtable, iova: number): number {
    return pt.iova_to_phys_generic(iova >>> 0);
  }

  /** iopgtable_clear_entry: one entry (or its 16 copies) per call, whatever the size asked. */
  override unmap(pt: IoPgtable, iova: number, _pgsize: number, _pgcount: number, gather: unknown): number {
    const da = iova >>> 0;
    pt.set_iova(da);
    const i1 = pt.index(1);
    const l1 = pt.read_lo(pt.root, i1);
    const k1 = this.kind(l1, 0, 1);
    if (l1 === 0) {
      pt.emit_hole(da, 1);
      return 0;
    }
    let bytes: number;
    let base: number;
    let lvl: number;
    if (k1 === KIND_TABLE) {
      const l2 = this.table_pa(l1, 0, 1);
      const i2 = pt.index(0);
      const l2e = pt.read_lo(l2, i2);
      // An empty L2 entry is cleared like a 4K page and its size returned, so the core sees a whole
      // unmap: the hole is told in the trace for the unmap-of-hole check, as for VT-d and amd-v1.
      if (l2e === 0) pt.emit_hole(da - (da % 0x1000), 0);
      const large = (l2e & 3) === IOPTE_LARGE;
      const n = large ? 16 : 1;
      bytes = large ? 0x1_0000 : 0x1000;
      base = da - (da % bytes);
      lvl = 0;
      pt.clear_entries(l2, i2 - (i2 % n), n, 0);
      let empty = true;
      for (let i = 0; i < 256 && empty; i++) if (pt.read_lo(l2, i) !== 0) empty = false;
      if (empty) pt.unlink_table(pt.root, i1, 1, da - (da % 0x10_0000));
    } else {
      const sup = (l1 & IOPGD_SUPER) === IOPGD_SUPER;
      const n = sup ? 16 : 1;
      bytes = sup ? 0x100_0000 : 0x10_0000;
      base = da - (da % bytes);
      lvl = 1;
      pt.clear_entries(pt.root, i1 - (i1 % n), n, 1);
    }
    pt.flush?.tlb_add_page(gather, base, bytes);
    pt.flush?.pte_changed(base, bytes);
    pt.trace.emit(ev.unmap, pt.cfg.id, base, bytes, 1, pt.native_level(lvl));
    return bytes;
  }
}

export const OMAP = new OmapFormat();
