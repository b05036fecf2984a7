/**
 * struct omap_iommu_domain: one client device and, while it is attached, one L1 table per MMU the
 * client uses. Nothing else: a domain that is not attached holds no table, so it can hold no
 * mapping (facts §5.2, §6 (a), (b)).
 */
import type { Device } from '../../core/device.ts';
import { IommuDomain, type DomainOps, type MappingRange } from '../../core/domain.ts';
import type { IommuDriver } from '../../core/driver.ts';
import type { Machine } from '../../core/machine.ts';
import type { IoPgtable } from '../../pgtable/io-pgtable.ts';
import type { OmapMmu } from './omap.ts';

/** struct omap_iommu_device: an MMU the domain is attached through, and the L1 table made for it. */
export class OmapIommuSlot {
  constructor(
    /** NULL once detached (and between the table allocation and the MMU's attach). */
    public iommu_dev: OmapMmu | null,
    /** The domain's own L1 table for that MMU (kzalloc'ed at attach, kfree'd at detach). */
    readonly pgtable: IoPgtable,
  ) {}
}

export class OmapIommuDomain extends IommuDomain {
  /** omap_domain->dev: the one client device. */
  dev: Device | null = null;
  /** omap_domain->iommus; num_iommus is its length (0 until attached). */
  iommus: OmapIommuSlot[] = [];

  constructor(machine: Machine, id: number, type: number, owner: IommuDriver, ops: DomainOps) {
    super(machine, id, type, owner, ops, null);
  }

  get num_iommus(): number {
    return this.iommus.length;
  }

  /** What iova_to_phys sees: the table the first MMU walks (facts: "perform the lookup using just the first iommu"). */
  override mappings(): MappingRange[] {
    return this.iommus[0]?.iommu_dev?.iopgd?.mappings() ?? [];
  }

  /** The table is the instance's (omap_iommu.iopgd): shown while this domain is attached to it. */
  override page_table(): IoPgtable | null {
    return this.iommus[0]?.iommu_dev?.iopgd ?? null;
  }

  override describe(): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = {
      client: this.dev?.name ?? '(none)',
      num_iommus: this.num_iommus,
    };
    this.iommus.forEach((s, i) => {
      out[`mmu${i}`] = s.iommu_dev?.name ?? '(detached)';
      out[`mmu${i}_l1`] = '0x' + s.pgtable.root.toString(16);
      // Another domain attached to the same MMU later re-pointed MMU_TTB at its own table.
      out[`mmu${i}_walks_own_table`] = s.iommu_dev?.iopgd === s.pgtable;
    });
    return out;
  }
}
