/**
 * AMD-Vi v1 page tables as drivers/iommu/amd/io_pgtable.c builds them (facts §5.6).
 *
 * 512 × 8-byte entries per table, 3 levels to start with (PAGE_MODE_3_LEVEL), grown on top up to
 * 6 as IOVAs need (increase_address_space: the old root becomes entry 0 of a new one).
 * Entry: bit 0 Present, bits 11:9 NextLevel, bits 51:12 address, bit 60 FC, bit 61 IR, bit 62 IW.
 * - a table entry (PDE) has NextLevel = the level of the table it points to (1 = the 4K tables),
 *   and IR|IW set (PM_LEVEL_PDE);
 * - a leaf of its level's own size has NextLevel 0;
 * - any other power-of-two size uses NextLevel 7 and is written as 2^k identical entries at level
 *   (log2(size) − 12) / 9, k = (log2(size) − 12) % 9 (PAGE_SIZE_LEVEL, PAGE_SIZE_PTE_COUNT), with the
 *   size encoded in the address bits: (pa | (size − 1)) & ~(size / 2) (PAGE_SIZE_PTE); the size is read
 *   back as 2^(1 + the first zero bit above bit 11) (PTE_PAGE_SIZE).
 *
 * Behaviour read in io_pgtable.c (iommu_v1_map_pages, alloc_pte, iommu_v1_unmap_pages):
 * - no READ or WRITE: -EINVAL;
 * - whatever sits where a leaf goes is cleared (tables freed) and overwritten — no -EEXIST;
 * - walking down through a larger leaf replaces it by a new table (its mapping is lost);
 * - a NextLevel that skips levels makes alloc_pte fail: -ENOMEM;
 * - unmap goes leaf by leaf from iova, each leaf removed whole (all its copies) and counted at its
 *   full size; an empty entry of a last-level table counts as a 4K page (fetch_pte does not check
 *   presence there), and only a missing table stops it; empty tables are never freed before the
 *   table is.
 */
import {
  KIND_BAD,
  KIND_EMPTY,
  KIND_LEAF,
  KIND_TABLE,
  POLICY_REPLACE,
  UNMAP_PER_LEAF,
  type Geometry,
} from '../format.ts';
import type { IoPgtable } from '../io-pgtable.ts';
import { Pte64AddressFormat } from './pte64-address.ts';
import { bitmap_and, genmask } from '../bitmap.ts';
import { EINVAL, IOMMU_READ, IOMMU_WRITE, type DecodedEntry, type IoPgtableCfg } from '../types.ts';

const PR = 1;
const NL_SHIFT = 9;
const NL_LARGE = 7;
const HI_FC = 1 << 28; // bit 60
const HI_IR = 1 << 29; // bit 61
const HI_IW = 1 << 30; // bit 62
const ADDR_HI_MASK = 0xfffff; // bits 51:32
const TWO32 = 0x1_0000_0000;

/** Index of the lowest zero bit of the 52-bit address field (bits 12..51), as a bit number. */
function first_zero(lo: number, hi: number): number {
  const zlo = ~(lo | 0xfff);
  if (zlo !== 0) return 31 - Math.clz32(zlo & -zlo);
  const zhi = ~hi & ADDR_HI_MASK;
  return zhi === 0 ? 52 : 32 + 31 - Math.clz32(zhi & -zhi);
}

export class AmdV1Format extends Pte64AddressFormat {
  protected readonly addr_hi_mask = ADDR_HI_MASK;
  readonly name = 'amd-v1';
  readonly pte_bytes = 8;
  override readonly unmap_mode = UNMAP_PER_LEAF;

  setup(cfg: IoPgtableCfg): Geometry {
    // IOMMU_IN_ADDR_BIT_SIZE / IOMMU_OUT_ADDR_BIT_SIZE
    if (cfg.ias === 0) cfg.ias = 52;
    if (cfg.oas === 0) cfg.oas = 52;
    if (cfg.levels === 0) cfg.levels = 3;
    if (cfg.max_levels === 0) cfg.max_levels = 6;
    if (!Number.isInteger(cfg.levels) || cfg.levels < 1 || cfg.levels > 6)
      throw new RangeError(`amd-v1: levels must be 1..6, got ${cfg.levels}`);
    if (!Number.isInteger(cfg.max_levels) || cfg.max_levels < cfg.levels || cfg.max_levels > 6)
      throw new RangeError(`amd-v1: max_levels must be levels..6, got ${cfg.max_levels}`);
    const shift: number[] = [];
    const bits: number[] = [];
    const leaf_mask: number[] = [];
    const table_alloc: number[] = [];
    for (let i = 0; i < cfg.max_levels; i++) {
      shift.push(12 + 9 * i);
      bits.push(9);
      leaf_mask.push(0x1ff); // 2^0..2^8 replicated entries
      table_alloc.push(4096);
    }
    // amd_iommu_pgsize_bitmap: every size from 4K to 2^51 except 512G (a hardware erratum)
    const all = genmask(51, 12) - 2 ** 39;
    const bitmap = cfg.pgsize_bitmap === 0 ? all : bitmap_and(cfg.pgsize_bitmap, genmask(51, 12));
    if (bitmap === 0) throw new RangeError('amd-v1: none of the requested page sizes is supported');
    return {
      levels: cfg.levels,
      max_levels: cfg.max_levels,
      shift,
      bits,
      leaf_mask,
      table_alloc,
      iova_bias: 0,
      pgsize_bitmap: bitmap,
    };
  }

