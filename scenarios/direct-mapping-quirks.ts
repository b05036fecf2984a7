/**
 * Direct-mapping quirks — IOMMU-FACTS §3.3, scenario idea 10.
 *
 * The core maps DIRECT regions 1:1 in DMA domains only, rounding the start *up* to a page: a region
 * at 0x1800 of length 0x1000 covers only the page at 0x2000, so 0x1800–0x1FFF is never mapped. A page
 * that is already mapped (here by the first device's region) is skipped, so the second device adds
 * no map at all. UNMANAGED and IDENTITY domains get no direct mappings, but require_direct is set.
 */
import {
  lab,
  iommu_get_domain_for_dev,
  iommu_paging_domain_alloc,
  iommu_iova_to_phys,
  iommu_device_claim_dma_owner,
  IS_ERR,
  EINVAL,
  IOMMU_DOMAIN_DMA,
  expect,
} from 'iommu-lab';

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
lab.add_device('first', {
  iommu: smmu,
  group: 'g',
  resv: [{ start: 0x2000, length: 0x1000, type: 'direct' }],
});
const mapsBefore = lab.trace().filter((e) => e.name === 'map').length;
const second = lab.add_device('second', {
  iommu: smmu,
  group: 'g',
  resv: [{ start: 0x1800, length: 0x1000, type: 'direct' }],
});
const mapsAfter = lab.trace().filter((e) => e.name === 'map').length;

const dma = iommu_get_domain_for_dev(second);
if (!dma) throw new Error('no default domain');
expect(dma.type).toBe(IOMMU_DOMAIN_DMA);
expect(mapsAfter - mapsBefore).toBe(0);
expect(iommu_iova_to_phys(dma, 0x2000)).toBe(0x2000);
expect(iommu_iova_to_phys(dma, 0x1800)).toBe(0);

// An UNMANAGED domain gets nothing; the DIRECT region still forbids blocking the device.
const unmanaged = iommu_paging_domain_alloc(second);
if (IS_ERR(unmanaged)) throw new Error('no paging domain');
expect(iommu_iova_to_phys(unmanaged, 0x2000)).toBe(0);
const ident = lab.add_device('ident', {
  iommu: smmu,
  default_domain: 'identity',
  resv: [{ start: 0x4000, length: 0x1000, type: 'direct' }],
});
expect(iommu_device_claim_dma_owner(ident, 'vfio')).toBe(-EINVAL);
