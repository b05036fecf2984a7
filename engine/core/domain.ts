import type { Device } from './device.ts';
import type { IommuDevice } from './iommu-device.ts';
import type { IommuDriver } from './driver.ts';
import type { Machine } from './machine.ts';
import type { IommuIotlbGather } from './gather.ts';
import type { IoPgtable } from '../pgtable/io-pgtable.ts';

export interface MapPagesResult {
  ret: number;
  mapped: number;
}

/**
 * struct iommu_domain_ops. An op a driver lacks is left out, as a NULL pointer is in Linux; every
 * op is a plain function of its arguments so one table serves every domain of a kind.
 */
export interface DomainOps {
  attach_dev?(domain: IommuDomain, dev: Device): number;
  map_pages?(
    domain: IommuDomain,
    iova: number,
    paddr: number,
    pgsize: number,
    pgcount: number,
    prot: number,
  ): MapPagesResult;
  unmap_pages?(
    domain: IommuDomain,
    iova: number,
    pgsize: number,
    pgcount: number,
    gather: IommuIotlbGather,
  ): number;
  /** void before v6.7: the core ignores the result then. */
  iotlb_sync_map?(domain: IommuDomain, iova: number, size: number): number;
  iotlb_sync?(domain: IommuDomain, gather: IommuIotlbGather): void;
  flush_iotlb_all?(domain: IommuDomain): void;
  iova_to_phys?(domain: IommuDomain, iova: number): number;
  free?(domain: IommuDomain): void;
}

export interface IommuDomainGeometry {
  aperture_start: number;
  /** Inclusive. 2^64−1 is stored as Number.MAX_SAFE_INTEGER. */
  aperture_end: number;
  force_aperture: boolean;
}

/** A mapping as the panels show it: merged IOVA ranges. */
export interface MappingRange {
  iova: number;
  pa: number;
  size: number;
  prot: number;
  pgsize: number;
}

/**
 * struct iommu_domain. Drivers extend it with their own state (page table, ASID, mapping tree...).
 */
export class IommuDomain {
  /** IOMMU_DOMAIN_* */
  type: number;
  pgsize_bitmap = 0;
  geometry: IommuDomainGeometry = { aperture_start: 0, aperture_end: 0, force_aperture: false };
  /** The instance the domain is bound to; null while a finalise-on-attach domain is unfinalised. */
  iommu: IommuDevice | null;
  /** Devices attached now (the core keeps this; drivers count their own endpoints as Linux does). */
  readonly devices: Device[] = [];
  /** Set by the first successful attach (the map-before-attach-failed check watches for maps before it). */
  ever_attached = false;
  /** dma-iommu's cookie (engine/dma): the IOVA allocator and flush queue, created on first use. */
  dma_cookie: unknown = null;
  /** A static domain (identity, blocked) is never freed. */
  is_static = false;
  freed = false;

  constructor(
    readonly machine: Machine,
    readonly id: number,
    type: number,
    /** domain->owner: the driver that allocated it. */
    readonly owner: IommuDriver,
    public ops: DomainOps,
    iommu: IommuDevice | null,
  ) {
    this.type = type;
    this.iommu = iommu;
  }

  /** The mappings for panels and oracles, in IOVA order. Drivers with a table override this. */
  mappings(): MappingRange[] {
    return [];
  }

  /** The domain's own page table, for the panels' table view (null: none, or not the domain's). */
  page_table(): IoPgtable | null {
    return null;
  }

  /** A short description of the driver-specific state for the Domains panel (ASID, levels...). */
  describe(): Record<string, string | number | boolean> {
    return {};
  }

  /**
   * Whether the driver refuses maps with this prot on this domain whatever its attachment (a flag
   * the hardware does not offer): such a refusal says nothing about maps before the first attach.
   */
  refuses_prot(_prot: number): boolean {
    return false;
  }
}

/**
 * A domain whose driver keeps its own radix page table (io-pgtable-arm, VT-d, AMD v1, s390): the
 * table is the domain's mappings, and NULL until the driver allocates it (or after it is freed).
 */
export class PagingDomain extends IommuDomain {
  pgtbl: IoPgtable | null = null;

  override mappings(): MappingRange[] {
    return this.pgtbl ? this.pgtbl.mappings() : [];
  }

  override page_table(): IoPgtable | null {
    return this.pgtbl;
  }
}