  kind(lo: number, _hi: number, lvl: number): number {
    if (!(lo & PR)) return KIND_EMPTY;
    const nl = (lo >>> NL_SHIFT) & 7;
    if (nl === 0 || nl === NL_LARGE) return KIND_LEAF;
    return nl === lvl ? KIND_TABLE : KIND_BAD;
  }

  override leaf_lg2(lo: number, hi: number, _lvl: number, shift: number): number {
    return ((lo >>> NL_SHIFT) & 7) === NL_LARGE ? 1 + first_zero(lo, hi) : shift;
  }

  leaf_prot(_lo: number, hi: number, _lvl: number): number {
    return (hi & HI_IR ? IOMMU_READ : 0) | (hi & HI_IW ? IOMMU_WRITE : 0);
  }

  describe(lo: number, hi: number, lvl: number, shift: number): DecodedEntry {
    const k = this.kind(lo, hi, lvl);
    const bits: Record<string, number> = {
      PR: lo & 1,
      NextLevel: (lo >>> NL_SHIFT) & 7,
      FC: (hi >>> 28) & 1,
      IR: (hi >>> 29) & 1,
      IW: (hi >>> 30) & 1,
    };
    if (k === KIND_EMPTY || k === KIND_BAD) return { type: 'invalid', pa: 0, prot: 0, size: 0, bits };
    if (k === KIND_TABLE) {
      bits.address = this.table_pa(lo, hi, lvl);
      return { type: 'table', pa: bits.address, prot: 0, size: 0, bits };
    }
    const lg2 = this.leaf_lg2(lo, hi, lvl, shift);
    bits.address = this.leaf_pa(lo, hi, lvl, lg2);
    return {
      type: lg2 === 12 ? 'page' : 'block',
      pa: bits.address,
      prot: this.leaf_prot(lo, hi, lvl),
      size: 2 ** lg2,
      bits,
    };
  }

  /** AMD numbers levels from 1 at the 4K tables (PAGE_MODE_n_LEVEL). */
  native_level(lvl: number, _levels: number): number {
    return lvl + 1;
  }

  table_lo(pa: number, lvl: number): number {
    return (pa >>> 0) | (lvl << NL_SHIFT) | PR;
  }

  override table_hi(pa: number, _lvl: number): number {
    return Math.floor(pa / TWO32) | HI_IR | HI_IW;
  }

  leaf_attr_lo(_prot: number, lvl: number, lg2: number): number {
    if (lg2 === 12 + 9 * lvl) return PR;
    // PAGE_SIZE_PTE: address bits below size/2 set, the size/2 bit clear.
    const low = 2 ** (lg2 - 1) - 1;
    return ((low % TWO32) & ~0xfff) | (NL_LARGE << NL_SHIFT) | PR;
  }

  override leaf_attr_hi(prot: number, lvl: number, lg2: number): number {
    let hi = HI_FC;
    if (prot & IOMMU_READ) hi |= HI_IR;
    if (prot & IOMMU_WRITE) hi |= HI_IW;
    if (lg2 !== 12 + 9 * lvl && lg2 > 33) hi |= Math.floor((2 ** (lg2 - 1) - 1) / TWO32);
    return hi;
  }

  override existing_policy(_kind: number, _lvl: number): number {
    return POLICY_REPLACE;
  }

  override leaf_above_policy(_lvl: number): number {
    return POLICY_REPLACE;
  }

  /** iommu_v1_map_pages: any power of two from 4K; prot must have IR or IW. The table grows for the IOVA. */
  override check_map(
    _pt: IoPgtable,
    _iova: number,
    _paddr: number,
    pgsize: number,
    _pgcount: number,
    prot: number,
  ): number {
    const lg2 = Math.log2(pgsize);
    if (!Number.isInteger(lg2) || lg2 < 12 || lg2 > 51) return -EINVAL;
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -EINVAL;
    return 0;
  }
}

export const AMD_V1 = new AmdV1Format();
