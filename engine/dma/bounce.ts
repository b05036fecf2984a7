/**
 * dma-iommu's bounce for untrusted devices (iommu_dma_map_page; iommu_dma_map_swiotlb from v6.16).
 * An IOMMU maps whole granules, so a buffer that does not fill its granules would leave the rest of
 * its pages — other kernel data — open to the device. For a device that is not trusted (a PCI device
 * behind an external-facing port: Thunderbolt, USB4) dma-iommu copies such a buffer into a swiotlb
 * bounce buffer of whole granules (swiotlb.ts) and maps that instead; dma_unmap copies back what the
 * device wrote.
 */
import { DMA_FROM_DEVICE, DMA_MAPPING_ERROR } from '../core/constants.ts';
import type { Device } from '../core/device.ts';
import type { IovaDomain } from './iova.ts';
import { is_swiotlb_active, swiotlb_tbl_map_single } from './swiotlb.ts';
import { ev } from './trace-events.ts';

/** dev_is_untrusted: only a PCI device can be marked untrusted (pci_dev->untrusted). */
export function dev_is_untrusted(dev: Device): boolean {
  return dev.bus === 'pci' && !dev.trusted;
}

/**
 * dev_use_swiotlb: CONFIG_SWIOTLB and an untrusted device. Its other reason, a kmalloc buffer not
 * safe for a non-coherent device (dma_kmalloc_needs_bounce), never holds: the lab's devices are
 * DMA-coherent.
 */
export function dev_use_swiotlb(dev: Device): boolean {
  return dev_is_untrusted(dev);
}

/** iova_offset(iovad, phys | size): a buffer whose start or size is not on a granule bounces. */
export function iommu_dma_needs_bounce(dev: Device, iovad: IovaDomain, phys: number, size: number): boolean {
  return dev_use_swiotlb(dev) && (iovad.iova_offset(phys) !== 0 || iovad.iova_offset(size) !== 0);
}

/**
 * The bounce buffer that dma-iommu maps in place of [phys, phys + size), or DMA_MAPPING_ERROR when
 * swiotlb is inactive ("DMA bounce buffers are inactive, unable to map unaligned transaction") or
 * full. The allocation is whole granules (alloc_align_mask = iova_mask); what the device must not see
 * of it is zeroed, per era (kernel-profile bounce_zero_padding_only):
 * - from v6.10 the padding before and after the data, for untrusted devices only: the data itself is
 *   the original buffer's, as swiotlb_tbl_map_single copied it in;
 * - before, from the end of the data to the end of the allocation for DMA_TO_DEVICE and
 *   DMA_BIDIRECTIONAL, and the whole allocation for DMA_FROM_DEVICE — over the copy swiotlb had just
 *   made, so a device that reads before it writes sees zeros, not the buffer.
 */
export function iommu_dma_map_swiotlb(
  dev: Device,
  iovad: IovaDomain,
  phys: number,
  size: number,
  dir: number,
): number {
  const m = dev.machine;
  if (!is_swiotlb_active(m)) return DMA_MAPPING_ERROR;
  const t = m.trace;
  t.emit(ev.swiotlb_bounced, t.str(dev.name), phys, size);
  const tlb_addr = swiotlb_tbl_map_single(dev, phys, size, iovad.granule - 1);
  if (tlb_addr === DMA_MAPPING_ERROR) return tlb_addr;
  if (m.profile.has('bounce_zero_padding_only')) {
    if (dev_is_untrusted(dev)) {
      const pre = tlb_addr - iovad.iova_offset(tlb_addr);
      zero(dev, pre, tlb_addr - pre);
      const post = tlb_addr + size;
      zero(dev, post, iovad.iova_align(post) - post);
    }
  } else {
    const from = dir === DMA_FROM_DEVICE ? 0 : size;
    zero(dev, tlb_addr + from, iovad.iova_align(size) - from);
  }
  return tlb_addr;
}

function zero(dev: Device, start: number, size: number): void {
  if (size <= 0) return;
  const m = dev.machine;
  m.mem.write(start, new Uint8Array(size));
  m.trace.emit(ev.swiotlb_zero, m.trace.str(dev.name), start, size);
}
