import { describe, expect, it } from 'vitest';
import { runScript } from '../../engine/script/run-script.ts';
import type { CallResult } from '../../engine/host/protocol.ts';
import { callForStep, firstCallFrom, stepSourceText } from './step-source.ts';

/** A run recorded as the editor's runs are, with a helper the scenario imports. */
function recorded(): CallResult[] {
  const r = runScript({
    fileName: 'main.ts',
    source: [
      "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_get_domain_for_dev, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
      "import { mapAt } from './helpers.ts';",
      "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
      "const nic = lab.add_device('nic0', { iommu: smmu });",
      'iommu_get_domain_for_dev(nic);',
      'const d = iommu_paging_domain_alloc(nic) as any;',
      'iommu_attach_device(d, nic);',
      'iommu_map(d, 0x10000, 0x80000000, SZ_4K, IOMMU_READ);',
      'iommu_get_domain_for_dev(nic);',
      'mapAt(d, 0x20000);',
      '',
    ].join('\n'),
    files: [
      {
        name: 'helpers.ts',
        source: [
          "import { iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
          'export function mapAt(d: any, iova: number) {',
          '  return iommu_map(d, iova, 0x80001000, SZ_4K, IOMMU_READ);',
          '}',
          '',
        ].join('\n'),
      },
    ],
    kernel: 'v6.16',
    recordCallResults: true,
  });
  expect(r.status).toBe('passed');
  return r.callResults!;
}

describe('the line that made a step', () => {
  const calls = recorded();
  const line = (step: number, fn?: string) => {
    const c = callForStep(calls, step, fn);
    return c.kind === 'call' ? `${c.call.file ?? 'main.ts'}:${c.call.line} ${c.call.fn}` : c.reason;
  };

  it('finds the call that made each step, in the file that made it', () => {
    // Steps: 1 lab.add_iommu, 2 lab.add_device, 3 alloc, 4 attach, 5 map, 6 map (helper); the
    // domain queries (lines 5 and 9) are recorded with the step before them.
    expect(line(3, 'iommu_paging_domain_alloc')).toBe('main.ts:6 iommu_paging_domain_alloc');
    expect(line(4, 'iommu_attach_device')).toBe('main.ts:7 iommu_attach_device');
    expect(line(5, 'iommu_map')).toBe('main.ts:8 iommu_map');
    expect(line(6, 'iommu_map')).toBe('helpers.ts:3 iommu_map');
  });

  it('a step made by a lab.* call has no line, not the line of a query that followed it', () => {
    expect(line(2, 'lab.add_device')).toBe('lab');
    expect(line(1, 'lab.add_iommu')).toBe('lab');
    // Without the function the first call recorded at the step is all there is: the query's.
    expect(line(2)).toBe('main.ts:5 iommu_get_domain_for_dev');
  });

  it('a step past the recorded calls has no line', () => {
    expect(line(7, 'iommu_map')).toBe('past');
    expect(callForStep([], 3, 'iommu_map')).toEqual({ kind: 'no-line', reason: 'past' });
  });

  it('binary search: the first call at or after a step', () => {
    const at = (steps: number[], step: number) =>
      firstCallFrom(
        steps.map((s) => ({ step: s, fn: 'f', ret: '0' })),
        step,
      );
    expect(at([], 4)).toBe(0);
    expect(at([1, 2, 2, 2, 5], 2)).toBe(1);
    expect(at([1, 2, 2, 2, 5], 3)).toBe(4);
    expect(at([1, 2, 2, 2, 5], 0)).toBe(0);
    expect(at([1, 2, 2, 2, 5], 6)).toBe(5);
  });
});

describe('what the status bar says about the step shown', () => {
  const at = { step: 12, fn: 'iommu_map', file: 'helpers.ts', line: 4 };

  it('the function and where, saying when that file is not the open tab', () => {
    expect(stepSourceText(at, false, 'other')).toEqual({
      text: 'iommu_map · helpers.ts:4',
      title:
        'Step 12 was made by iommu_map on line 4 of helpers.ts. The editor marks the line in helpers.ts: click to open it.',
    });
    expect(stepSourceText(at, false, 'none').title).toContain(
      'helpers.ts is a scenario helper, not open in a tab',
    );
  });

  it('why there is no line', () => {
    expect(stepSourceText({ step: 2, fn: 'lab.add_device', noLine: 'lab' }, false, 'none').text).toBe(
      'lab.add_device · no line recorded',
    );
    expect(stepSourceText({ step: 9000, fn: 'iommu_map', noLine: 'past' }, false, 'none').title).toContain(
      "a run's first calls",
    );
    expect(stepSourceText(at, true, 'active').text).toBe('iommu_map · edited since the run');
  });
});
