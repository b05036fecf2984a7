import { describe, expect, it } from 'vitest';
import { positionOf, ScriptSyntaxError, transpile } from './transpile.ts';

/**
 * Every marker identifier in the output maps back to the same marker in the source (markers that
 * the compiler repeats, like an enum's name inside its generated body, are skipped).
 */
function checkMarkers(source: string, fileName = 'main.ts') {
  const { code, map } = transpile(source, fileName);
  const outLines = code.split('\n');
  const srcLines = source.split('\n');
  let checked = 0;
  outLines.forEach((text, line) => {
    for (const m of text.matchAll(/\bm\d+\b/g)) {
      const count = (s: string) => s.split(new RegExp(`\\b${m[0]}\\b`)).length;
      if (count(text) !== count(srcLines[line])) continue;
      const at = map.original(line, m.index);
      expect(
        srcLines[at.line].slice(at.column, at.column + m[0].length),
        `${m[0]} on output line ${line + 1}`,
      ).toBe(m[0]);
      checked++;
    }
  });
  return checked;
}

describe('transpile', () => {
  it('keeps line numbers', () => {
    const src =
      'import { lab } from "iommu-lab";\ntype T = number;\ninterface X { a: T }\nconst y: T = 1;\nlab.kernel();\n';
    const { code } = transpile(src, 'main.ts');
    expect(code.split('\n')).toHaveLength(src.split('\n').length);
    expect(code.split('\n')[3]).toContain('const y');
  });

  it('maps columns back through stripped types and rewritten imports', () => {
    const src = [
      "import { m1, m3, lab } from 'iommu-lab';",
      'const m4: number = m1(1 as number, 2) + (m3 as unknown as (x: number) => number)(3);',
      'function m5<T extends object>(m6: T, m7?: Record<string, number>): void { lab.kernel(); m1(m6 as never); }',
      'enum m8 { A, B = 4 }  const m9 = m8.B;',
      'class m10 { private m11: number = 1; constructor(public m12: string) { m1(this.m11); } }',
      "export const m13 = <T,>(m14: T): T => m14; lab.add_iommu('s', 'arm-smmu-v3', { ias: m4 });",
      '    m1(m4, m9, new m10("x"));',
    ].join('\n');
    expect(checkMarkers(src)).toBeGreaterThan(15);
  });

  it('maps columns in plain JavaScript too', () => {
    const src = "import { m1 } from 'iommu-lab';\nconst m2 = m1(1);   m1(m2);\n";
    expect(checkMarkers(src, 'main.js')).toBe(4);
  });

  it('reports syntax errors at the user line and column', () => {
    const src = 'const a: number = 1;\nconst b = a +* 2;\n';
    try {
      transpile(src, 'main.ts');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ScriptSyntaxError);
      const err = e as ScriptSyntaxError;
      expect([err.line, err.column]).toEqual([2, 14]);
      expect(err.message).not.toMatch(/\(\d+:\d+\)|transforming/);
    }
  });

  it('refuses a namespace (which sucrase would drop) at its line; declare namespace and the word elsewhere are fine', () => {
    const src = 'const a = 1;\n  export namespace Units { export const K = 1024; }\nconsole.log(Units.K);\n';
    expect(() => transpile(src, 'main.ts')).toThrow(ScriptSyntaxError);
    try {
      transpile(src, 'main.ts');
    } catch (e) {
      const err = e as ScriptSyntaxError;
      expect([err.line, err.column, err.message]).toEqual([
        2,
        3,
        expect.stringMatching(/^TypeScript namespaces/),
      ]);
    }
    expect(() =>
      transpile('declare namespace G { const x: number; }\nconst namespace = 1;\n', 'main.ts'),
    ).not.toThrow();
  });

  it('positionOf counts 1-based', () => {
    expect(positionOf('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(positionOf('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('rewritten calls', () => {
  it('maps text the compiler inserted to the expression it belongs to', () => {
    const src = "import { iommu_map } from 'iommu-lab';\nconst r = iommu_map(1, 2);\n";
    const { code, map } = transpile(src, 'main.ts');
    const line = code.split('\n')[1];
    // V8 reports a call made through `.call(void 0, …)` at the `call` property.
    const at = map.original(1, line.indexOf('call'));
    expect(src.split('\n')[1].slice(at.column)).toMatch(/^iommu_map\(/);
    // The arguments keep their own columns.
    expect(map.original(1, line.indexOf('2)')).column).toBe(src.split('\n')[1].indexOf('2)'));
  });
});
