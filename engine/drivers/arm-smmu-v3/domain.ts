/**
 * struct arm_smmu_domain: a stage-1 context (ASID + io-pgtable-arm table) and its TLB maintenance.
 * The table is NULL until the domain is finalised: before v6.9 that happens at the first attach.
 */
import { PagingDomain, type DomainOps } from '../../core/domain.ts';
import type { IommuDriver } from '../../core/driver.ts';
import { iommu_iotlb_gather_add_page, type IommuIotlbGather } from '../../core/gather.ts';
import type { Machine } from '../../core/machine.ts';
import type { LeafWalker } from '../../pgtable/types.ts';
import type { Entry } from './entries.ts';
import { CMDQ_OP_TLBI_NH_VA, type ArmSmmuV3 } from './smmu.ts';

export class ArmSmmuDomain extends PagingDomain {
  asid = 0;
  /** v6.6: the domain's own CD table and its one CD, written at finalise (smmu.ts write_domain_cd). */
  cd: Entry | null = null;

  constructor(
    machine: Machine,
    id: number,
    type: number,
    owner: IommuDriver,
    ops: DomainOps,
    smmu: ArmSmmuV3 | null,
  ) {
    super(machine, id, type, owner, ops, smmu);
  }

  get smmu(): ArmSmmuV3 | null {
    return this.iommu as ArmSmmuV3 | null;
  }

  // ── iommu_flush_ops, called by io-pgtable-arm ──

  /** Per leaf unmapped: gather it unless a flush queue will flush everything later. */
  tlb_add_page(gather: unknown, iova: number, granule: number): void {
    const g = gather as IommuIotlbGather | null;
    if (g && !g.queued) iommu_iotlb_gather_add_page(this, g, iova, granule);
  }

  /** A table was freed: invalidate the walk caches over its range now. */
  tlb_flush_walk(iova: number, size: number, granule: number): void {
    const smmu = this.smmu;
    if (!smmu) return;
    smmu.cmdq_issue(CMDQ_OP_TLBI_NH_VA, this.asid, iova, Math.max(1, size / granule), granule);
    smmu.cmd_sync();
  }

  /**
   * The table changed: IOTLB entries over the range no longer match it until invalidated, unless a
   * map wrote back exactly what one caches (`table`, read again by mark_stale).
   */
  pte_changed(iova: number, size: number, table?: LeafWalker | null): void {
    this.smmu?.tlb.mark_stale(this.asid, iova, size, table);
  }

  override describe(): Record<string, string | number | boolean> {
    const smmu = this.smmu;
    if (!smmu || !this.pgtbl) return { finalised: false };
    return {
      finalised: true,
      stage: 1,
      asid: this.asid,
      granule: smmu.cfg.granule,
      // The table's sizes: io-pgtable caps a 52-bit input at 48 unless the granule is 64K.
      ias: this.pgtbl.cfg.ias,
      oas: this.pgtbl.cfg.oas,
    };
  }
}
