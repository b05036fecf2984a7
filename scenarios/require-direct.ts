/**
 * require_direct — IOMMU-FACTS §1.5, scenario idea 11.
 *
 * A device with a DIRECT region (an RMRR, an IORT RMR) must keep its 1:1 mappings at all times, so
 * the core refuses to attach it to a blocking domain — and VFIO's claim of DMA ownership, which
 * starts with exactly that, fails with -EINVAL. A DIRECT_RELAXABLE region (USB, graphics RMRRs)
 * does not set require_direct, and the claim succeeds.
 */
import {
  lab,
  iommu_device_claim_dma_owner,
  iommu_device_release_dma_owner,
  iommu_get_domain_for_dev,
  EINVAL,
  expect,
} from 'iommu-lab';

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const gpu = lab.add_device('gpu', {
  iommu: smmu,
  resv: [{ start: 0x8000_0000, length: 0x10_0000, type: 'direct' }],
});
const usb = lab.add_device('usb', {
  iommu: smmu,
  resv: [{ start: 0x9000_0000, length: 0x10_0000, type: 'direct-relaxable' }],
});

const before = iommu_get_domain_for_dev(gpu);
expect(iommu_device_claim_dma_owner(gpu, 'vfio')).toBe(-EINVAL);
expect(iommu_get_domain_for_dev(gpu)).toBe(before);
expect(lab.checks().map((c) => c.id)).toContain('require-direct-blocked');

const usbDefault = iommu_get_domain_for_dev(usb);
expect(iommu_device_claim_dma_owner(usb, 'vfio')).toBe(0);
expect(iommu_get_domain_for_dev(usb)).not.toBe(usbDefault);
iommu_device_release_dma_owner(usb);
expect(iommu_get_domain_for_dev(usb)).toBe(usbDefault);
