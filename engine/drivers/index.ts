/** Every driver model the lab has, by the name scripts use in lab.add_iommu(). */
import type { IommuDriver } from '../core/driver.ts';
import { amd_iommu } from './amd-iommu/index.ts';
import { arm_smmu_v3 } from './arm-smmu-v3/index.ts';
import { intel_iommu } from './intel-iommu/index.ts';
import { omap_iommu } from './omap-iommu/index.ts';
import { s390_iommu } from './s390-iommu/index.ts';
import { tegra_gart } from './tegra-gart/index.ts';
import { virtio_iommu } from './virtio-iommu/index.ts';

export const DRIVERS: ReadonlyMap<string, IommuDriver> = new Map<string, IommuDriver>([
  [arm_smmu_v3.name, arm_smmu_v3],
  [virtio_iommu.name, virtio_iommu],
  [intel_iommu.name, intel_iommu],
  [amd_iommu.name, amd_iommu],
  [s390_iommu.name, s390_iommu],
  [omap_iommu.name, omap_iommu],
  [tegra_gart.name, tegra_gart],
]);

/** The driver names SCRIPT-API.md lists, modelled or not, in its order. */
export const DRIVER_NAMES = [
  'arm-smmu-v3',
  'intel-iommu',
  'amd-iommu',
  'virtio-iommu',
  'omap-iommu',
  'tegra-gart',
  's390-iommu',
] as const;
