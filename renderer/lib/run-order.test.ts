import { describe, expect, it } from 'vitest';
import { runScript } from '../../engine/script/run-script.ts';
import { inRunOrder, type RunReport } from './run-order.ts';

const label = (r: RunReport) =>
  r.kind === 'console'
    ? r.line.text
    : r.kind === 'check'
      ? `check ${r.check.id}`
      : `expect :${r.record.line}`;

describe('the Console lists a run in the order things happened', () => {
  it('console lines, expectations and checks interleave by step, a call’s check before what followed it', () => {
    const r = runScript({
      fileName: 'order.ts',
      source: [
        "import { lab, expect, iommu_paging_domain_alloc, iommu_map, iommu_unmap_fast, iommu_iotlb_gather_init, IOMMU_READ } from 'iommu-lab';",
        "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3') });",
        'const d = iommu_paging_domain_alloc(dev) as any;',
        "console.log('before');",
        'expect(iommu_map(d, 0x10000, 0x8000_0000, 0x1000, IOMMU_READ)).toBe(0);',
        "console.log('mapped');",
        'expect(iommu_map(d, 0x10000, 0x8000_0000, 0x1000, IOMMU_READ)).toBe(-17);',
        "console.log('after');",
      ].join('\n'),
    });
    expect(r.error).toBeUndefined();
    expect(inRunOrder(r.console, r.expectationLog, r.checks).map(label)).toEqual([
      'before',
      'expect :5',
      'mapped',
      'check map-over-existing',
      'expect :7',
      'after',
    ]);
  });
});
