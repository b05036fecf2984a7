import { DMA_BIT_MASK } from './constants.ts';
import type { IommuGroup } from './group.ts';
import type { IommuDevice } from './iommu-device.ts';
import type { Machine } from './machine.ts';
import type { ResvRegion } from './resv.ts';

export type Bus = 'pci' | 'platform';
export type DefaultDomainRequest = 'identity' | 'dma' | 'dma-fq' | 'blocked';

/** struct device, as far as the IOMMU core sees it (with dev->iommu folded in). */
export class Device {
  group: IommuGroup | null = null;
  /** dev->iommu->require_direct: a DIRECT region forbids blocking this device. */
  require_direct = false;
  /** dev_iommu_priv: the driver's per-device data (stream IDs, endpoint ID, ...). */
  priv: unknown = null;
  /** dma-iommu's per-device state (engine/dma), created on first use. */
  dma: unknown = null;
  /** dev->iommu->shadow_on_flush: flushes are costly (s390 shadow tables), so dma-iommu uses one large flush queue. */
  shadow_on_flush = false;
  /** The driver's reserved regions, computed once (resv.ts device_resv_regions). */
  resv_regions: readonly ResvRegion[] | null = null;
  /** Set once probe finished: the device is on its IOMMU. */
  probed = false;
  /**
   * dev->dma_mask (and coherent_dma_mask): DMA_BIT_MASK(64), as a driver sets with
   * dma_set_mask_and_coherent at probe; the script may set another.
   */
  dma_mask = DMA_BIT_MASK(64);

  constructor(
    readonly machine: Machine,
    readonly name: string,
    readonly iommu: IommuDevice,
    readonly bus: Bus,
    /** Firmware-described regions (RMRR, IORT RMR, DT iommu-addresses, virtio PROBE results). */
    readonly fw_resv: readonly ResvRegion[],
    readonly trusted: boolean,
    readonly group_name: string | null,
    readonly default_domain_request: DefaultDomainRequest | null,
  ) {}
}
