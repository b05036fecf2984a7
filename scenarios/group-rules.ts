/**
 * Group rules — IOMMU-FACTS §1.5, scenario idea 15.
 *
 * Two functions that share an iommu_group (no ACS between them) can only move together:
 * iommu_attach_device() refuses a group of more than one device (-EINVAL), iommu_attach_group()
 * moves both, and once the group sits in a domain that is neither its default nor its blocking
 * domain, another attach is -EBUSY.
 */
import {
  lab,
  iommu_paging_domain_alloc,
  iommu_attach_device,
  iommu_attach_group,
  iommu_detach_group,
  iommu_group_get,
  iommu_get_domain_for_dev,
  IS_ERR,
  EINVAL,
  EBUSY,
  expect,
} from 'iommu-lab';

const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');
const fn0 = lab.add_device('fn0', { iommu: smmu, group: 'slot3' });
const fn1 = lab.add_device('fn1', { iommu: smmu, group: 'slot3' });
const group = iommu_group_get(fn0);
if (!group) throw new Error('no group');
expect(iommu_group_get(fn1)).toBe(group);

const d1 = iommu_paging_domain_alloc(fn0);
const d2 = iommu_paging_domain_alloc(fn0);
if (IS_ERR(d1) || IS_ERR(d2)) throw new Error('no paging domain');
const def = iommu_get_domain_for_dev(fn0);

expect(iommu_attach_device(d1, fn0)).toBe(-EINVAL);
expect(iommu_attach_group(d1, group)).toBe(0);
expect(iommu_get_domain_for_dev(fn0)).toBe(d1);
expect(iommu_get_domain_for_dev(fn1)).toBe(d1);
expect(iommu_attach_group(d2, group)).toBe(-EBUSY);

iommu_detach_group(d1, group);
expect(iommu_get_domain_for_dev(fn1)).toBe(def);
expect(iommu_attach_group(d2, group)).toBe(0);
