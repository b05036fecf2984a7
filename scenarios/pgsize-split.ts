/**
 * Page-size split — IOMMU-FACTS §2.2, scenario idea 3.
 *
 * iommu_map() cuts a range into calls to the driver's map_pages(): each call uses the largest page
 * both the IOVA and the physical address are aligned to, and stops where a larger page becomes
 * possible. With 4K|2M|1G, mapping 0x201000 bytes at IOVA 0x1FF000 → PA 0x7FF000 is one 4K page
 * and then one 2M block; 1G is never tried because IOVA and PA disagree modulo 1G.
 */
import {
  lab,
  iommu_paging_domain_alloc,
  iommu_pgsize,
  iommu_map,
  iommu_iova_to_phys,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  SZ_4K,
  SZ_2M,
  expect,
} from 'iommu-lab';

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const nic = lab.add_device('nic0', { iommu: smmu });
const domain = iommu_paging_domain_alloc(nic);
if (IS_ERR(domain)) throw new Error('no paging domain');

// 4K | 2M | 1G, the stage-1 sizes of a 4K granule.
expect(domain.pgsize_bitmap).toBe(0x40201000);
expect(iommu_pgsize(domain, 0x1ff000, 0x7ff000, 0x201000)).toEqual({ pgsize: SZ_4K, count: 1 });
expect(iommu_pgsize(domain, 0x200000, 0x800000, 0x200000)).toEqual({ pgsize: SZ_2M, count: 1 });

expect(iommu_map(domain, 0x1ff000, 0x7ff000, 0x201000, IOMMU_READ | IOMMU_WRITE)).toBe(0);
const calls = lab
  .trace()
  .filter((e) => e.name === 'map_pages')
  .map((e) => [e.pgsize, e.pgcount]);
expect(calls).toEqual([
  [SZ_4K, 1],
  [SZ_2M, 1],
]);
expect(iommu_iova_to_phys(domain, 0x1ff000)).toBe(0x7ff000);
expect(iommu_iova_to_phys(domain, 0x3ff123)).toBe(0x9ff123);
console.log('map_pages calls (pgsize, count):', calls);
