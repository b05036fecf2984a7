import { describe, expect, it } from 'vitest';
import type * as Api from '../script/iommu-lab.d.ts';
import { createLabModule } from '../script/module.ts';

describe('device accesses', () => {
  it("a fault's reason is its own walk's, not the reason of the walk before (of any unit)", () => {
    const L = createLabModule({}).exports as unknown as typeof Api;
    const zpci = L.lab.add_iommu('zpci', 's390-iommu');
    const z0 = L.lab.add_device('z0', { iommu: zpci });
    const smmu = L.lab.add_iommu('smmu0', 'arm-smmu-v3');
    const nic = L.lab.add_device('nic0', { iommu: smmu });
    const d = L.iommu_paging_domain_alloc(nic) as Api.IommuDomain;
    expect(L.iommu_attach_device(d, nic)).toBe(0);
    L.iommu_domain_free(d); // a caller bug: the STE still points at a domain with no page table
    const below = z0.dma_read(0x10, 4);
    expect(below.ok || below.fault.reason).toBe('out-of-dma-window');
    const freed = nic.dma_read(0x100000, 4);
    expect(freed.ok || freed.fault.reason).toBe('translation');
    expect(smmu.faults.map((f) => f.reason)).toEqual(['translation']);
  });
});
