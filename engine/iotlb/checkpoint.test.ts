/** Page tables, memory and the IOTLB survive the generic deep copy time travel uses. */
import { describe, expect, it } from 'vitest';
import { Iotlb } from './iotlb.ts';
import { PhysMem } from '../mem/phys-mem.ts';
import { deepClone } from '../trace/deep-clone.ts';
import { Trace } from '../trace/trace.ts';
import { AMD_V1 } from '../pgtable/formats/amd-v1.ts';
import { IoPgtable } from '../pgtable/io-pgtable.ts';
import { IOMMU_READ, IOMMU_WRITE } from '../pgtable/types.ts';

describe('checkpoints', () => {
  it('a deep copy is independent and keeps working', () => {
    const trace = new Trace();
    const state = { mem: new PhysMem(), tlb: new Iotlb(8, trace), pt: null as IoPgtable | null };
    state.pt = new IoPgtable(state.mem, trace, AMD_V1, {}, null);
    state.pt.map_pages(0x1000, 0x8000_0000, 0x1000, 4, IOMMU_READ | IOMMU_WRITE);
    state.tlb.insert(1, 0x1000, 0x1000, 0x8000_0000, 3);
    const copy = deepClone(state);
    expect(copy.pt!.fmt).toBe(AMD_V1);
    expect(copy.pt!.mem).toBe(copy.mem);
    copy.pt!.unmap_pages(0x1000, 0x1000, 4, null);
    copy.tlb.invalidate_all();
    expect(copy.pt!.iova_to_phys(0x1000)).toBe(0);
    expect(state.pt.iova_to_phys(0x1000)).toBe(0x8000_0000);
    expect(state.tlb.lookup(1, 0x1000)).toBeGreaterThanOrEqual(0);
    copy.pt!.map_pages(0x10_0000, 0x9000_0000, 0x2000, 1, IOMMU_READ);
    expect(copy.pt!.iova_to_phys(0x10_1000)).toBe(0x9000_1000);
    expect(state.pt.iova_to_phys(0x10_1000)).toBe(0);
  });
});
