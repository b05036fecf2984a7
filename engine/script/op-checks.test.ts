/**
 * What every driver's domain ops refuse when a script calls them directly (op-checks.ts, checked at
 * the script's door): a device behind another driver's IOMMU, and a pgsize × pgcount range past
 * 2^53. Each driver, each era that has it, the same exception.
 */
import { describe, expect, it } from 'vitest';
import { KernelVersionError } from '../core/kernel-profile.ts';
import type * as Api from './iommu-lab.d.ts';
import { createLabModule } from './module.ts';
import { DRIVERS } from '../drivers/index.ts';

const KERNELS: Api.KernelName[] = ['v6.6', 'v6.8', 'v6.16'];
const PLATFORM = new Set(['omap-iommu', 'tegra-gart']);
const BUS = (driver: string) => (PLATFORM.has(driver) ? 'platform' : 'pci');

/** A lab on `kernel` with one `driver` IOMMU, or null where the era lacks the driver. */
function labWith(driver: string, kernel: Api.KernelName) {
  const L = createLabModule({ kernel }).exports as unknown as typeof Api;
  try {
    return { L, iommu: L.lab.add_iommu('u0', driver as 'arm-smmu-v3') };
  } catch (e) {
    if (e instanceof KernelVersionError || (e as Error).name === 'KernelVersionError') return null;
    throw e;
  }
}

function pagingDomain(L: typeof Api, dev: Api.Device, driver: string, kernel: Api.KernelName) {
  const d =
    kernel === 'v6.16' ? L.iommu_paging_domain_alloc(dev) : L.iommu_domain_alloc(L.lab.bus(BUS(driver)));
  if (!d || L.IS_ERR(d)) throw new Error(`${driver} ${kernel}: no paging domain`);
  return d as Api.IommuDomain;
}

/** The trace from `from` on, less the script's own calls. */
function driverEvents(L: typeof Api, from: number): string[] {
  return L.lab
    .trace()
    .slice(from)
    .map((e) => e.name)
    .filter((n) => n !== 'api_call' && n !== 'api_return');
}

/** Every driver in every era that has it. */
const cases = [...DRIVERS.keys()]
  .flatMap((driver) => KERNELS.map((kernel) => [driver, kernel] as const))
  .filter(([driver, kernel]) => labWith(driver, kernel) !== null);

describe('domain ops refuse a range past 2^53, as io-pgtable does (every driver)', () => {
  it.each(cases)(
    '%s %s: map_pages and unmap_pages throw a RangeError and change nothing',
    (driver, kernel) => {
      const { L, iommu } = labWith(driver, kernel)!;
      const dev = L.lab.add_device('d0', { iommu, bus: BUS(driver) });
      const d = pagingDomain(L, dev, driver, kernel);
      expect(L.iommu_attach_device(d, dev)).toBe(0);
      const pa = L.lab.mem.alloc(0x1000);
      const before = L.lab.trace().length;
      const huge = 2 ** 53 - 1;
      expect(() => d.ops.map_pages!(d, 0x10_0000, pa, 0x1000, huge, 3)).toThrow(
        new RangeError(
          `iova/paddr + pgsize * pgcount is beyond 2^53 (got iova 0x100000, paddr 0x${pa.toString(16)}, pgsize 0x1000, pgcount ${huge})`,
        ),
      );
      expect(() => d.ops.map_pages!(d, 0x10_0000, 2 ** 53 - 0x1000, 0x1000, 2, 3)).toThrow(RangeError);
      const gather = L.iommu_iotlb_gather_init();
      expect(() => d.ops.unmap_pages!(d, 0x10_0000, 0x1000, huge, gather)).toThrow(
        new RangeError(
          `iova + pgsize * pgcount is beyond 2^53 (got iova 0x100000, pgsize 0x1000, pgcount ${huge})`,
        ),
      );
      // Refused before the driver did anything: no table entry, request or command.
      expect(driverEvents(L, before)).toEqual([]);
    },
  );
});

describe("domain ops refuse a device behind another driver's IOMMU, as the iommu ops do (every driver)", () => {
  it.each(cases.filter(([, k]) => k !== 'v6.6'))(
    "%s %s: attach_dev of the paging, identity and blocking domains throws script/api.ts iommu_op's TypeError",
    (driver, kernel) => {
      const { L, iommu } = labWith(driver, kernel)!;
      const dev = L.lab.add_device('d0', { iommu, bus: BUS(driver) });
      // Before the other driver's device exists: v6.8's iommu_domain_alloc(bus) wants one driver.
      const domains = [pagingDomain(L, dev, driver, kernel)];
      const blocked = L.iommu_device_claim_dma_owner(dev, 'vfio') === 0;
      if (blocked) domains.push(L.iommu_get_domain_for_dev(dev)!);
      try {
        const id = L.lab.add_device('d1', { iommu, bus: BUS(driver), default_domain: 'identity' });
        domains.push(L.iommu_get_domain_for_dev(id)!);
      } catch {
        // No identity domain for this driver in this era (s390 without its passthrough support).
      }
      const other = driver === 'intel-iommu' ? 'arm-smmu-v3' : 'intel-iommu';
      const foreign = L.lab.add_device('x', { iommu: L.lab.add_iommu('x0', other) });
      const before = L.lab.trace().length;
      for (const d of domains)
        expect(() => d.ops.attach_dev!(d, foreign)).toThrow(
          new TypeError(
            `domain.ops.attach_dev: device x is behind x0 (${other}), but these are ${driver}'s ops`,
          ),
        );
      // Refused before the driver wrote anything (no detach, no STE or context entry).
      expect(driverEvents(L, before)).toEqual([]);
    },
  );
});
