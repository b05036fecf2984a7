/** struct protection_domain: a v1 page table, a global domain ID, and the IOMMUs its devices sit behind. */
import type { Device } from '../../core/device.ts';
import { PagingDomain, type DomainOps } from '../../core/domain.ts';
import type { IommuDriver } from '../../core/driver.ts';
import type { Machine } from '../../core/machine.ts';
import type { LeafWalker } from '../../pgtable/types.ts';
import type { AmdIommu } from './amd-iommu.ts';

export class ProtectionDomain extends PagingDomain {
  /** The ID written to DTEs and used by INVALIDATE_IOMMU_PAGES (domain->id). */
  readonly pd_id: number;
  /** Devices per IOMMU (domain->dev_iommu[]): flushes go to every IOMMU with one. */
  readonly units = new Map<AmdIommu, number>();
  /** Devices attached (domain->dev_list), to rewrite their DTEs when the table grows. */
  readonly dev_list: Device[] = [];

  constructor(machine: Machine, id: number, type: number, owner: IommuDriver, ops: DomainOps, pd_id: number) {
    super(machine, id, type, owner, ops, null);
    this.pd_id = pd_id;
  }

  // ── iommu_flush_ops for the page table ──

  /** amd_iommu_unmap_pages gathers the unmapped range itself. */
  tlb_add_page(): void {}

  /** Set when a map freed a table or cleared a large PTE on its way (iommu_v1_map_pages' `updated`). */
  tables_dropped = false;

  tlb_flush_walk(): void {
    this.tables_dropped = true;
  }

  /** A map that wrote a leaf over with the same value leaves the entries caching it clean (`table`). */
  pte_changed(iova: number, size: number, table?: LeafWalker | null): void {
    for (const unit of this.units.keys()) unit.tlb.mark_stale(this.pd_id, iova, size, table);
  }

  /**
   * increase_address_space added a level: every DTE of the domain gets the new root and mode and is
   * flushed (amd_iommu_update_and_flush_device_table), then a completion wait
   * (amd_iommu_domain_flush_complete). No page invalidation: the old root is still entry 0 of the new
   * one, and since "iommu/amd: Do not flush Device Table in iommu_map_page()" (2020) growing does not
   * set iommu_v1_map_pages' `updated` either — in every era the lab models.
   */
  root_changed(): void {
    for (const dev of this.dev_list) (dev.iommu as AmdIommu).set_dte(dev, { kind: 'v1', domain: this });
    for (const unit of this.units.keys()) unit.completion_wait();
  }

  override describe(): Record<string, string | number | boolean> {
    return {
      table: 'v1',
      domid: this.pd_id,
      mode: this.pgtbl ? this.pgtbl.levels : 0,
      iommus: [...this.units.keys()].map((u) => u.name).join(' ') || 'none',
    };
  }
}
