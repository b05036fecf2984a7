/**
 * A tegra-gart domain is a bare struct iommu_domain: no page table of its own. Everything it maps
 * goes straight into the one GART, and everything any domain mapped is what it sees (facts §5.3).
 */
import { IommuDomain, type DomainOps, type MappingRange } from '../../core/domain.ts';
import type { IommuDriver } from '../../core/driver.ts';
import type { Machine } from '../../core/machine.ts';
import type { GartHandle, TegraGart } from './gart.ts';
import type { IoPgtable } from '../../pgtable/io-pgtable.ts';

export class TegraGartDomain extends IommuDomain {
  constructor(
    machine: Machine,
    id: number,
    type: number,
    owner: IommuDriver,
    ops: DomainOps,
    instance: TegraGart,
  ) {
    super(machine, id, type, owner, ops, instance);
  }

  /** gart_handle: the driver reaches the one GART through the global, never through the domain. */
  get gart(): GartHandle {
    return (this.iommu as TegraGart).gart;
  }

  /** The global table: the same for every domain. */
  override mappings(): MappingRange[] {
    return this.gart.table.mappings();
  }

  /** The one GART table every domain shares (facts §5.3). */
  override page_table(): IoPgtable | null {
    return this.gart.table;
  }

  override describe(): Record<string, string | number | boolean> {
    const g = this.gart;
    return {
      active: g.active_domain === this,
      active_devices: g.active_domain === this ? g.active_devices : 0,
      shared_table: true,
      valid_entries: g.valid_entries(),
      aperture: `[0x${g.iovmm_base.toString(16)}, 0x${g.iovmm_end.toString(16)})`,
    };
  }
}
