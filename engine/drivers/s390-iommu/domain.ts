/** struct s390_domain: the region/segment/page tables and the functions whose IOAT points at them. */
import type { Device } from '../../core/device.ts';
import { PagingDomain, type DomainOps } from '../../core/domain.ts';
import type { IommuDriver } from '../../core/driver.ts';
import type { Machine } from '../../core/machine.ts';
import type { LeafWalker } from '../../pgtable/types.ts';
import type { S390Iommu, S390Origin } from './s390-iommu.ts';

export class S390Domain extends PagingDomain {
  origin: S390Origin = 'rtx';
  /** Functions attached (s390_domain->devices): RPCITs go to each of them. */
  readonly zdevs: Device[] = [];

  constructor(machine: Machine, id: number, type: number, owner: IommuDriver, ops: DomainOps) {
    super(machine, id, type, owner, ops, null);
  }

  // ── iommu_flush_ops for the page table ──

  /** s390_iommu_unmap_pages gathers the range itself. */
  tlb_add_page(): void {}

  tlb_flush_walk(): void {}

  /** Attached functions only: one that left dropped its entries with its IOAT (unregister_ioat). */
  pte_changed(iova: number, size: number, table?: LeafWalker | null): void {
    for (const dev of this.zdevs) (dev.iommu as S390Iommu).tlb.mark_stale(this.id, iova, size, table);
  }

  override describe(): Record<string, string | number | boolean> {
    return {
      origin: this.origin,
      levels: this.pgtbl ? this.pgtbl.levels : 0,
      functions: this.zdevs.map((d) => d.name).join(' ') || 'none',
    };
  }
}
