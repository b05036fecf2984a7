/**
 * Which names a script reads without declaring them (free-names.ts), and what the run says when it
 * reads one: the sandbox alone would hand back `undefined`.
 */
import { Parser, type Node } from 'acorn';
import { describe, expect, it } from 'vitest';
import { freeReads, notDefined } from './free-names.ts';
import { runScript } from './run-script.ts';

/** `name@offset` of each read; `at(code, 'x', n)` is the offset of the n-th `x`. */
const at = (code: string, name: string, n = 1): number => {
  let i = -1;
  for (let k = 0; k < n; k++) i = code.indexOf(name, i + 1);
  return i;
};
const reads = (code: string) =>
  freeReads(Parser.parse(code, { ecmaVersion: 'latest' }) as unknown as Node & Record<string, unknown>, [
    'console',
  ]).map((r) => `${r.name}@${r.start}${r.shorthand ? ' shorthand' : ''}`);

describe('freeReads', () => {
  it('finds reads of undeclared names, not keys, labels, members, typeof or builtins', () => {
    expect(reads('a.b; ({ k: 1 }).k; L: for (;;) break L; typeof t; Math.max(1); console.log(1);')).toEqual([
      'a@0',
    ]);
    expect(reads('new C(); x[y]; `${z}`; ({ s });')).toEqual([
      'C@4',
      'x@9',
      'y@11',
      'z@18',
      's@26 shorthand',
    ]);
  });

  it('a name declared anywhere in the file (variable, function, parameter, class, catch) is not free', () => {
    const code =
      'function f(p, { q } = {}) { return p + q + v + g; } var v; const [w] = []; class K {} try {} catch (e) { e; } f(w); new K(); g;';
    expect(reads(code)).toEqual([`g@${at(code, 'g')}`, `g@${at(code, 'g', 2)}`]);
  });

  it('writes and destructuring targets are not reads; a default in a parameter is', () => {
    const code = 'u = 1; u++; ({ m } = o); for (n of []) {} function h(a = dflt, [b = dflt2]) {}';
    expect(reads(code)).toEqual([
      `o@${at(code, 'o)')}`,
      `dflt@${at(code, 'dflt')}`,
      `dflt2@${at(code, 'dflt2')}`,
    ]);
  });
});

describe('notDefined', () => {
  const exported = ['lab', 'iommu_map', 'iommu_unmap', 'SZ_4K'];
  it('names the import an export needs, the export a near miss meant, or only the name', () => {
    expect(notDefined('lab', exported)).toBe(
      "lab is not defined: import it from 'iommu-lab' (import { lab } from 'iommu-lab')",
    );
    expect(notDefined('iommu_mapp', exported)).toBe('iommu_mapp is not defined (did you mean iommu_map?)');
    expect(notDefined('SZ_4', exported)).toBe('SZ_4 is not defined (did you mean SZ_4K?)');
    expect(notDefined('frobnicate', exported)).toBe('frobnicate is not defined');
  });
});

describe('a script that reads an undeclared name', () => {
  const run = (source: string) => runScript({ fileName: 's.ts', source, kernel: 'v6.16' });

  it('stops with a ReferenceError at the read, naming the import it forgot', () => {
    const r = run("const x = 1;\nlab.kernel('v6.6');\n");
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({
      name: 'ReferenceError',
      line: 2,
      column: 1,
      message: expect.stringContaining("lab is not defined: import it from 'iommu-lab'"),
    });
  });

  it('a comparison with an unimported constant is an error, not silently false', () => {
    const r = run(
      "import { lab, iommu_get_resv_regions } from 'iommu-lab';\nconst d = lab.add_device('d', { iommu: lab.add_iommu('i', 'arm-smmu-v3') });\nconst msi = iommu_get_resv_regions(d).filter((r) => r.type === IOMMU_RESV_SW_MSI);\n",
    );
    expect(r.error).toMatchObject({ name: 'ReferenceError', line: 3, column: 64 });
  });

  it('globals the script sets itself and typeof checks still work', () => {
    const r = run(
      "import { expect } from 'iommu-lab';\n(globalThis as any).shared = 5;\n// @ts-ignore\nexpect(shared).toBe(5);\n// @ts-ignore\nexpect(typeof nowhere).toBe('undefined');\n",
    );
    expect(r.status).toBe('passed');
    expect(r.expectations).toEqual({ passed: 2, failed: 0 });
  });
});
