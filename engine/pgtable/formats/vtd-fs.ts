/**
 * Intel VT-d first-stage tables: the IA-32e paging format (VT-d spec "First-Stage Paging Entries"),
 * as intel/iommu.c writes it for a domain with use_first_level set (facts §5.5: scalable-mode DMA
 * domains before v6.13, every paging domain of a scalable unit from v6.13).
 *
 * The tree, the superpage choice and every map/unmap rule are __domain_mapping's, shared with the
 * second-stage format (vtd-sl.ts); only the entry bits differ. From drivers/iommu/intel/iommu.h:
 * DMA_FL_PTE_PRESENT BIT(0) (the same bit as DMA_PTE_READ), DMA_PTE_WRITE BIT(1) (R/W here),
 * DMA_FL_PTE_US BIT(2), DMA_FL_PTE_ACCESS BIT(5), DMA_FL_PTE_DIRTY BIT(6), DMA_PTE_LARGE_PAGE BIT(7)
 * (PS), DMA_FL_PTE_XD BIT(63).
 *
 * - Leaves (__domain_mapping): attr = prot & (READ | WRITE) | PRESENT | US | ACCESS, DIRTY when
 *   writable, PS on 2M/1G. P always grants reads, so a write-only map is readable, and a read-only
 *   one is P without R/W: a device write faults.
 * - Tables (pfn_to_dma_pte): phys | DMA_PTE_READ | DMA_PTE_WRITE, and US | ACCESS for first-stage,
 *   i.e. P, R/W, U/S and A.
 * - XD: both writers also set DMA_FL_PTE_XD until "iommu/vt-d: Remove control over
 *   Execute-Requested requests" (e995fcde6070, v6.11; backported to the 6.6.y and 6.10.y stable
 *   series later): the spec dropped Execute-Requested, and with it XD and the PASID entry's NXE.
 *   `xd` picks the era; dma_pte_addr masked XD out of the address meanwhile.
 * - A and D were preset on DMA domains only until "iommu/vt-d: Preset A/D bits for user space DMA
 *   usage" (289b3b005cb9) and, on tables, "iommu/vt-d: Preset Access bit for IOVA in FL non-leaf
 *   paging entries" (242b0aaeabbe, Nov 2022): every era the lab models sets them on every domain.
 */
import { KIND_EMPTY, KIND_LEAF, KIND_TABLE, type Geometry } from '../format.ts';
import { IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE, type IoPgtableCfg } from '../types.ts';
import { VtdSlFormat } from './vtd-sl.ts';

const DMA_FL_PTE_PRESENT = 1 << 0;
const DMA_PTE_WRITE = 1 << 1;
const DMA_FL_PTE_US = 1 << 2;
const DMA_FL_PTE_ACCESS = 1 << 5;
const DMA_FL_PTE_DIRTY = 1 << 6;
const DMA_PTE_LARGE_PAGE = 1 << 7;
/** Bit 63, in the high word. */
const DMA_FL_PTE_XD_HI = 0x8000_0000;

const TABLE_ATTR = DMA_FL_PTE_PRESENT | DMA_PTE_WRITE | DMA_FL_PTE_US | DMA_FL_PTE_ACCESS;

export class VtdFsFormat extends VtdSlFormat {
  override readonly name = 'vtd-fs';

  /** `xd`: Linux before v6.11, which sets XD on every entry it writes. */
  constructor(readonly xd: boolean) {
    super();
  }

  /** 4- or 5-level paging only: domain_setup_first_level refuses other level counts (-EINVAL). */
  override setup(cfg: IoPgtableCfg): Geometry {
    if (cfg.ias === 0) cfg.ias = 48;
    if (!Number.isInteger(cfg.ias) || cfg.ias < 40 || cfg.ias > 57)
      throw new RangeError(`vtd-fs: ias must be 40..57 (4- or 5-level paging), got ${cfg.ias}`);
    return super.setup(cfg);
  }

  /** P decides presence; Linux's dma_pte_present (R|W) agrees, as it never writes R/W without P. */
  override kind(lo: number, _hi: number, lvl: number): number {
    if ((lo & DMA_FL_PTE_PRESENT) === 0) return KIND_EMPTY;
    if (lvl === 0 || lo & DMA_PTE_LARGE_PAGE) return KIND_LEAF;
    return KIND_TABLE;
  }

  /** A present leaf is readable; R/W grants writes; XD is what IOMMU_NOEXEC means elsewhere. */
  override leaf_prot(lo: number, hi: number, _lvl: number): number {
    return (
      (lo & DMA_FL_PTE_PRESENT ? IOMMU_READ : 0) |
      (lo & DMA_PTE_WRITE ? IOMMU_WRITE : 0) |
      (hi & DMA_FL_PTE_XD_HI ? IOMMU_NOEXEC : 0)
    );
  }

  /** The spec's field names; D is a leaf field and PS a field of the levels that may hold leaves. */
  protected override fields(lo: number, hi: number, lvl: number, kind: number): Record<string, number> {
    const bits: Record<string, number> = {
      P: lo & 1,
      'R/W': (lo >>> 1) & 1,
      'U/S': (lo >>> 2) & 1,
      A: (lo >>> 5) & 1,
    };
    if (kind !== KIND_TABLE) bits.D = (lo >>> 6) & 1;
    if (lvl > 0) bits.PS = (lo >>> 7) & 1;
    bits.XD = hi >>> 31;
    return bits;
  }

  override table_lo(pa: number, _lvl: number): number {
    return (pa >>> 0) | TABLE_ATTR;
  }

  override table_hi(pa: number, lvl: number): number {
    return super.table_hi(pa, lvl) | (this.xd ? DMA_FL_PTE_XD_HI : 0);
  }

  /** IOMMU_CACHE sets nothing: SNP is a second-stage bit (first-stage snooping is the PASID entry's PGSNP). */
  override leaf_attr_lo(prot: number, lvl: number, _lg2: number): number {
    let pte = DMA_FL_PTE_PRESENT | DMA_FL_PTE_US | DMA_FL_PTE_ACCESS;
    if (prot & IOMMU_WRITE) pte |= DMA_PTE_WRITE | DMA_FL_PTE_DIRTY;
    if (lvl > 0) pte |= DMA_PTE_LARGE_PAGE;
    return pte;
  }

  override leaf_attr_hi(_prot: number, _lvl: number, _lg2: number): number {
    return this.xd ? DMA_FL_PTE_XD_HI : 0;
  }
}

/** v6.11 on: no XD. */
export const VTD_FS = new VtdFsFormat(false);
/** Before v6.11: XD on tables and leaves. */
export const VTD_FS_XD = new VtdFsFormat(true);
