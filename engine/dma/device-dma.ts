/**
 * What the DMA layer keeps per device: the PCI 32-bit IOVA preference and, as CONFIG_DMA_API_DEBUG
 * does, every live mapping, so an unmap that matches none can be reported.
 */
import type { Device } from '../core/device.ts';
import type { IommuDomain } from '../core/domain.ts';

export type DmaMapKind = 'single' | 'sg' | 'coherent';

/** One live DMA-API mapping, keyed by the DMA address the driver was given. */
export class DmaMapRecord {
  constructor(
    readonly kind: DmaMapKind,
    readonly dma_addr: number,
    /** The size the driver asked for (single, coherent), or the IOVA length (sg). */
    readonly size: number,
    /** paddr for single mappings, cpu_addr for coherent ones, 0 for sg. */
    readonly paddr: number,
    /** Scatterlist entries (sg only). */
    readonly nents: number,
    /** The DMA domain it was mapped in; null for dma-direct. */
    readonly domain: IommuDomain | null,
    /** DMA_BIDIRECTIONAL, DMA_TO_DEVICE or DMA_FROM_DEVICE (coherent memory: bidirectional). */
    readonly dir = 0,
  ) {}
}

export class DeviceDma {
  /**
   * dev->iommu->pci_32bit_workaround: a PCI device first asks for IOVAs below 4 GiB (single address
   * cycles) unless iommu_dma_forcedac is set; the first failure there clears it for good.
   */
  pci_32bit_workaround: boolean;
  /** Live mappings by DMA address (dma-direct hands out the same address for each map of a buffer). */
  readonly maps = new Map<number, DmaMapRecord[]>();

  constructor(dev: Device) {
    this.pci_32bit_workaround = dev.bus === 'pci' && !dev.machine.iommu_dma_forcedac;
  }
}

export function dev_dma_state(dev: Device): DeviceDma {
  return (dev.dma ??= new DeviceDma(dev)) as DeviceDma;
}
