/**
 * Intel VT-d second-level tables as drivers/iommu/intel/iommu.c builds them (facts §5.5):
 * 512 × 8-byte entries, 3/4/5 levels for an AGAW of 39/48/57 bits.
 *
 * Entry: bit 0 R, bit 1 W, bit 7 PS (superpage, levels 2 and 3 = 2M and 1G when SLLPS allows),
 * bit 11 SNP (snoop: set for IOMMU_CACHE here; intel-iommu sets it only for force_snooping domains
 * and passes IOMMU_CACHE on no more), bits 51:12 the address.
 * Tables are pointed to with R|W set (dma_pte_present() tests R|W).
 *
 * What the Linux driver does, read in intel/iommu.c (v6.16, before the generic_pt conversion):
 * - intel_iommu_map_pages accepts pgsize 4K/2M/1G only and then __domain_mapping picks superpages
 *   itself from the alignment of iova and paddr and the length (hardware_largepage_caps);
 * - an IOVA range beyond the domain's width is -EFAULT; a prot with neither R nor W is -EINVAL;
 * - a 4K PTE already set is left as it is with a WARN ("DMA PTE for vPFN already set") and the map
 *   still returns 0; a superpage first clears whatever is below it (switch_to_super_page);
 * - *mapped is set only on success;
 * - intel_iommu_unmap grows the size to the level where the lookup stopped (a superpage, or a
 *   not-present entry: unmapping a hole at the top of a fresh table reports 512 GiB), clears
 *   every entry wholly inside and returns that size, hole or not.
 * Newer kernels move VT-d to generic_pt (drivers/iommu/generic_pt/fmt/vtdss.h), where a map onto
 * a present entry fails with -EADDRINUSE and an unmap starting inside a large page returns 0.
 */
import {
  KIND_EMPTY,
  KIND_LEAF,
  KIND_TABLE,
  ON_ERROR_ZERO,
  POLICY_KEEP,
  POLICY_REPLACE,
  UNMAP_RANGE,
  type Geometry,
} from '../format.ts';
import type { IoPgtable } from '../io-pgtable.ts';
import { Pte64AddressFormat } from './pte64-address.ts';
import { bitmap_and } from '../bitmap.ts';
import {
  EFAULT,
  EINVAL,
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  type DecodedEntry,
  type IoPgtableCfg,
} from '../types.ts';

const DMA_PTE_READ = 1 << 0;
const DMA_PTE_WRITE = 1 << 1;
const DMA_PTE_LARGE_PAGE = 1 << 7;
const DMA_PTE_SNP = 1 << 11;
const ADDR_HI_MASK = 0xfffff; // bits 51:32

export class VtdSlFormat extends Pte64AddressFormat {
  protected readonly addr_hi_mask = ADDR_HI_MASK;
  readonly name: string = 'vtd-sl';
  readonly pte_bytes = 8;
  override readonly chooses_leaf_size = true;
  override readonly on_error_mapped = ON_ERROR_ZERO;
  override readonly unmap_mode = UNMAP_RANGE;

  setup(cfg: IoPgtableCfg): Geometry {
    if (cfg.ias === 0) cfg.ias = 48;
    if (cfg.oas === 0) cfg.oas = 52;
    if (!Number.isInteger(cfg.ias) || cfg.ias < 30 || cfg.ias > 57)
      throw new RangeError(`vtd-sl: ias (the domain width) must be 30..57, got ${cfg.ias}`);
    if (!Number.isInteger(cfg.sllps) || cfg.sllps < 0 || cfg.sllps > 3)
      throw new RangeError(`vtd-sl: sllps must be 0..3, got ${cfg.sllps}`);
    // AGAW 39/48/57 → 3/4/5 levels (agaw_to_level)
    const levels = Math.max(3, Math.ceil((cfg.ias - 12) / 9));
    // iommu_superpage_capability: the highest SLLPS bit decides how many superpage levels are used.
    const sp = cfg.sllps & 2 ? 2 : cfg.sllps & 1 ? 1 : 0;
    const shift: number[] = [];
    const bits: number[] = [];
    const leaf_mask: number[] = [];
    const table_alloc: number[] = [];
    let sizes = 0;
    for (let i = 0; i < levels; i++) {
      shift.push(12 + 9 * i);
      bits.push(9);
      const leaf = i <= sp;
      leaf_mask.push(leaf ? 1 : 0);
      if (leaf) sizes += 2 ** shift[i];
      table_alloc.push(4096);
    }
    const bitmap = cfg.pgsize_bitmap === 0 ? sizes : bitmap_and(cfg.pgsize_bitmap, sizes);
    if (bitmap === 0) throw new RangeError('vtd-sl: none of the requested page sizes is supported');
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
    if ((lo & (DMA_PTE_READ | DMA_PTE_WRITE)) === 0) return KIND_EMPTY;
    if (lvl === 0 || lo & DMA_PTE_LARGE_PAGE) return KIND_LEAF;
    return KIND_TABLE;
  }

