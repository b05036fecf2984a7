/**
 * s390 zPCI DMA translation tables (drivers/iommu/s390-iommu.c, arch/s390/include/asm/pci_dma.h;
 * facts §5.7): a region table (2048 entries, IOVA bits 41:31), segment tables (2048, bits 30:20) and
 * page tables (256, bits 19:12) of 64-bit entries; 4 KiB pages; the RTX root covers 2^42.
 *
 * Entries carry an invalid bit rather than a valid one, so new tables are filled with it:
 * - region/segment entry: bit 0x20 invalid; a region entry is sto | type RTX (0x4) | length (0x3),
 *   a segment entry is pto | type SX (0);
 * - page entry: bit 0x400 invalid, 0x200 protected (no write), bits 63:12 the address; clearing
 *   one sets the invalid bit and keeps the old address (invalidate_pt_entry).
 * The hardware reads these big-endian; the lab stores them as little-endian word pairs like the
 * other formats.
 *
 * Behaviour read in s390-iommu.c: map_pages wants 4K pages (-EINVAL), READ (-EINVAL); no WRITE sets
 * the protected bit; entries are overwritten; running out of memory invalidates what the call had
 * mapped and reports nothing mapped. unmap_pages walks (allocating missing tables as
 * dma_walk_cpu_trans does), invalidates every page asked for and returns the whole size — a hole is
 * not noticed. iova_to_phys returns the page address without the offset. The aperture check lives
 * in the driver; the table itself only refuses IOVAs past 2^42 (-ERANGE).
 */
import {
  KIND_EMPTY,
  KIND_LEAF,
  KIND_TABLE,
  ON_ERROR_ROLLBACK,
  PgtableFormat,
  POLICY_REPLACE,
  type Geometry,
} from '../format.ts';
import type { IoPgtable } from '../io-pgtable.ts';
import { EINVAL, ERANGE, IOMMU_READ, IOMMU_WRITE, type DecodedEntry, type IoPgtableCfg } from '../types.ts';

const ZPCI_TABLE_INVALID = 0x20;
const ZPCI_TABLE_TYPE_RTX = 0x4;
const ZPCI_TABLE_LEN_RTX = 0x3;
const ZPCI_PTE_INVALID = 0x400;
const ZPCI_TABLE_PROTECTED = 0x200;
const RTE_ADDR_MASK = ~0x3fff;
const STE_ADDR_MASK = ~0x7ff;
const PTE_ADDR_MASK = ~0xfff;
const TWO32 = 0x1_0000_0000;

export class S390Format extends PgtableFormat {
  readonly name = 's390';
  readonly pte_bytes = 8;
  override readonly empty_is_zero = false;
  override readonly on_error_mapped = ON_ERROR_ROLLBACK;
  override readonly iova_to_phys_page_only = true;

  setup(cfg: IoPgtableCfg): Geometry {
    cfg.ias = 42; // ZPCI_TABLE_SIZE_RT = 1 << 42
    if (cfg.oas === 0) cfg.oas = 52;
    return {
      levels: 3,
      max_levels: 3,
      shift: [12, 20, 31],
      bits: [8, 11, 11],
      leaf_mask: [1, 0, 0],
      // page tables are 2 KiB (a page each here); region and segment tables 16 KiB, 16 KiB aligned
      table_alloc: [4096, 16384, 16384],
      iova_bias: 0,
      pgsize_bitmap: 0x1000,
    };
  }

  kind(lo: number, _hi: number, lvl: number): number {
    if (lvl === 0) return lo & ZPCI_PTE_INVALID ? KIND_EMPTY : KIND_LEAF;
    return lo & ZPCI_TABLE_INVALID ? KIND_EMPTY : KIND_TABLE;
  }

  table_pa(lo: number, hi: number, lvl: number): number {
    return ((lo & (lvl === 2 ? RTE_ADDR_MASK : STE_ADDR_MASK)) >>> 0) + hi * TWO32;
  }

  leaf_pa(lo: number, hi: number, _lvl: number, _lg2: number): number {
    return ((lo & PTE_ADDR_MASK) >>> 0) + hi * TWO32;
  }

