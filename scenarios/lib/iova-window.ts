/**
 * Shared by the matrix scenarios: an IOVA window every driver can map — inside the domain's aperture
 * (the GART's is a window at 0x58000000) and clear of the device's reserved regions (s390 reports
 * everything outside its DMA window as reserved).
 */
import { iommu_get_resv_regions, type Device, type IommuDomain } from 'iommu-lab';

export function iova_window(dev: Device, domain: IommuDomain, size = 0x10_0000): number {
  const g = domain.geometry;
  let base = Math.ceil((g.aperture_start + size) / size) * size;
  for (let moved = true; moved;) {
    moved = false;
    for (const r of iommu_get_resv_regions(dev)) {
      if (base < r.start + r.length && r.start < base + size) {
        base = Math.ceil((r.start + r.length) / size) * size;
        moved = true;
      }
    }
  }
  return base;
}
