import { describe, expect, it } from 'vitest';
import { constantValue, docText, errnoNames, parseDts, searchDecls } from './dts-reference.ts';
import DTS from '../../engine/script/iommu-lab.d.ts?raw';

describe('parseDts on the lab module', () => {
  const decls = parseDts(DTS);
  const byName = (n: string) => decls.find((d) => d.name === n);

  it('reads functions with their doc comment and section', () => {
    const map = byName('iommu_map')!;
    expect(map.kind).toBe('function');
    expect(map.signature).toBe(
      'function iommu_map(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number',
    );
    expect(map.doc).toMatch(/rolls back on failure/);
    expect(map.section).toMatch(/core API/);
    // A signature over several lines is folded onto one.
    expect(byName('iommu_unmap_fast')!.signature).toBe(
      'function iommu_unmap_fast(domain: IommuDomain, iova: number, size: number, gather: IommuIotlbGather): number',
    );
  });

  it('reads interfaces with their members, constants and types', () => {
    const lab = byName('Lab')!;
    expect(lab.kind).toBe('interface');
    const add = lab.members!.find((m) => m.name === 'Lab.add_iommu')!;
    expect(add.signature).toMatch(/^add_iommu<D extends DriverName>\(name: string, driver: D/);
    expect(lab.members!.find((m) => m.name === 'Lab.kernel')!.doc).toMatch(/kernel era/);
    expect(byName('IOMMU_READ')).toMatchObject({ kind: 'constant', signature: 'const IOMMU_READ: 1' });
    expect(constantValue(byName('IOMMU_DOMAIN_DMA_FQ')!)).toBe(0xb);
    expect(byName('KernelName')).toMatchObject({ kind: 'type' });
    expect(byName('lab')).toMatchObject({ kind: 'constant', signature: 'const lab: Lab' });
    // Every exported name of the file is there once.
    const exported = [...DTS.matchAll(/^export (?:declare )?(?:function|const|type|interface) (\w+)/gm)].map(
      (m) => m[1],
    );
    expect(decls.map((d) => d.name)).toEqual(exported);
  });

  it('names errno values from the constants', () => {
    const names = errnoNames(decls);
    expect(names.get(22)).toBe('EINVAL');
    expect(names.get(95)).toBe('EOPNOTSUPP');
  });

  it('searches names, signatures and docs', () => {
    const found = searchDecls(decls, 'iommu_map');
    expect(found[0].name).toBe('iommu_map');
    expect(found.map((d) => d.name)).toContain('iommu_map_sg');
    const tlb = searchDecls(decls, 'stale');
    expect(
      tlb.some((d) => d.name === 'IotlbEntry' && d.members!.some((m) => m.name === 'IotlbEntry.stale')),
    ).toBe(true);
    expect(searchDecls(decls, 'no-such-thing-anywhere')).toEqual([]);
  });
});

describe('docText', () => {
  it('drops the comment markers and margins', () => {
    expect(docText('/**\n * one\n *\n * two\n */')).toBe('one\n\ntwo');
    expect(docText('/** inline */')).toBe('inline');
  });
});