  leaf_prot(lo: number, _hi: number, _lvl: number): number {
    return lo & ZPCI_TABLE_PROTECTED ? IOMMU_READ : IOMMU_READ | IOMMU_WRITE;
  }

  describe(lo: number, hi: number, lvl: number, _shift: number): DecodedEntry {
    const k = this.kind(lo, hi, lvl);
    if (lvl > 0) {
      const bits: Record<string, number> = {
        invalid: (lo >>> 5) & 1,
        type: (lo >>> 2) & 3,
        length: lo & 3,
        origin: this.table_pa(lo, hi, lvl),
      };
      return k === KIND_TABLE
        ? { type: 'table', pa: bits.origin, prot: 0, size: 0, bits }
        : { type: 'invalid', pa: 0, prot: 0, size: 0, bits };
    }
    const bits: Record<string, number> = {
      invalid: (lo >>> 10) & 1,
      protected: (lo >>> 9) & 1,
      address: this.leaf_pa(lo, hi, 0, 12),
    };
    return k === KIND_LEAF
      ? { type: 'page', pa: bits.address, prot: this.leaf_prot(lo, hi, 0), size: 0x1000, bits }
      : { type: 'invalid', pa: 0, prot: 0, size: 0, bits };
  }

  /** Region table 1, segment table 2, page table 3. */
  native_level(lvl: number, _levels: number): number {
    return 3 - lvl;
  }

  table_lo(pa: number, lvl: number): number {
    return lvl === 2 ? (pa & RTE_ADDR_MASK) | ZPCI_TABLE_TYPE_RTX | ZPCI_TABLE_LEN_RTX : pa & STE_ADDR_MASK;
  }

  leaf_attr_lo(prot: number, _lvl: number, _lg2: number): number {
    return prot & IOMMU_WRITE ? 0 : ZPCI_TABLE_PROTECTED;
  }

  override clear_lo(lo: number, lvl: number): number {
    if (lvl > 0) return lo | ZPCI_TABLE_INVALID;
    return (lo & ~ZPCI_TABLE_PROTECTED) | ZPCI_PTE_INVALID;
  }

  override clear_hi(hi: number, _lvl: number): number {
    return hi;
  }

  override empty_lo(lvl: number): number {
    return lvl === 0 ? ZPCI_PTE_INVALID : ZPCI_TABLE_INVALID;
  }

  override existing_policy(): number {
    return POLICY_REPLACE;
  }

  override check_map(
    pt: IoPgtable,
    iova: number,
    paddr: number,
    pgsize: number,
    pgcount: number,
    prot: number,
  ): number {
    if (pgsize !== 0x1000) return -EINVAL;
    if (!pt.aligned(iova, pgsize) || !pt.aligned(paddr, pgsize)) return -EINVAL;
    if (!(prot & IOMMU_READ)) return -EINVAL;
    if (iova + pgsize * pgcount > pt.ias_size) return -ERANGE;
    return 0;
  }

  /** s390_iommu_invalidate_trans: every page, hole or not; a table missing is allocated. */
  override unmap(pt: IoPgtable, iova: number, pgsize: number, pgcount: number, gather: unknown): number {
    const size = pgsize * pgcount;
    if (pgsize !== 0x1000 || iova + size > pt.ias_size) return 0;
    for (let i = 0; i < pgcount; i++) {
      const cur = iova + i * 0x1000;
      const frame = pt.walk_alloc(cur, 0);
      if (frame < 0) {
        pt.flush_unmapped();
        pt.flush_changed();
        return 0;
      }
      if (pt.read_kind(frame * 4096, pt.wa_idx, 0) !== KIND_LEAF) pt.emit_hole(cur, 0);
      pt.clear_entries(frame * 4096, pt.wa_idx, 1, 0);
      pt.note_unmapped(cur, 0x1000, 0);
      pt.note_changed(cur, 0x1000);
    }
    pt.flush_unmapped();
    pt.flush_changed();
    pt.flush?.tlb_add_page(gather, iova, size);
    return size;
  }

  override iova_to_phys(pt: IoPgtable, iova: number): number {
    if (iova >= pt.ias_size) return 0;
    return pt.iova_to_phys_generic(iova);
  }
}

export const S390 = new S390Format();