  leaf_prot(lo: number, _hi: number, _lvl: number): number {
    return (
      (lo & DMA_PTE_READ ? IOMMU_READ : 0) |
      (lo & DMA_PTE_WRITE ? IOMMU_WRITE : 0) |
      (lo & DMA_PTE_SNP ? IOMMU_CACHE : 0)
    );
  }

  /** The entry's fields by the spec's names (the first-stage format has others). */
  protected fields(lo: number, _hi: number, _lvl: number, _kind: number): Record<string, number> {
    return {
      R: lo & 1,
      W: (lo >>> 1) & 1,
      PS: (lo >>> 7) & 1,
      SNP: (lo >>> 11) & 1,
    };
  }

  describe(lo: number, hi: number, lvl: number, shift: number): DecodedEntry {
    const k = this.kind(lo, hi, lvl);
    const bits = this.fields(lo, hi, lvl, k);
    if (k === KIND_EMPTY) return { type: 'invalid', pa: 0, prot: 0, size: 0, bits };
    if (k === KIND_TABLE) {
      bits.address = this.table_pa(lo, hi, lvl);
      return { type: 'table', pa: bits.address, prot: 0, size: 0, bits };
    }
    bits.address = this.leaf_pa(lo, hi, lvl, shift);
    return {
      type: lvl === 0 ? 'page' : 'block',
      pa: bits.address,
      prot: this.leaf_prot(lo, hi, lvl),
      size: 2 ** shift,
      bits,
    };
  }

  /** VT-d numbers levels from 1 at the 4K tables. */
  native_level(lvl: number, _levels: number): number {
    return lvl + 1;
  }

  table_lo(pa: number, _lvl: number): number {
    return (pa >>> 0) | DMA_PTE_READ | DMA_PTE_WRITE;
  }

  leaf_attr_lo(prot: number, lvl: number, _lg2: number): number {
    let pte = 0;
    if (prot & IOMMU_READ) pte |= DMA_PTE_READ;
    if (prot & IOMMU_WRITE) pte |= DMA_PTE_WRITE;
    if (prot & IOMMU_CACHE) pte |= DMA_PTE_SNP;
    if (lvl > 0) pte |= DMA_PTE_LARGE_PAGE;
    return pte;
  }

  /** A 4K PTE already set: WARN and keep it. A superpage clears what is below it first. */
  override existing_policy(_kind: number, lvl: number): number {
    return lvl === 0 ? POLICY_KEEP : POLICY_REPLACE;
  }

  /**
   * A superpage found above the level being mapped: Linux would descend into the superpage's
   * memory as if it were a table; the lab keeps the superpage and maps nothing there.
   */
  override leaf_above_policy(_lvl: number): number {
    return POLICY_KEEP;
  }

  override check_map(
    pt: IoPgtable,
    iova: number,
    paddr: number,
    pgsize: number,
    pgcount: number,
    prot: number,
  ): number {
    if (pgsize !== 0x1000 && pgsize !== 0x20_0000 && pgsize !== 0x4000_0000) return -EINVAL;
    if (!pt.aligned(iova, pgsize) || !pt.aligned(paddr, pgsize)) return -EINVAL;
    if (iova + pgsize * pgcount > pt.ias_size) return -EFAULT;
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -EINVAL;
    return 0;
  }
}

export const VTD_SL = new VtdSlFormat();
