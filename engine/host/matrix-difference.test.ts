/**
 * The matrix's first differing result, from real engine runs through the host (the path the app's
 * Matrix panel takes): drivers whose results really differ (IOMMU-FACTS §6 (a): a map before the
 * first attach), drivers that agree, and a cell that stops early.
 */
import { describe, expect, it } from 'vitest';
import { compareCells, differenceText, fieldsOf } from './matrix-difference.ts';
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

  it('says no call was made, not that results agree, when every cell stopped before its first call', async () => {
    const m = await matrix(
      ["import { lab } from 'iommu-lab';", 'const x = ;'],
      ['arm-smmu-v3', 'intel-iommu'],
      ['v6.16'],
    );
    expect(m.cells.map((c) => c.status)).toEqual(['error', 'error']);
    expect(m.comparison).toMatchObject({
      calls: 0,
      difference: null,
      text: 'no cell made a call: nothing to compare',
    });
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
      text: 'first differing result: after the same call the cells end differently',
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

/** Lines 1–9: a buffer mapped and unmapped without the sync (so a walk-through may still reach it). */
const UNMAPPED_WITHOUT_SYNC = [
  "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, iommu_unmap_fast, iommu_iotlb_gather_init, IOMMU_READ, IOMMU_WRITE, SZ_4K } from 'iommu-lab';",
  "const dev = lab.add_device('dev0', { iommu: lab.add_iommu('iommu0', lab.params.driver as 'arm-smmu-v3') });",
  'const buf = lab.mem.alloc(SZ_4K);',
  'lab.mem.write(buf, [1, 2, 3, 4]);',
  'const domain = iommu_paging_domain_alloc(dev);',
  'iommu_attach_device(domain, dev);',
  'iommu_map(domain, 0x100000, buf, SZ_4K, IOMMU_READ | IOMMU_WRITE);',
  'iommu_unmap_fast(domain, 0x100000, SZ_4K, iommu_iotlb_gather_init());',
  'dev.dma_read(0x100000, 4);',
];

describe('matrix: the fields of a result that differ', () => {
  it('a DMA read after an unmap without sync: the fault reason where cells fault, the whole read where one reads', async () => {
    const m = await matrix(UNMAPPED_WITHOUT_SYNC, ['arm-smmu-v3', 'virtio-iommu', 's390-iommu'], ['v6.16']);
    expect(m.comparison.difference).toMatchObject({ fn: 'device.dma_read', line: 9 });
    const smmu = cell(m, 'arm-smmu-v3', 'v6.16').firstDifference!;
    const virtio = cell(m, 'virtio-iommu', 'v6.16').firstDifference!;
    const s390 = cell(m, 's390-iommu', 'v6.16').firstDifference!;
    // The text stays the whole result; `differing` keeps what tells the cells apart.
    expect(s390.text).toBe(
      "line 9 device.dma_read → { ok: false, fault: { reason: 'out-of-dma-window', iova: 0x100000, write: false } }",
    );
    expect(smmu.differing).toBe("{ ok: false, fault: { reason: 'translation', … } }");
    expect(s390.differing).toBe("{ ok: false, fault: { reason: 'out-of-dma-window', … } }");
    expect(differenceText(s390)).toBe(
      "line 9 device.dma_read → { ok: false, fault: { reason: 'out-of-dma-window', … } }",
    );
    // The host's stale mapping still reads: every field of it differs from a fault, so it is whole.
    expect(virtio).not.toHaveProperty('differing');
    expect(differenceText(virtio)).toBe(virtio.text);
    expect(virtio.text).toBe(
      "line 9 device.dma_read → { ok: true, pa: 'buf1+0x0', tlb: 'stale', data: Uint8Array(4) <01 02 03 04> }",
    );
  });

  /** Two cells that made one call, with these results. */
  const two = (a: string, b: string) => {
    const cells = ['arm-smmu-v3', 'intel-iommu'].map((driver): MatrixCell => ({
      driver,
      kernel: 'v6.16',
      status: 'passed',
      expectations: { passed: 0, failed: 0 },
      steps: 1,
      durationMs: 0,
      checks: [],
    }));
    compareCells(cells, [
      [{ step: 1, fn: 'device.dma_read', ret: a, line: 3 }],
      [{ step: 1, fn: 'device.dma_read', ret: b, line: 3 }],
    ]);
    return cells.map((c) => c.firstDifference!);
  };

  it('a field that differs among others that agree: the rest left out', () => {
    const [a, b] = two(
      "{ ok: true, pa: 'buf1+0x0', tlb: 'stale', data: Uint8Array(4) <01 02 03 04> }",
      "{ ok: true, pa: 'buf1+0x0', tlb: 'miss', data: Uint8Array(4) <01 02 03 04> }",
    );
    expect([a.differing, b.differing]).toEqual(["{ …, tlb: 'stale', … }", "{ …, tlb: 'miss', … }"]);
    expect(differenceText(b)).toBe("line 3 device.dma_read → { …, tlb: 'miss', … }");
    expect(b.text).toBe(
      "line 3 device.dma_read → { ok: true, pa: 'buf1+0x0', tlb: 'miss', data: Uint8Array(4) <01 02 03 04> }",
    );
  });

  it('commas and brackets inside strings are text; a field one cell lacks is named', () => {
    const [a, b] = two("{ name: 'a, b}', n: 1 }", "{ name: 'a, b}', n: 1, extra: [ 1, 2 ] }");
    expect([a.differing, b.differing]).toEqual(['{ …, extra: undefined }', '{ …, extra: [ 1, 2 ] }']);
  });

  it('results that are no objects, or differ in every field, are shown whole', () => {
    expect(two('-ENODEV', '0').map((d) => d.differing)).toEqual([undefined, undefined]);
    expect(two('{ a: 1 }', '-EINVAL').map((d) => d.differing)).toEqual([undefined, undefined]);
    expect(two('{ a: 1, b: 2 }', '{ a: 2, b: 3 }').map((d) => d.differing)).toEqual([undefined, undefined]);
  });

  it('a result cut short keeps its fields before the cut, and its tail where that differs', () => {
    const long = (bytes: string, hash: string) =>
      `{ ok: true, tlb: 'hit', data: Uint8Array(64) <${bytes}… #${hash}`;
    const [a, b] = two(long('00 11', '0123abcd'), long('00 22', '4567cdef'));
    expect(a.differing).toBe('{ …, data: Uint8Array(64) <00 11… #0123abcd');
    expect(b.differing).toBe('{ …, data: Uint8Array(64) <00 22… #4567cdef');
  });
});

describe('fieldsOf', () => {
  it('reads the top-level fields of an object as formatValue writes it', () => {
    expect(fieldsOf("{ ok: false, fault: { reason: 'x', iova: 0x1000 }, 'odd key': [ 1, 2 ] }")).toEqual([
      ['ok', 'false'],
      ['fault', "{ reason: 'x', iova: 0x1000 }"],
      ["'odd key'", '[ 1, 2 ]'],
    ]);
    expect(fieldsOf('{}')).toEqual([]);
    expect(fieldsOf("{ s: 'it\\'s, }' }")).toEqual([['s', "'it\\'s, }'"]]);
  });

  it('is undefined for what is no plain object', () => {
    for (const text of ['-ENODEV', 'domain 2', '[ 1, 2 ]', 'Map(1) { 1 => 2 }', '{ a: 1 } x', '{ a: 1'])
      expect(fieldsOf(text)).toBeUndefined();
  });
});
