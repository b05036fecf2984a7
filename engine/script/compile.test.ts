import { describe, expect, it } from 'vitest';
import { compileFile } from './compile.ts';
import { ScriptSyntaxError } from './transpile.ts';

describe('compileFile', () => {
  it('gives the same code under a new sourceURL when the same text comes back', () => {
    const src =
      "import { lab } from 'iommu-lab';\nconst n: number = 1;\nfor (let i = 0; i < n; i++) lab.now();\n";
    const a = compileFile('main.ts', src, 'lab-run1-0.js');
    const b = compileFile('main.ts', src, 'lab-run2-0.js');
    expect(a.code.endsWith('//# sourceURL=lab-run1-0.js')).toBe(true);
    expect(b.code.endsWith('//# sourceURL=lab-run2-0.js')).toBe(true);
    expect(b.code.replace('lab-run2-0.js', 'lab-run1-0.js')).toBe(a.code);
    // Line 2 of the evaluated code is line 1 of the file; positions map back through the same maps.
    expect(b.toUser(3, 1)).toEqual(a.toUser(3, 1));
    expect(a.toUser(3, 1)).toEqual({ line: 2, column: 1 });
  });

  it('compiles a changed text afresh and reports its own errors each time', () => {
    const ok = compileFile('main.ts', 'const a = 1;\n', 'u0.js');
    const changed = compileFile('main.ts', 'const a = 2;\n', 'u1.js');
    expect(changed.code).not.toBe(ok.code.replace('u0.js', 'u1.js'));
    for (let i = 0; i < 2; i++) {
      let err: unknown;
      try {
        compileFile('bad.ts', 'const x = ;\n', `u${i}.js`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ScriptSyntaxError);
      expect((err as ScriptSyntaxError).line).toBe(1);
    }
  });
});
