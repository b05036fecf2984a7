/**
 * The Tegra20 GART (drivers/iommu/tegra-gart.c as removed in v6.7; facts §5.3): one flat table of
 * 32-bit entries, one per 4 KiB page of the aperture [aperture_start, aperture_start + size).
 * Entry: bit 31 valid, bits 30:12 the physical address (so bit 31 of an address is lost).
 * In hardware the table sits behind address/data registers; the lab keeps it in memory so panels
 * can show it.
 *
 * Behaviour read in tegra-gart.c:
 * - legacy .map/.unmap: one 4 KiB page per call; a size other than 4K or an IOVA outside the
 *   aperture is -EINVAL (map) or 0 (unmap); prot is not looked at; a valid entry is overwritten
 *   (the check exists only with the gart_debug module parameter);
 * - unmap clears the entry and returns 4K whether it was valid or not;
 * - iova_to_phys returns the entry's address bits without the page offset, and (phys_addr_t)-EINVAL
 *   (0xffffffea on this 32-bit SoC) outside the aperture.
 */
import { KIND_EMPTY, KIND_LEAF, PgtableFormat, POLICY_REPLACE, type Geometry } from '../format.ts';
import type { IoPgtable } from '../io-pgtable.ts';
import {
  EINVAL,
  IOMMU_READ,
  IOMMU_WRITE,
  type DecodedEntry,
  type IoPgtableCfg,
  type MapPagesResult,
} from '../types.ts';
import { ev } from '../trace-events.ts';

const VALID = 0x8000_0000;
const ADDR_MASK = 0x7fff_f000; // GENMASK(30, 12)
const PAGE = 0x1000;
/** (phys_addr_t)-EINVAL with a 32-bit phys_addr_t. */
const PHYS_EINVAL = 0x1_0000_0000 - EINVAL;

export class GartFormat extends PgtableFormat {
  readonly name = 'gart';
  readonly pte_bytes = 4;
  override readonly one_leaf_per_call = true;
  override readonly iova_to_phys_page_only = true;

  setup(cfg: IoPgtableCfg): Geometry {
    const { aperture_start: start, aperture_size: size } = cfg;
    if (!Number.isSafeInteger(start) || start < 0 || start % PAGE !== 0)
      throw new RangeError(`gart: aperture_start must be 4K aligned, got ${start}`);
    if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE !== 0)
      throw new RangeError(`gart: aperture_size must be a positive multiple of 4K, got ${size}`);
    if (start + size > 0x1_0000_0000) throw new RangeError('gart: the aperture must lie below 4 GiB');
    cfg.ias = 32;
    cfg.oas = 31;
    const bits = Math.max(0, Math.ceil(Math.log2(size / PAGE)));
    return {
      levels: 1,
      max_levels: 1,
      shift: [12],
      bits: [bits],
      leaf_mask: [1],
      table_alloc: [Math.max(4096, 2 ** bits * 4)],
      iova_bias: start,
      span: size,
      pgsize_bitmap: PAGE,
    };
  }

  kind(lo: number, _hi: number, _lvl: number): number {
    return lo & VALID ? KIND_LEAF : KIND_EMPTY;
  }

  table_pa(): number {
    return 0;
  }

  leaf_pa(lo: number): number {
    return (lo & ADDR_MASK) >>> 0;
  }

  leaf_prot(): number {
    return IOMMU_READ | IOMMU_WRITE;
  }

  describe(lo: number, hi: number, lvl: number, _shift: number): DecodedEntry {
    const bits = { valid: lo >>> 31, address: this.leaf_pa(lo) };
    if (this.kind(lo, hi, lvl) === KIND_EMPTY) return { type: 'invalid', pa: 0, prot: 0, size: 0, bits };
    return { type: 'page', pa: bits.address, prot: this.leaf_prot(), size: PAGE, bits };
  }

  native_level(): number {
    return 1;
  }

  table_lo(): number {
    return 0;
  }

  leaf_attr_lo(): number {
    return VALID;
  }

  override addr_lo(pa_lo: number, _pa_hi: number): number {
    return pa_lo & ADDR_MASK;
  }

  override addr_hi(): number {
    return 0;
  }

  override existing_policy(): number {
    return POLICY_REPLACE;
  }

  private outside(pt: IoPgtable, iova: number, bytes: number): boolean {
    return iova < pt.iova_bias || bytes !== PAGE || iova + bytes > pt.limit;
  }

  /** gart_iommu_map: range (and size) first; the driver's pa is an unsigned long (32 bits). */
  override map(
    pt: IoPgtable,
    iova: number,
    paddr: number,
    pgsize: number,
    pgcount: number,
    prot: number,
  ): MapPagesResult {
    if (this.outside(pt, iova, pgsize)) return { ret: -EINVAL, mapped: 0 };
    return pt.map_generic(iova, paddr % 0x1_0000_0000, pgsize, pgcount, prot);
  }

  override check_map(): number {
    return 0;
  }

  override unmap(pt: IoPgtable, iova: number, pgsize: number, _pgcount: number, gather: unknown): number {
    if (this.outside(pt, iova, pgsize)) return 0;
    pt.set_iova(iova);
    if (pt.read_kind(pt.root, pt.index(0), 0) !== KIND_LEAF) pt.emit_hole(iova, 0);
    pt.clear_entries(pt.root, pt.index(0), 1, 0);
    pt.flush?.tlb_add_page(gather, iova, PAGE);
    pt.flush?.pte_changed(iova, PAGE);
    pt.trace.emit(ev.unmap, pt.cfg.id, iova, PAGE, 1, 1);
    return PAGE;
  }

  override iova_to_phys(pt: IoPgtable, iova: number): number {
    if (this.outside(pt, iova - (iova % PAGE), PAGE)) return PHYS_EINVAL;
    pt.set_iova(iova);
    return this.leaf_pa(pt.read_lo(pt.root, pt.index(0)));
  }
}

export const GART = new GartFormat();
