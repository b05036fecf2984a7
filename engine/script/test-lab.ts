/**
 * For tests: a lab driven as a script drives it, with one IOMMU of `driver` and one device behind
 * it, plus the accessors driver tests keep needing. Lives beside the module it wraps so every
 * layer's tests share it (tests may drive the engine from the top; code may not).
 */
import type * as Api from './iommu-lab.d.ts';
import type { IommuDomain } from '../core/domain.ts';
import { createLabModule } from './module.ts';
import type { LabSession } from './session.ts';

export const KERNELS = ['v6.6', 'v6.8', 'v6.16'] as const;
export type Kernel = (typeof KERNELS)[number];

export interface TestLabSpec<D extends Api.DriverName> {
  kernel: Kernel;
  driver: D;
  options?: Api.IommuOptionsByDriver[D];
  /** Names of the IOMMU and the device (drivers' tests name them as Linux would: dmar0, nic0). */
  iommuName?: string;
  deviceName?: string;
  device?: Partial<Api.DeviceSpec>;
}

export function testLab<D extends Api.DriverName>(spec: TestLabSpec<D>) {
  const { exports, session } = createLabModule({ kernel: spec.kernel });
  const L = exports as unknown as typeof Api;
  const iommu = L.lab.add_iommu(spec.iommuName ?? 'iommu0', spec.driver, spec.options);
  const dev = L.lab.add_device(spec.deviceName ?? 'dev0', { iommu, ...spec.device });
  const bus = spec.device?.bus ?? 'pci';
  return {
    L,
    session: session as LabSession,
    iommu,
    dev,
    /** The engine's own instance behind the IOMMU handle. */
    unit: session.machine.iommus[0],
    /** The engine's own domain behind a handle. */
    internal: <T extends IommuDomain = IommuDomain>(d: Api.IommuDomain) =>
      session.machine.domain_by_id.get(d.id) as T,
    /** A fresh UNMANAGED domain the way each era's callers get one. */
    domain(): Api.IommuDomain {
      const d =
        spec.kernel === 'v6.16' ? L.iommu_paging_domain_alloc(dev) : L.iommu_domain_alloc(L.lab.bus(bus));
      if (!d || L.IS_ERR(d)) throw new Error(`${spec.driver} ${spec.kernel}: no paging domain`);
      return d;
    },
    /** Trace events named `name`, from event index `from` on. */
    events: (name: string, from = 0) =>
      L.lab
        .trace()
        .slice(from)
        .filter((e) => e.name === name),
  };
}
