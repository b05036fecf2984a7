/** The core's tracepoints fire where Linux's do (include/trace/events/iommu.h). */
import { describe, expect, it } from 'vitest';
import { testLab } from '../script/test-lab.ts';

describe('core trace events', () => {
  it('iommu_map of size 0 fires map with size 0: __iommu_map has no early return, trace_map runs after the empty loop', () => {
    const { L, domain, events } = testLab({ kernel: 'v6.16', driver: 'arm-smmu-v3' });
    const d = domain();
    const from = L.lab.trace().length;
    expect(L.iommu_map(d, 0x10000, 0x8000_0000, 0, 1)).toBe(0);
    expect(events('map', from)).toMatchObject([{ domain: d.id, iova: 0x10000, paddr: 0x8000_0000, size: 0 }]);
    // As iommu_unmap(…, 0) fires its unmap.
    const from2 = L.lab.trace().length;
    expect(L.iommu_unmap(d, 0x10000, 0)).toBe(0);
    expect(events('unmap', from2)).toHaveLength(1);
  });

  it('attach_device_to_domain fires only for an attach that succeeded (__iommu_attach_device traces after attach_dev)', () => {
    const { L, dev, domain, events } = testLab({ kernel: 'v6.16', driver: 'arm-smmu-v3' });
    const other = L.lab.add_iommu('smmu1', 'arm-smmu-v3');
    const db = L.lab.add_device('db', { iommu: other });
    const d = domain();
    expect(L.iommu_attach_device(d, dev)).toBe(0);
    const from = L.lab.trace().length;
    // A domain of one SMMU refuses a device of another (-EINVAL); the core re-attaches db's old domain.
    const old = L.iommu_get_domain_for_dev(db);
    expect(L.iommu_attach_device(d, db)).toBe(-L.EINVAL);
    const attached = events('attach_device_to_domain', from);
    expect(attached.every((e) => e.domain !== d.id)).toBe(true);
    expect(attached).toEqual(old ? [expect.objectContaining({ device: 'db', domain: old.id })] : []);
    expect(attached.every((e) => !('ret' in e))).toBe(true);
  });
});
