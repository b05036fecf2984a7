/**
 * Panel answers through the session, as the host asks for them: the mappings a domain's list and
 * card show are kept between queries of one state, and never outlive it across seeks.
 */
import { expect, it } from 'vitest';
import type { DomainCard, MappingRow } from './panels.ts';
import { runScript } from './run-script.ts';

const SOURCE = [
  "import { lab, iommu_paging_domain_alloc, iommu_map, iommu_unmap, IS_ERR, IOMMU_READ, SZ_4K } from 'iommu-lab';",
  "const dev = lab.add_device('nic0', { iommu: lab.add_iommu('smmu0', 'arm-smmu-v3'), default_domain: 'blocked' });",
  'const d = iommu_paging_domain_alloc(dev);',
  "if (IS_ERR(d)) throw new Error('no domain');",
  'for (let i = 0; i < 8; i++) iommu_map(d, 0x100000 + i * 2 * SZ_4K, 0x40000000 + i * SZ_4K, SZ_4K, IOMMU_READ);',
  'iommu_unmap(d, 0x100000, SZ_4K);',
].join('\n');

it('answers for the state shown, after every seek', () => {
  const r = runScript({ fileName: 'maps.ts', source: SOURCE, timeoutMs: 20_000 });
  expect(r.error).toBeUndefined();
  const s = r.session!;
  const unmanaged = () => (s.query('domains') as DomainCard[]).find((d) => d.typeName === 'UNMANAGED')!;
  const rows = (offset: number, limit: number) =>
    s.query('mappings', { domain: unmanaged().id, offset, limit }) as { total: number; items: MappingRow[] };

  expect(unmanaged().mappingCount).toBe(7);
  expect(rows(0, 2)).toMatchObject({ total: 7, items: [{ iova: 0x102000 }, { iova: 0x104000 }] });
  expect(rows(6, 10).items.map((m) => m.iova)).toEqual([0x10e000]);

  s.seek(s.steps - 1); // before the unmap
  expect(unmanaged().mappingCount).toBe(8);
  expect(rows(0, 1).items[0]).toMatchObject({
    iova: 0x100000,
    pa: 0x40000000,
    protText: 'R',
    pgsizeText: '4K',
  });
  s.seek(s.steps - 4);
  expect(rows(0, 100).total).toBe(5);
  // Forward by one replays into the same machine: the kept list must not survive that.
  s.seek(s.steps - 3);
  expect(rows(0, 100).total).toBe(6);
  expect(unmanaged().mappingCount).toBe(6);
  s.seek(s.steps);
  expect(rows(0, 100).total).toBe(7);
  expect(unmanaged().mappingBytes).toBe(7 * 4096);
});

it.each([
  ['arm-smmu-v3', 'v6.16', 'arm-lpae-s1'],
  ['intel-iommu', 'v6.16', 'vtd-sl'],
  ['amd-iommu', 'v6.16', 'amd-v1'],
  ['s390-iommu', 'v6.16', 's390'],
  ['omap-iommu', 'v6.16', 'omap'],
  ['tegra-gart', 'v6.6', 'gart'],
])(
  "%s: a paging domain's card opens its page table, with the mapped leaf decoded",
  (driver, kernel, format) => {
    const platform = driver === 'omap-iommu' || driver === 'tegra-gart';
    const source = [
      "import { lab, iommu_paging_domain_alloc, iommu_domain_alloc, iommu_attach_device, iommu_map, IOMMU_READ } from 'iommu-lab';",
      `const dev = lab.add_device('d0', { iommu: lab.add_iommu('i0', '${driver}'), bus: '${platform ? 'platform' : 'pci'}' });`,
      kernel === 'v6.16'
        ? 'const d = iommu_paging_domain_alloc(dev) as any;'
        : `const d = iommu_domain_alloc(lab.bus('platform')) as any;`,
      'iommu_attach_device(d, dev);',
      'const iova = Math.max(d.geometry.aperture_start, 0x4000_0000) + 0x10_0000;',
      'if (iommu_map(d, iova, 0x1000_0000, 0x1000, IOMMU_READ)) throw new Error("map failed");',
    ].join('\n');
    const r = runScript({ fileName: 'pt.ts', source, kernel, fixedKernel: true });
    expect(r.error).toBeUndefined();
    const s = r.session!;
    const card = (s.query('domains') as DomainCard[]).find((d) => d.mappingCount === 1)!;
    expect(card.hasPageTable).toBe(true);
    const view = s.query('pgtable', { domain: card.id }) as {
      format: string;
      tables: { entries: { decoded: { type: string; pa: number } }[] }[];
    };
    expect(view.format).toBe(format);
    const leaves = view.tables
      .flatMap((t) => t.entries)
      .filter((e) => e.decoded.type === 'page' || e.decoded.type === 'leaf');
    expect(leaves.map((e) => e.decoded.pa)).toContain(0x1000_0000);
  },
);
