/**
 * Attaching a domain to a device behind another IOMMU instance — IOMMU-FACTS §1.5, §6 (c),
 * scenario idea 14. For the matrix.
 *
 * A domain bound to one SMMU (its ASID and table format belong to that SMMU) or one virtio-iommu
 * (its domain ID lives in that device) cannot be attached to a device behind another: -EINVAL, and
 * the caller allocates a new domain. Before v6.9 (SMMUv3) and v6.16 (virtio) the binding happened at
 * the first attach, so the refusal came on the second. VT-d, AMD-Vi and s390 domains may span
 * several IOMMU units. omap refuses a second client whatever the instance: -EINVAL in every era
 * the lab models (it was -EBUSY until the v6.2 series that made incompatible attaches -EINVAL).
 */
import {
  lab,
  iommu_paging_domain_alloc,
  iommu_domain_alloc,
  iommu_attach_device,
  IS_ERR,
  EINVAL,
  expect,
} from 'iommu-lab';

const driver = lab.params.driver ?? 'arm-smmu-v3';
const kernel = lab.kernel();
const platform = driver === 'omap-iommu' || driver === 'tegra-gart';
const x = lab.add_iommu('iommu0', driver);
const y = lab.add_iommu('iommu1', driver);
const devX = lab.add_device('devX', { iommu: x, bus: platform ? 'platform' : 'pci' });
const devY = lab.add_device('devY', { iommu: y, bus: platform ? 'platform' : 'pci' });
const domain =
  kernel === 'v6.16'
    ? iommu_paging_domain_alloc(devX)
    : iommu_domain_alloc(lab.bus(platform ? 'platform' : 'pci'));
if (!domain || IS_ERR(domain)) throw new Error(`${driver} gave no paging domain`);

expect(iommu_attach_device(domain, devX)).toBe(0);
const ret = iommu_attach_device(domain, devY);
console.log(`${driver} ${kernel}: attach to a device behind another instance → ${ret}`);
const want: Record<string, number> = {
  'arm-smmu-v3': -EINVAL,
  'virtio-iommu': -EINVAL,
  'omap-iommu': -EINVAL,
};
expect(ret).toBe(want[driver] ?? 0);
