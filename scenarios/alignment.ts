/**
 * Alignment — IOMMU-FACTS §2.1, §2.3, scenario idea 4.
 *
 * The core refuses a map whose IOVA, physical address or size is not a multiple of the domain's
 * smallest page (-EINVAL, "unaligned"), and an unaligned unmap unmaps nothing (returns 0). Neither
 * reaches the driver, so the page table does not change.
 */
import {
  lab,
  iommu_paging_domain_alloc,
  iommu_map,
  iommu_unmap,
  iommu_iova_to_phys,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  EINVAL,
  SZ_4K,
  expect,
} from 'iommu-lab';

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const dev = lab.add_device('dev0', { iommu: smmu });
const domain = iommu_paging_domain_alloc(dev);
if (IS_ERR(domain)) throw new Error('no paging domain');
const RW = IOMMU_READ | IOMMU_WRITE;

expect(iommu_map(domain, 0x1800, 0x8000_0000, SZ_4K, RW)).toBe(-EINVAL);
expect(iommu_map(domain, 0x1000, 0x1800, SZ_4K, RW)).toBe(-EINVAL);
expect(iommu_map(domain, 0x1000, 0x8000_0000, 0x1800, RW)).toBe(-EINVAL);
expect(iommu_unmap(domain, 0x1800, SZ_4K)).toBe(0);

// Nothing reached the driver: no map_pages call, nothing mapped.
expect(lab.trace().filter((e) => e.name === 'map_pages')).toHaveLength(0);
expect(iommu_iova_to_phys(domain, 0x1000)).toBe(0);
expect(lab.checks().filter((c) => c.id === 'unaligned-map')).toHaveLength(3);
