import { describe, expect, it } from 'vitest';
import { iommu_domain_alloc, iommu_paging_domain_alloc } from '../core/alloc.ts';
import { iommu_attach_device, iommu_detach_device } from '../core/attach.ts';
import { IOMMU_MMIO, IOMMU_READ, IOMMU_RESV_DIRECT, IOMMU_WRITE } from '../core/constants.ts';
import type { IommuDomain } from '../core/domain.ts';
import { EINVAL, ENODEV, ERANGE } from '../core/errno.ts';
import type { KernelName } from '../core/kernel-profile.ts';
import type { IommuDriver } from '../core/driver.ts';
import { Machine } from '../core/machine.ts';
import { iommu_map } from '../core/map.ts';
import { parse_options } from '../core/options.ts';
import { iommu_probe_device } from '../core/probe.ts';
import type { ResvRegion } from '../core/resv.ts';
import { arm_smmu_v3 } from '../drivers/arm-smmu-v3/index.ts';
import { s390_iommu } from '../drivers/s390-iommu/index.ts';
import { virtio_iommu } from '../drivers/virtio-iommu/index.ts';
import { install_watchers } from './watchers.ts';

const RW = IOMMU_READ | IOMMU_WRITE;

function lab(kernel: KernelName, resv: ResvRegion[] = [], driver: IommuDriver = arm_smmu_v3, options = {}) {
  const m = new Machine(kernel);
  const watchers = install_watchers(m);
  const unit = driver.create(m, 'iommu0', parse_options(driver.name, driver.options, options));
  m.iommus.push(unit);
  const dev = iommu_probe_device(m, 'nic0', unit, {
    resv,
    group: null,
    bus: 'pci',
    trusted: true,
    default_domain: null,
  });
  return { m, dev, watchers };
}

const fired = (m: Machine) => m.checks.filter((c) => c.id === 'map-before-attach-failed');

describe('map-before-attach-failed', () => {
  it('fires when arm-smmu-v3 before v6.9 refuses a map on a domain never attached (-ENODEV)', () => {
    const { m } = lab('v6.6');
    const d = iommu_domain_alloc(m, 'pci')!;
    expect(iommu_map(d, 0x10_0000, 0x4000_0000, 0x1000, RW)).toBe(-ENODEV);
    expect(fired(m)).toHaveLength(1);
    expect(fired(m)[0].message).toMatch(/arm-smmu-v3.*-ENODEV.*never been attached/);
  });

  it('fires for the direct mappings of a default domain before its attach, next to direct-mapping-after-attach', () => {
    const { m } = lab('v6.6', [{ start: 0x8000_0000, length: 0x2000, prot: RW, type: IOMMU_RESV_DIRECT }]);
    const ids = m.checks.map((c) => c.id);
    expect(ids).toContain('map-before-attach-failed');
    expect(ids).toContain('direct-mapping-after-attach');
  });

  it('fires when virtio-iommu before v6.16 refuses a map on an unfinalised domain (-EINVAL: map_flags is 0)', () => {
    const { m } = lab('v6.6', [], virtio_iommu);
    const d = iommu_domain_alloc(m, 'pci')!;
    expect(iommu_map(d, 0x10_0000, 0x4000_0000, 0x1000, RW)).toBe(-EINVAL);
    expect(fired(m)[0].message).toMatch(/virtio-iommu.*-EINVAL/);
  });

  it('does not fire when a complete virtio-iommu domain refuses a flag the device lacks (MMIO without the feature)', () => {
    const features = ['VERSION_1', 'PROBE', 'BYPASS_CONFIG', 'MAP_UNMAP', 'INPUT_RANGE', 'DOMAIN_RANGE'];
    const { m, dev } = lab('v6.16', [], virtio_iommu, { features });
    const d = iommu_paging_domain_alloc(dev) as IommuDomain;
    // A device without VIRTIO_IOMMU_F_MMIO: a map with IOMMU_MMIO is refused attached or not.
    expect(iommu_map(d, 0x10_0000, 0x4000_0000, 0x1000, RW | IOMMU_MMIO)).toBe(-EINVAL);
    expect(fired(m)).toHaveLength(0);
  });

  it('does not fire once the domain was attached, even after it is detached again', () => {
    const { m, dev } = lab('v6.6');
    const d = iommu_domain_alloc(m, 'pci')!;
    expect(iommu_attach_device(d, dev)).toBe(0);
    iommu_detach_device(d, dev);
    expect(iommu_map(d, 0x10_0000, 0x4000_0000, 0x1000, RW)).toBe(0);
    expect(fired(m)).toEqual([]);
  });

  it('does not fire on v6.16, where the domain is complete at allocation', () => {
    const { m, dev } = lab('v6.16');
    const d = iommu_paging_domain_alloc(dev) as IommuDomain;
    expect(iommu_map(d, 0x10_0000, 0x4000_0000, 0x1000, RW)).toBe(0);
    expect(fired(m)).toEqual([]);
  });

  it('does not fire for an out-of-range IOVA: that is the caller bug out-of-aperture-map reports', () => {
    const { m, dev } = lab('v6.16');
    const d = iommu_paging_domain_alloc(dev) as IommuDomain;
    expect(iommu_map(d, 2 ** 48, 0x4000_0000, 0x1000, RW)).toBe(-ERANGE);
    expect(fired(m)).toEqual([]);
    expect(m.checks.map((c) => c.id)).toContain('out-of-aperture-map');
  });

  it('does not fire for a map granting neither READ nor WRITE: its -EINVAL is about the prot (facts §1.1)', () => {
    const { m, dev } = lab('v6.16');
    const d = iommu_paging_domain_alloc(dev) as IommuDomain;
    expect(iommu_map(d, 0x10_0000, 0x4000_0000, 0x1000, 0)).toBe(-EINVAL);
    expect(fired(m)).toEqual([]);
    // The same map with READ and WRITE is taken before any attach.
    expect(iommu_map(d, 0x10_0000, 0x4000_0000, 0x1000, RW)).toBe(0);
  });

  it('does not fire for a write-only map on s390 before v6.7, which refuses any map without READ', () => {
    const { m } = lab('v6.6', [], s390_iommu);
    const d = iommu_domain_alloc(m, 'pci')!;
    expect(iommu_map(d, 0x1_0000_0000, 0x4000_0000, 0x1000, IOMMU_WRITE)).toBe(-EINVAL);
    expect(fired(m)).toEqual([]);
    expect(iommu_map(d, 0x1_0000_0000, 0x4000_0000, 0x1000, RW)).toBe(0);
  });

  it('stops watching once disposed', () => {
    const { m, watchers } = lab('v6.6');
    watchers.dispose();
    const d = iommu_domain_alloc(m, 'pci')!;
    iommu_map(d, 0x10_0000, 0x4000_0000, 0x1000, RW);
    expect(fired(m)).toEqual([]);
  });

  it('follows a machine that is replaced when given a getter', () => {
    let m = new Machine('v6.16');
    const w = install_watchers(() => m);
    m = new Machine('v6.6', m.trace);
    const smmu = arm_smmu_v3.create(m, 'smmu0', parse_options(arm_smmu_v3.name, arm_smmu_v3.options, {}));
    m.iommus.push(smmu);
    iommu_probe_device(m, 'nic0', smmu, {
      resv: [],
      group: null,
      bus: 'pci',
      trusted: true,
      default_domain: null,
    });
    iommu_map(iommu_domain_alloc(m, 'pci')!, 0x10_0000, 0x4000_0000, 0x1000, RW);
    expect(fired(m)).toHaveLength(1);
    w.dispose();
  });
});
