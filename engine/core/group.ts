import type { Device } from './device.ts';
import type { IommuDomain } from './domain.ts';

/** struct iommu_group (facts §1.5). */
export class IommuGroup {
  readonly devices: Device[] = [];
  default_domain: IommuDomain | null = null;
  blocking_domain: IommuDomain | null = null;
  /** The domain every device of the group is attached to now. */
  domain: IommuDomain | null = null;
  /** DMA owner (VFIO, iommufd): any object, compared by identity. */
  owner: unknown = null;
  owner_cnt = 0;

  constructor(
    readonly id: number,
    /** The name scripts gave (`group: 'slot0'`), or null for a device's own group. */
    readonly name: string | null,
  ) {}
}
