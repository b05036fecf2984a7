/**
 * A hole stops iommu_unmap — IOMMU-FACTS §2.3, scenario idea 8.
 *
 * With [0, 8K) and [12K, 16K) mapped, iommu_unmap(0, 16K) unmaps the first two pages, reaches the
 * empty third and stops: it returns 8K and leaves [12K, 16K) mapped. The lab raises `unmap-of-hole`.
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
  SZ_4K,
  SZ_8K,
  SZ_16K,
  expect,
} from 'iommu-lab';

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const dev = lab.add_device('dev0', { iommu: smmu });
const domain = iommu_paging_domain_alloc(dev);
if (IS_ERR(domain)) throw new Error('no paging domain');
const RW = IOMMU_READ | IOMMU_WRITE;

expect(iommu_map(domain, 0, 0x8000_0000, SZ_8K, RW)).toBe(0);
expect(iommu_map(domain, 0x3000, 0x8000_3000, SZ_4K, RW)).toBe(0);

expect(iommu_unmap(domain, 0, SZ_16K)).toBe(SZ_8K);
expect(iommu_iova_to_phys(domain, 0x1000)).toBe(0);
expect(iommu_iova_to_phys(domain, 0x3000)).toBe(0x8000_3000);
expect(lab.checks().map((c) => c.id)).toContain('unmap-of-hole');
