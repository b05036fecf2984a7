/** struct dmar_domain: a VT-d page table, its address width and superpage use, and a DID per unit. */
import { PagingDomain, type DomainOps } from '../../core/domain.ts';
import type { IommuDriver } from '../../core/driver.ts';
import type { Machine } from '../../core/machine.ts';
import type { LeafWalker } from '../../pgtable/types.ts';
import { domain_flush_super_page } from './flush.ts';
import type { IntelIommu } from './intel-iommu.ts';

/** struct iommu_domain_info: the DID a domain has on one unit and how many devices use it there. */
export class DomainUnitInfo {
  constructor(
    readonly did: number,
    public refcnt: number,
  ) {}
}

export class DmarDomain extends PagingDomain {
  /** Guest address width in bits (domain->gaw). */
  gaw: number;
  /** Table levels (agaw_to_level(domain->agaw)). */
  levels: number;
  /** First-stage (scalable mode) rather than second-stage tables. */
  use_first_level = false;
  /** 0, 1 (2 MiB) or 2 (2 MiB and 1 GiB): the superpages map_pages may build. */
  iommu_superpage = 0;
  /** End of the highest mapping made so far (domain->max_addr), checked against the width at attach. */
  max_addr = 0;
  /** Allocated by the legacy domain_alloc(type): made at 57 bits, fitted to a unit at its first attach. */
  readonly legacy: boolean;
  /** Per unit the domain is attached to (domain->iommu_array). */
  readonly units = new Map<IntelIommu, DomainUnitInfo>();

  constructor(
    machine: Machine,
    id: number,
    type: number,
    owner: IommuDriver,
    ops: DomainOps,
    unit: IntelIommu | null,
    gaw: number,
    legacy: boolean,
  ) {
    super(machine, id, type, owner, ops, unit);
    this.gaw = gaw;
    this.levels = (gaw - 30) / 9 + 2;
    this.legacy = legacy;
  }

  /**
   * domain_pfn_supported: `iova` is within what the table's levels reach (agaw_to_width), the first
   * thing pfn_to_dma_pte checks. A legacy domain's levels drop to its unit's at attach
   * (prepare_domain_attach_device knocks out the extra top levels and lowers agaw).
   */
  pfn_supported(iova: number): boolean {
    return iova < 2 ** (12 + 9 * this.levels);
  }

  /** The DID this domain has on `unit`, or -1 when it is not attached there. */
  did_on(unit: IntelIommu): number {
    return this.units.get(unit)?.did ?? -1;
  }

  // ── iommu_flush_ops for the page table ──

  /** intel_iommu_unmap gathers the whole unmapped range itself, so per-leaf reports are not needed. */
  tlb_add_page(): void {}

  /** End of the map_pages call in progress (0 outside one): a table freed then made room for a superpage. */
  mapping_until = 0;

  /**
   * A freed table. During a map a superpage took its slot (switch_to_super_page), which flushes at
   * once; during an unmap the PSI after it covers the table's range.
   */
  tlb_flush_walk(iova: number, size: number): void {
    if (this.mapping_until) domain_flush_super_page(this, iova, size, this.mapping_until);
  }

  /**
   * Entries changed: cached translations (negative ones too) on every unit are stale until flushed,
   * unless a map wrote back exactly what one caches (`table`, read again by mark_stale).
   */
  pte_changed(iova: number, size: number, table?: LeafWalker | null): void {
    for (const [unit, info] of this.units) unit.tlb.mark_stale(info.did, iova, size, table);
  }

  override describe(): Record<string, string | number | boolean> {
    const dids = [...this.units].map(([u, i]) => `${u.name}:${i.did}`).join(' ');
    return {
      stage: this.use_first_level ? 'first' : 'second',
      gaw: this.gaw,
      levels: this.levels,
      superpages: this.iommu_superpage,
      dids: dids || 'none',
      legacy: this.legacy,
    };
  }
}
