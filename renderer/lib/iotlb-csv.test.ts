import { expect, it } from 'vitest';
import { iotlbCsv } from './iotlb-csv.ts';

it('writes one row per entry with its state', () => {
  const csv = iotlbCsv(
    [
      {
        name: 'smmu0',
        driver: 'arm-smmu-v3',
        capacity: 32,
        entries: [
          {
            tag: 2,
            iova: 0xfffff000,
            size: 4096,
            pa: 0x40002000,
            prot: 3,
            protText: 'R|W',
            stale: true,
            negative: false,
          },
          { tag: 2, iova: 0x10000, size: 4096, pa: 0, prot: 0, protText: '-', stale: false, negative: true },
        ],
        stats: { hits: 0, misses: 1, stale_hits: 1, invalidations: 0 },
        faults: [],
      },
    ],
    13,
  );
  expect(csv.split('\n')).toEqual([
    'step,iommu,driver,tag,iova,size,pa,prot,state',
    '13,smmu0,arm-smmu-v3,2,0xfffff000,0x1000,0x40002000,R|W,stale',
    '13,smmu0,arm-smmu-v3,2,0x10000,0x1000,0x0,-,negative',
    '',
  ]);
});
