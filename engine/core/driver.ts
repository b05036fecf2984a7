import type { Device } from './device.ts';
import type { DomainOps, IommuDomain } from './domain.ts';
import type { IommuDevice } from './iommu-device.ts';
import type { Machine } from './machine.ts';
import type { OptionTable } from './options.ts';
import type { ResvRegion } from './resv.ts';

/** What a paging-domain allocation returns: the domain, or a negative errno (an error pointer). */
export type DomainOrErr = IommuDomain | number;

/**
 * struct iommu_ops: one static table per driver. Functions take the objects they act on; the
 * instance is reached through `dev.iommu`, as Linux reaches it through dev->iommu.
 */
export interface IommuOps {
  /** 0, or -ENODEV: not this driver's device. */
  probe_device(dev: Device): number;
  release_device?(dev: Device): void;
  /** IOMMU_DOMAIN_IDENTITY, IOMMU_DOMAIN_DMA, or 0 for no preference. */
  def_domain_type?(dev: Device): number;
  get_resv_regions(dev: Device): ResvRegion[];
  domain_alloc_paging?(dev: Device): DomainOrErr;
  /** Legacy bus-based allocation: no device, so finalise-style drivers return unfinalised domains. */
  domain_alloc?(machine: Machine, type: number): IommuDomain | null;
  /** ops->domain_alloc_identity(dev) (v6.16): an identity domain for dev, static or not (virtio). */
  domain_alloc_identity?(dev: Device): DomainOrErr;
  /** Static domains (modern kernels): one per machine, made on first use. */
  identity_domain?(machine: Machine): IommuDomain;
  blocked_domain?(machine: Machine): IommuDomain;
  /** v6.6 drivers with no default domain: how a device leaves its last domain. */
  set_platform_dma_ops?(dev: Device): void;
  /** IOMMU_CAP_DEFERRED_FLUSH: unmap does no TLB work, so the lazy flush queue pays off. */
  deferred_flush?(dev: Device): boolean;
}

/** A driver model: its options, its instance factory and its ops. One file or folder per driver. */
// The options type is each driver's own; code that handles any driver sees `any` there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface IommuDriver<O extends object = any> {
  readonly name: string;
  /** Options with their Linux/QEMU defaults and validation. */
  readonly options: OptionTable<O>;
  /**
   * The arch the driver lives on picks the Kconfig default: lazy DMA on x86 and s390, strict
   * elsewhere; 32-bit Arm ('arm': omap, tegra-gart) has no CONFIG_IOMMU_DMA, so IDENTITY.
   */
  readonly arch: 'arm64' | 'arm' | 'x86' | 's390' | 'any';
  /** Throw a KernelVersionError when the profile's kernel lacks the driver. */
  check_available?(machine: Machine): void;
  /**
   * ops->device_group where the driver, not the bus topology, decides: the name of the group every
   * device behind `iommu` joins (omap: the MMU's one group). Absent: the device's `group` option.
   */
  device_group?(iommu: IommuDevice): string;
  /**
   * Why the DMA API of this driver's devices is not the core's dma-iommu/dma-direct in this era
   * (s390 before v6.7: the architecture's own DMA ops), or null when it is.
   */
  own_dma_api?(machine: Machine): string | null;
  /**
   * Why firmware-described reserved regions (a device's `resv`) never reach the core through this
   * driver, when they do not: its get_resv_regions is missing or reports only its own.
   */
  readonly ignores_fw_resv?: string;
  /**
   * The region types firmware can describe for this driver's devices, and the table they come from
   * (VT-d: the DMAR table's RMRRs); absent when any type can come (DT, IORT, a virtio host's PROBE).
   */
  readonly fw_resv_types?: { readonly types: readonly number[]; readonly source: string };
  create(machine: Machine, name: string, options: O): IommuDevice;
  /** The ops in force: per era, and for drivers whose instances differ (s390's rtr), per instance. */
  ops(machine: Machine, iommu: IommuDevice): IommuOps;
  /** ops->pgsize_bitmap: a global that some legacy drivers write at probe (so it lives per machine). */
  global_pgsize_bitmap(machine: Machine): number;
  readonly default_domain_ops: DomainOps;
}
