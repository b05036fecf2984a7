import { Iotlb } from '../iotlb/iotlb.ts';
import { WalkResult } from '../pgtable/types.ts';
import type { Device } from './device.ts';
import type { IommuDriver, IommuOps } from './driver.ts';
import type { Machine } from './machine.ts';

/** A fault the instance recorded (iommu.faults). */
export interface IommuFault {
  reason: string;
  iova: number;
  write: boolean;
  device: string;
  step: number;
}

/**
 * How DMA from a device is handled right now, as the hardware sees it (STE/context entry/DTE,
 * or the virtio host's endpoint state).
 */
export const DMA_BYPASS = -1;
export const DMA_ABORT = -2;

/** What a walk found for one IOVA. */
export class WalkOut {
  /** IOVA and PA of the start of the leaf found, its size and prot. */
  iova = 0;
  pa = 0;
  size = 0;
  prot = 0;
  /** Why a walk failed, when it did: 'translation', 'address-size', 'permission', ... */
  fault = '';
  /**
   * The translation found is one the OS no longer holds (a virtio host still mapping what the
   * guest unmapped, its UNMAP not sent yet): the access is reported 'stale', as a stale IOTLB hit is.
   */
  stale = false;

  /** Take what a page-table walk found. */
  from(w: WalkResult): true {
    this.iova = w.iova_base;
    this.pa = w.pa_base;
    this.size = w.size;
    this.prot = w.prot;
    return true;
  }
}

/**
 * One IOMMU instance: struct iommu_device plus the hardware model behind it. Each driver extends it
 * with its hardware state (stream table, context tables, command queue, virtio host...).
 */
export abstract class IommuDevice {
  readonly tlb: Iotlb;
  readonly faults: IommuFault[] = [];
  /** IOMMU_CAP_*-style facts the hardware model exposes to the core's DMA path. */
  caches_not_present = false;
  /** False for hardware with no translation cache at all (the Tegra GART): DMA never touches `tlb`. */
  has_iotlb = true;
  /** The fault reason of an access the translation does not permit (virtio reports it as a MAPPING fault). */
  permission_fault = 'permission';
  /** Why the driver's probe of this instance failed, if it did: named when a device behind it is refused. */
  probe_failure = '';

  constructor(
    readonly machine: Machine,
    readonly name: string,
    readonly driver: IommuDriver,
    tlb_entries: number,
  ) {
    this.tlb = new Iotlb(tlb_entries, machine.trace, name);
  }

  get ops(): IommuOps {
    return this.driver.ops(this.machine, this);
  }

  /**
   * The IOTLB tag DMA from `dev` uses now (ASID, domain ID...), or DMA_BYPASS when the device is
   * in bypass/identity, or DMA_ABORT when its DMA is blocked. `fault` says why for DMA_ABORT.
   */
  abstract dma_tag(dev: Device): number;

  /** Why dma_tag said DMA_ABORT ('blocked', 'no-domain', ...). */
  dma_abort_reason(_dev: Device): string {
    return 'blocked';
  }

  /**
   * Whether the hardware records a fault for an access that dma_tag aborted (iommu.faults and an
   * io_page_fault event). Most do: VT-d faults on a non-present context entry, AMD logs
   * IO_PAGE_FAULT for a DTE with V=1, TV=0. An SMMUv3 abort STE records no event.
   */
  dma_abort_recorded(_dev: Device, _iova: number, _write: boolean): boolean {
    return true;
  }

  /** Walk the tables (or the host's mappings) in force for `dev` at `iova`. */
  abstract dma_walk(dev: Device, iova: number, out: WalkOut): boolean;
}
