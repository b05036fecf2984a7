/**
 * What a matrix cell says besides pass or fail, from real engine runs through the host (the path
 * the app's Matrix panel takes): whether its row's driver ran at all, and the checks that fired.
 */
import { describe, expect, it } from 'vitest';
import { matrixThroughHost as matrix } from './test-matrix.ts';

describe('matrix cells', () => {
  it('a script that hard-codes its driver passes no other row: each such cell says so', async () => {
    const m = await matrix(
      "import { lab } from 'iommu-lab';\nlab.add_device('dev0', { iommu: lab.add_iommu('x', 'intel-iommu') });\n",
      ['arm-smmu-v3', 'intel-iommu'],
      ['v6.16'],
    );
    expect(m.cells.map((c) => [c.driver, c.status, c.driversUsed, c.warning])).toEqual([
      [
        'arm-smmu-v3',
        'passed',
        ['intel-iommu'],
        'the script added no arm-smmu-v3 IOMMU (only intel-iommu): it ignores lab.params.driver',
      ],
      ['intel-iommu', 'passed', ['intel-iommu'], undefined],
    ]);
    expect(m.allPassed).toBe(false);
  });

  it('a script with no IOMMU at all is the same case; one that adds the driver, and another, is not', async () => {
    const none = await matrix("import { SZ_4K } from 'iommu-lab';\nSZ_4K;\n", ['amd-iommu'], ['v6.8']);
    expect(none.cells[0]).toMatchObject({
      status: 'passed',
      driversUsed: [],
      warning: 'the script added no IOMMU: it ignores lab.params.driver',
    });
    expect(none.allPassed).toBe(false);
    const both = await matrix(
      "import { lab } from 'iommu-lab';\nlab.add_iommu('a', 'arm-smmu-v3');\nlab.add_iommu('b', lab.params.driver as 'arm-smmu-v3');\n",
      ['intel-iommu', 'arm-smmu-v3'],
      ['v6.16'],
    );
    expect(both.cells.map((c) => c.driversUsed)).toEqual([['arm-smmu-v3', 'intel-iommu'], ['arm-smmu-v3']]);
    expect(both.cells.every((c) => c.warning === undefined)).toBe(true);
    expect(both.allPassed).toBe(true);
  });

  it('a table where no cell could run is not allPassed (matrix exits 1 for it); an n/a cell beside a pass is', async () => {
    const source =
      "import { lab } from 'iommu-lab';\nlab.add_iommu('i0', lab.params.driver as 'arm-smmu-v3');\n";
    // tegra-gart left Linux in v6.7 (IOMMU-FACTS §5.3): its v6.16 cell is n/a.
    const none = await matrix(source, ['tegra-gart'], ['v6.16']);
    expect(none.cells.map((c) => c.status)).toEqual(['n/a']);
    expect(none.allPassed).toBe(false);
    const one = await matrix(source, ['tegra-gart', 'arm-smmu-v3'], ['v6.16']);
    expect(one.cells.map((c) => c.status)).toEqual(['n/a', 'passed']);
    expect(one.allPassed).toBe(true);
  });

  it("a passed cell where checks fired lists them: the 2023 thread's NULL viommu on virtio-iommu in v6.6", async () => {
    const m = await matrix(
      [
        "import { lab, iommu_domain_alloc, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
        "lab.add_device('dev0', { iommu: lab.add_iommu('i0', lab.params.driver as 'arm-smmu-v3') });",
        "const domain = iommu_domain_alloc(lab.bus('pci'))!;",
        'iommu_map(domain, 0x100000, lab.mem.alloc(SZ_4K), SZ_4K, IOMMU_READ);',
        'iommu_map(domain, 0x200000, lab.mem.alloc(SZ_4K), SZ_4K, IOMMU_READ);',
        '',
      ].join('\n'),
      ['virtio-iommu', 'amd-iommu'],
      ['v6.6'],
    );
    expect(m.cells.map((c) => [c.status, c.checks])).toEqual([
      [
        'passed',
        [
          { id: 'attach-time-finalise', count: 1 },
          { id: 'map-before-attach-failed', count: 2 },
          { id: 'kernel-oops', count: 2 },
        ],
      ],
      ['passed', []],
    ]);
  });
});
