/**
 * The matrix's first differing result, from real engine runs through the host (the path the app's
 * Matrix panel takes): drivers whose results really differ (IOMMU-FACTS §6 (a): a map before the
 * first attach), drivers that agree, and a cell that stops early.
 */
import { describe, expect, it } from 'vitest';
import type { MatrixCell, MatrixResult } from './protocol.ts';
import { matrixThroughHost } from './test-matrix.ts';

const matrix = (lines: string[], drivers: string[], kernels: string[]): Promise<MatrixResult> =>
  matrixThroughHost(lines.join('\n') + '\n', drivers, kernels);

const cell = (m: MatrixResult, driver: string, kernel: string): MatrixCell =>
  m.cells.find((c) => c.driver === driver && c.kernel === kernel)!;

/** Lines 1–5: a device behind the cell's driver and a domain for its bus (iommu_domain_alloc: up to v6.11). */
const MACHINE = [
  "import { lab, iommu_domain_alloc, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, IOMMU_READ, IOMMU_WRITE, SZ_4K } from 'iommu-lab';",
  "const iommu = lab.add_iommu('iommu0', lab.params.driver as 'arm-smmu-v3');",
  "const dev = lab.add_device('dev0', { iommu });",
  'const pa = lab.mem.alloc(SZ_4K);',
  "const domain = iommu_domain_alloc(lab.bus('pci'))!;",
];

describe('matrix: the first differing result', () => {
  it('a map before the first attach: -ENODEV on SMMUv3 and -EINVAL on virtio before v6.9, 0 on VT-d', async () => {
    const m = await matrix(
      [
        ...MACHINE,
        'iommu_map(domain, 0x100000, pa, SZ_4K, IOMMU_READ | IOMMU_WRITE);',
        'iommu_attach_device(domain, dev);',
      ],
      ['arm-smmu-v3', 'virtio-iommu', 'intel-iommu'],
      ['v6.8', 'v6.16'],
    );
    // The domain each cell got agrees (call 1); the map is where they part.
    expect(m.comparison).toEqual({
      cells: 3,
      calls: 1,
      difference: { call: 2, fn: 'iommu_map', line: 6, step: 5 },
      text: 'first differing result: iommu_map, line 6 (step 5)',
    });
    expect(cell(m, 'arm-smmu-v3', 'v6.8').firstDifference?.text).toBe('line 6 iommu_map → -ENODEV');
    expect(cell(m, 'virtio-iommu', 'v6.8').firstDifference?.text).toBe('line 6 iommu_map → -EINVAL');
    expect(cell(m, 'intel-iommu', 'v6.8').firstDifference).toEqual({
      text: 'line 6 iommu_map → 0',
      call: { step: 5, fn: 'iommu_map', ret: '0', line: 6 },
    });
    // v6.16 has no iommu_domain_alloc: those cells are n/a and take no part.
    for (const d of ['arm-smmu-v3', 'virtio-iommu', 'intel-iommu']) {
      expect(cell(m, d, 'v6.16').status).toBe('n/a');
      expect(cell(m, d, 'v6.16')).not.toHaveProperty('firstDifference');
    }
  });

  it('says so when every result agrees, though the domain ids differ (s390 has no default domain in v6.6)', async () => {
    const m = await matrix(
      [
        ...MACHINE,
        'iommu_attach_device(domain, dev);',
        'iommu_map(domain, 0x100000, pa, SZ_4K, IOMMU_READ | IOMMU_WRITE);',
        'console.log(domain.id);',
      ],
      ['arm-smmu-v3', 'intel-iommu', 's390-iommu'],
      ['v6.6'],
    );
    expect(m.cells.map((c) => c.status)).toEqual(['passed', 'passed', 'passed']);
    expect(m.comparison).toEqual({ cells: 3, calls: 3, difference: null, text: 'all results agree' });
    for (const c of m.cells) expect(c.firstDifference).toBeNull();
  });

  it("the era's two ways to allocate a paging domain are one call; other calls are compared by name", async () => {
    const m = await matrix(
      [
        ...MACHINE.slice(0, 4),
        "const d = lab.kernel() === 'v6.16' ? iommu_paging_domain_alloc(dev) : iommu_domain_alloc(lab.bus('pci'))!;",
        'iommu_map(d, 0x100000, pa, SZ_4K, IOMMU_READ | IOMMU_WRITE);',
      ],
      ['arm-smmu-v3'],
      ['v6.8', 'v6.16'],
    );
    // Both allocations give a new domain; the map before attach is where the eras part.
    expect(m.comparison.difference).toEqual({ call: 2, fn: 'iommu_map', line: 6, step: 6 });
    expect(m.cells.map((c) => c.firstDifference?.text)).toEqual([
      'line 6 iommu_map → -ENODEV',
      'line 6 iommu_map → 0',
    ]);
    // Attach-then-map against map-then-attach: the same answers (0, 0), different calls.
    const order = await matrix(
      [
        ...MACHINE,
        "if (lab.params.driver === 'intel-iommu') { iommu_map(domain, 0x100000, pa, SZ_4K, IOMMU_READ); iommu_attach_device(domain, dev); }",
        'else { iommu_attach_device(domain, dev); iommu_map(domain, 0x100000, pa, SZ_4K, IOMMU_READ); }',
      ],
      ['intel-iommu', 'amd-iommu'],
      ['v6.6'],
    );
    expect(order.comparison.text).toBe('first differing result: the cells make different calls (step 5)');
  });

  it('a cell that throws early ended there; a call that throws is its result', async () => {
    const m = await matrix(
      [
        ...MACHINE,
        "if (lab.params.driver === 'amd-iommu') throw new Error('amd stops here');",
        "const iova = lab.params.driver === 'intel-iommu' ? -1 : 0x100000;",
        'iommu_map(domain, iova, pa, SZ_4K, IOMMU_READ | IOMMU_WRITE);',
      ],
      ['arm-smmu-v3', 'amd-iommu', 'intel-iommu'],
      ['v6.6'],
    );
    expect(m.comparison.difference).toEqual({ call: 2, fn: 'iommu_map', line: 8, step: 5 });
    expect(cell(m, 'amd-iommu', 'v6.6')).toMatchObject({
      status: 'error',
      firstDifference: { text: 'ended at step 4 (error)' },
    });
    expect(cell(m, 'amd-iommu', 'v6.6').firstDifference).not.toHaveProperty('call');
    expect(cell(m, 'intel-iommu', 'v6.6').firstDifference?.text).toBe('line 8 iommu_map threw RangeError');
    expect(cell(m, 'arm-smmu-v3', 'v6.6').firstDifference?.text).toBe('line 8 iommu_map → -ENODEV');
  });

  it('cells that make the same calls but end differently differ after them', async () => {
    const m = await matrix(
      [...MACHINE, "if (lab.params.driver === 'amd-iommu') throw new Error('amd stops here');"],
      ['arm-smmu-v3', 'amd-iommu'],
      ['v6.6'],
    );
    expect(m.comparison).toMatchObject({
      calls: 1,
      difference: { call: 2 },
      text: 'first differing result: after the same 1 calls the cells end differently',
    });
    expect(m.cells.map((c) => c.firstDifference?.text)).toEqual([
      'ended at step 4 (passed)',
      'ended at step 4 (error)',
    ]);
  });

  it('one available cell has nothing to compare', async () => {
    const m = await matrix(MACHINE, ['arm-smmu-v3'], ['v6.6', 'v6.16']);
    expect(m.comparison).toMatchObject({
      cells: 1,
      difference: null,
      text: 'one cell ran: nothing to compare',
    });
  });
});
