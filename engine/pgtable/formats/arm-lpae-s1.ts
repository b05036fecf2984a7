/**
 * Arm LPAE stage 1 as io-pgtable-arm builds it for the SMMUv3 (facts §5.4): 64-bit descriptors,
 * 4K/16K/64K granules, levels from the input size, blocks at the levels Linux allows.
 *
 * Descriptor (Arm ARM VMSAv8-64, io-pgtable-arm.c):
 *   [1:0] type: 0b01 block, 0b11 table (or page at the last level); 0b00/0b10 invalid
 *   [4:2] AttrIndx into the MAIR io-pgtable-arm programs: 0 non-cacheable, 1 write-back (IOMMU_CACHE),
 *         2 device (IOMMU_MMIO)
 *   [5] NS   [7:6] AP: bit 6 unprivileged access (set unless IOMMU_PRIV), bit 7 read-only
 *   [9:8] SH: inner shareable (3) with IOMMU_CACHE, else outer shareable (2) — arm_lpae_prot_to_pte
 *   [10] AF   [11] nG (stage-1 leaves are non-global, tagged by ASID)
 *   [47:12] output address   [52] Contiguous   [53] PXN   [54] UXN/XN (IOMMU_NOEXEC sets both)
 *   [63] NSTable (tables)
 */
import {
  KIND_EMPTY,
  KIND_LEAF,
  KIND_TABLE,
  MAP_NOTHING,
  POLICY_EEXIST,
  POLICY_REPLACE,
  type Geometry,
} from '../format.ts';
import type { IoPgtable } from '../io-pgtable.ts';
import { Pte64AddressFormat } from './pte64-address.ts';
import { bitmap_and, bitmap_has } from '../bitmap.ts';
import {
  EINVAL,
  ERANGE,
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  type DecodedEntry,
  type IoPgtableCfg,
} from '../types.ts';

const TYPE_BLOCK = 1;
const TYPE_TABLE_OR_PAGE = 3;
const ATTRINDX_SHIFT = 2;
// ARM_LPAE_MAIR_ATTR_IDX_*
const ATTR_IDX_NC = 0;
const ATTR_IDX_CACHE = 1;
const ATTR_IDX_DEV = 2;
const AP_UNPRIV = 1 << 6;
const AP_RDONLY = 1 << 7;
const SH_OS = 2 << 8;
const SH_IS = 3 << 8;
const AF = 1 << 10;
const NG = 1 << 11;
/** ARM_LPAE_PTE_XN = 3 << 53 (PXN and UXN), in the high word. */
const XN_HI = 3 << 21;
const ADDR_HI_MASK = 0xffff;

/** io-pgtable-arm's arm_lpae_restrict_pgsizes: leaf sizes per granule (bottom-up levels). */
const LEAF_LEVELS: Record<number, number[]> = {
  4096: [0, 1, 2], // 4K, 2M, 1G
  16384: [0, 1], // 16K, 32M
  65536: [0, 1], // 64K, 512M
};

export class ArmLpaeS1Format extends Pte64AddressFormat {
  protected readonly addr_hi_mask = ADDR_HI_MASK;
  readonly name = 'arm-lpae-s1';
  readonly pte_bytes = 8;
  override readonly run_stops_at_table_end = true;

  setup(cfg: IoPgtableCfg): Geometry {
    let g = cfg.granule;
    if (g === 0) {
      // Linux picks the granule from the bitmap: PAGE_SIZE (4K) if present, else the smallest larger size.
      if (cfg.pgsize_bitmap === 0 || bitmap_has(cfg.pgsize_bitmap, 4096)) g = 4096;
      else if (bitmap_has(cfg.pgsize_bitmap, 16384)) g = 16384;
      else if (bitmap_has(cfg.pgsize_bitmap, 65536)) g = 65536;
      else throw new RangeError('arm-lpae-s1: pgsize_bitmap has no 4K, 16K or 64K granule');
    }
    if (!(g in LEAF_LEVELS))
      throw new RangeError(`arm-lpae-s1: granule must be 4096, 16384 or 65536, got ${g}`);
    if (cfg.ias === 0) cfg.ias = 48;
    if (cfg.oas === 0) cfg.oas = 48;
    if (!Number.isInteger(cfg.ias) || cfg.ias < 32 || cfg.ias > 52)
      throw new RangeError(`arm-lpae-s1: ias must be 32..52, got ${cfg.ias}`);
    if (!Number.isInteger(cfg.oas) || cfg.oas < 32 || cfg.oas > 48)
      throw new RangeError(`arm-lpae-s1: oas must be 32..48, got ${cfg.oas}`);
    // arm_lpae_restrict_pgsizes: 52-bit addresses only with the 64K granule (VMSAv8 LVA); any
    // other granule caps the sizes at 48 bits, silently: the caller reads the capped cfg back
    // (arm_smmu_domain_finalise's aperture is 2^cfg.ias - 1).
    const max_addr_bits = g === 65536 ? 52 : 48;
    cfg.ias = Math.min(cfg.ias, max_addr_bits);
    cfg.oas = Math.min(cfg.oas, max_addr_bits);
    cfg.granule = g;
    const pg_shift = Math.log2(g);
    const bpl = pg_shift - 3; // 8-byte entries in a granule-sized table
    // At most ARM_LPAE_MAX_LEVELS (4) once the input size is capped.
    const levels = Math.ceil((cfg.ias - pg_shift) / bpl);
    const shift: number[] = [];
    const bits: number[] = [];
    const leaf_mask: number[] = [];
    const table_alloc: number[] = [];
    let sizes = 0;
    for (let i = 0; i < levels; i++) {
      shift.push(pg_shift + i * bpl);
      bits.push(i === levels - 1 ? cfg.ias - pg_shift - i * bpl : bpl);
      const leaf = LEAF_LEVELS[g].includes(i);
      leaf_mask.push(leaf ? 1 : 0);
      if (leaf) sizes += 2 ** shift[i];
      table_alloc.push(Math.max(4096, 2 ** bits[i] * 8));
    }
    const bitmap = cfg.pgsize_bitmap === 0 ? sizes : bitmap_and(cfg.pgsize_bitmap, sizes);
    if (bitmap === 0) throw new RangeError('arm-lpae-s1: none of the requested page sizes fits this granule');
    return {
      levels,
      max_levels: levels,
      shift,
      bits,
      leaf_mask,
      table_alloc,
      iova_bias: 0,
      pgsize_bitmap: bitmap,
    };
  }

