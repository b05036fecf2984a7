import { describe, expect, it } from 'vitest';
import { GUARD, instrument, InstrumentError } from './instrument.ts';

/** Run instrumented code with a counting guard; returns how often the guard ran and the code's result. */
function run(code: string): { calls: number; value: unknown; out: string } {
  const { code: out } = instrument(code);
  let calls = 0;
  const fn = new Function(GUARD, `'use strict';\n${out}`) as (g: () => void) => unknown;
  const value = fn(() => {
    calls++;
    if (calls > 10_000) throw new Error('guard: too many calls');
  });
  return { calls, value, out };
}

describe('guard insertion', () => {
  it.each([
    ['while', 'let i = 0; while (i < 5) { i++; } return i;', 5, 5],
    ['while without braces', 'let i = 0; while (i < 5) i++; return i;', 5, 5],
    ['do-while', 'let i = 0; do { i++; } while (i < 5); return i;', 5, 5],
    ['do-while without braces', 'let i = 0; do i++; while (i < 5); return i;', 5, 5],
    ['for', 'let s = 0; for (let i = 0; i < 5; i++) s += i; return s;', 10, 5],
    ['for with empty body', 'let i = 0; for (; i < 5; i++); return i;', 5, 5],
    ['for-of', 'let s = 0; for (const x of [1, 2, 3]) s += x; return s;', 6, 3],
    ['for-in', 'let s = ""; for (const k in { a: 1, b: 2 }) { s += k; } return s;', 'ab', 2],
    [
      'labelled loops',
      'let n = 0; outer: for (let i = 0; i < 3; i++) inner: for (let j = 0; j < 3; j++) { if (j === 1) continue outer; n++; } return n;',
      3,
      3 + 6,
    ],
    ['function declaration', 'function f(x) { return x + 1; } return f(f(1));', 3, 2],
    ['function expression', 'const f = function (x) { return x * 2; }; return f(4);', 8, 1],
    ['arrow with block', 'const f = (x) => { return x * 2; }; return f(4);', 8, 1],
    ['arrow with expression body', 'const f = (x) => x * 2; return [1, 2, 3].map(f)[2];', 6, 3],
    ['arrow returning an object', 'const f = () => ({ a: 1 }); return f().a;', 1, 1],
    ['nested arrows', 'const f = (a) => (b) => a + b; return f(1)(2);', 3, 2],
    [
      'methods, getters, setters',
      'class C { m() { return 1; } get g() { return 2; } set s(v) { this.v = v; } } const c = new C(); c.s = 3; return c.m() + c.g + c.v;',
      6,
      3,
    ],
    ['object method shorthand', 'const o = { m() { return 5; } }; return o.m();', 5, 1],
    ['generator', 'function* g() { yield 1; yield 2; } return [...g()].length;', 2, 1],
    [
      'a directive stays a directive',
      "function f() { 'use strict'; return this; } return f() === undefined;",
      true,
      1,
    ],
  ])('%s', (_name, code, value, calls) => {
    const r = run(code);
    expect(r.value).toEqual(value);
    expect(r.calls).toBe(calls);
  });

  it('keeps line numbers', () => {
    const code =
      'let i = 0;\nwhile (i < 3)\n  i++;\nconst f = (x) =>\n  x + 1;\nfunction g() {\n  return f(i);\n}\n';
    const out = instrument(code).code;
    expect(out.split('\n')).toHaveLength(code.split('\n').length);
    expect(out.split('\n')[6]).toContain('return f(i);');
  });

  it('maps columns after inserted text back to the input', () => {
    const code = 'for (;;) x(); const f = () => y(1); while (a) { b(); }';
    const inst = instrument(code);
    for (const name of ['x(', 'y(1)', 'b()', 'const f']) {
      const outCol = inst.code.indexOf(name);
      expect(inst.inputColumn(0, outCol), name).toBe(code.indexOf(name));
    }
    // A position inside inserted text maps to where it was inserted.
    const g = inst.code.indexOf(GUARD);
    expect(inst.inputColumn(0, g)).toBe(code.indexOf('x('));
  });

  it('refuses the reserved guard name', () => {
    expect(() => instrument(`const ${GUARD} = () => {};`)).toThrow(InstrumentError);
    expect(() => instrument(`globalThis.${GUARD} = 1;`)).toThrow(/reserved/);
  });

  it('refuses dynamic import() with its position', () => {
    try {
      instrument('const a = 1;\nconst m = import("fs");');
      expect.unreachable();
    } catch (e) {
      expect((e as InstrumentError).offset).toBe('const a = 1;\nconst m = '.length);
    }
  });

  it('reports parse errors with an offset', () => {
    expect(() => instrument('let x = ;')).toThrow(InstrumentError);
  });
});

describe('text the sandbox would refuse', () => {
  const html = ['<', '!--'].join('');
  const htmlEnd = ['--', '>'].join('');
  const imp = ['imp', 'ort('].join('');

  it('defuses import( and HTML-like comments in comments and literals, keeping values', () => {
    const code = `// see ${imp}x) and ${html} here\nconst s = "${imp}y) ${html} ${htmlEnd}"; const t = \`${imp}\`; const r = /a${htmlEnd}/; return [s, t, r.test('a${htmlEnd}')];`;
    const r = run(code);
    expect(r.out).not.toContain(imp);
    expect(r.out).not.toContain(html);
    expect(r.out).not.toContain(htmlEnd);
    expect(r.value).toEqual([`${imp}y) ${html} ${htmlEnd}`, imp, true]);
  });

  it('separates the operators of x-->0 in code', () => {
    const r = run(`let x = 3, n = 0; while (x${htmlEnd}0) n++; return n;`);
    expect(r.value).toBe(3);
    expect(r.out).not.toContain(htmlEnd);
  });
});
