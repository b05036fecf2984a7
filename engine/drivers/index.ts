/** Every driver model the lab has, by the name scripts use in lab.add_iommu(). */
import type { IommuDriver } from '../core/driver.ts';
import { amd_iommu } from './amd-iommu/index.ts';
import { arm_smmu_v3 } from './arm-smmu-v3/index.ts';
import { intel_iommu } from './intel-iommu/index.ts';
import { omap_iommu } from './omap-iommu/index.ts';
import { s390_iommu } from './s390-iommu/index.ts';
import { tegra_gart } from './tegra-gart/index.ts';
import { virtio_iommu } from './virtio-iommu/index.ts';

/**
 * Driver objects are frozen: machine state points at them (domain.owner, iommu.driver) and a
 * time-travel checkpoint must share them, not copy them, or the owner check on attach would see two
 * different drivers (deep-clone shares frozen objects).
 */
export const DRIVERS: ReadonlyMap<string, IommuDriver> = new Map<string, IommuDriver>(
  [arm_smmu_v3, virtio_iommu, intel_iommu, amd_iommu, s390_iommu, omap_iommu, tegra_gart].map((d) => [
    d.name,
    Object.freeze(d),
  ]),
);

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