  kind(lo: number, _hi: number, lvl: number): number {
    const t = lo & 3;
    if (t === TYPE_TABLE_OR_PAGE) return lvl === 0 ? KIND_LEAF : KIND_TABLE;
    if (t === TYPE_BLOCK && lvl > 0) return KIND_LEAF;
    return KIND_EMPTY;
  }

  leaf_prot(lo: number, hi: number, _lvl: number): number {
    let prot = IOMMU_READ;
    if (!(lo & AP_RDONLY)) prot |= IOMMU_WRITE;
    if (!(lo & AP_UNPRIV)) prot |= IOMMU_PRIV;
    const idx = (lo >>> ATTRINDX_SHIFT) & 7;
    if (idx === ATTR_IDX_CACHE) prot |= IOMMU_CACHE;
    else if (idx === ATTR_IDX_DEV) prot |= IOMMU_MMIO;
    if (hi & XN_HI) prot |= IOMMU_NOEXEC;
    return prot;
  }

  describe(lo: number, hi: number, lvl: number, shift: number): DecodedEntry {
    const k = this.kind(lo, hi, lvl);
    const bits: Record<string, number> = { type: lo & 3 };
    if (k === KIND_TABLE) {
      bits.NSTable = hi >>> 31;
      bits.address = this.table_pa(lo, hi, lvl);
      return { type: 'table', pa: bits.address, prot: 0, size: 0, bits };
    }
    if (k !== KIND_LEAF) return { type: 'invalid', pa: 0, prot: 0, size: 0, bits };
    Object.assign(bits, {
      AttrIndx: (lo >>> 2) & 7,
      NS: (lo >>> 5) & 1,
      AP: (lo >>> 6) & 3,
      SH: (lo >>> 8) & 3,
      AF: (lo >>> 10) & 1,
      nG: (lo >>> 11) & 1,
      address: this.leaf_pa(lo, hi, lvl, shift),
      Contiguous: (hi >>> 20) & 1,
      PXN: (hi >>> 21) & 1,
      UXN: (hi >>> 22) & 1,
    });
    return {
      type: lvl === 0 ? 'page' : 'block',
      pa: bits.address,
      prot: this.leaf_prot(lo, hi, lvl),
      size: 2 ** shift,
      bits,
    };
  }

  /** Arm numbers levels top-down and the last level is 3. */
  native_level(lvl: number, _levels: number): number {
    return 3 - lvl;
  }

  table_lo(pa: number, _lvl: number): number {
    return (pa >>> 0) | TYPE_TABLE_OR_PAGE;
  }

  leaf_attr_lo(prot: number, lvl: number, _lg2: number): number {
    let pte = (lvl === 0 ? TYPE_TABLE_OR_PAGE : TYPE_BLOCK) | NG | AF;
    if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) pte |= AP_RDONLY;
    if (!(prot & IOMMU_PRIV)) pte |= AP_UNPRIV;
    if (prot & IOMMU_MMIO) pte |= ATTR_IDX_DEV << ATTRINDX_SHIFT;
    else if (prot & IOMMU_CACHE) pte |= ATTR_IDX_CACHE << ATTRINDX_SHIFT;
    else pte |= ATTR_IDX_NC << ATTRINDX_SHIFT;
    pte |= prot & IOMMU_CACHE ? SH_IS : SH_OS;
    return pte;
  }

  override leaf_attr_hi(prot: number, _lvl: number, _lg2: number): number {
    return prot & IOMMU_NOEXEC ? XN_HI : 0;
  }

  /** A leaf in the way: "We require an unmap first" (-EEXIST); a table in the way of a block is unmapped and freed. */
  override existing_policy(kind: number, _lvl: number): number {
    return kind === KIND_TABLE ? POLICY_REPLACE : POLICY_EEXIST;
  }

  override leaf_above_policy(_lvl: number): number {
    return POLICY_EEXIST;
  }

  /** arm_lpae_map_pages: bad pgsize -EINVAL, then out of range -ERANGE, then prot (version switch). */
  override check_map(
    pt: IoPgtable,
    iova: number,
    paddr: number,
    pgsize: number,
    _pgcount: number,
    prot: number,
  ): number {
    if (pt.pgsize_lg2(pgsize) < 0) return -EINVAL;
    if (iova >= pt.ias_size || paddr >= pt.oas_size) return -ERANGE;
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return pt.cfg.prot_none_is_einval ? -EINVAL : MAP_NOTHING;
    return 0;
  }
}

export const ARM_LPAE_S1 = new ArmLpaeS1Format();
