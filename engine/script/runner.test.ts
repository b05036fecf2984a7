import { describe, expect, it } from 'vitest';
import { runScriptWith, type LabModuleFactory, type RunOptions, type RunnerSession } from './runner.ts';

/**
 * A small stand-in for the lab module (plain exports, no engine), so the runner's own behaviour is
 * tested in isolation; run-script.test.ts runs the real module.
 */
const seen: unknown[] = [];
const factory: LabModuleFactory<RunnerSession> = (opts) => {
  let steps = 0;
  const session = {
    get steps() {
      return steps;
    },
    checks: () => (steps > 1 ? [{ id: 'demo-check', step: 2, message: 'demo' }] : []),
  };
  class KernelVersionError extends Error {
    override name = 'KernelVersionError';
  }
  const exports = {
    EINVAL: 22,
    iommu_map: (iova: number) => {
      steps++;
      if (iova < 0) throw new RangeError('iova must be a non-negative safe integer');
      return -22;
    },
    deep: (n: number): number => (n > 0 ? exports.deep(n - 1) : exports.iommu_map(-1)),
    iommu_domain_alloc: () => {
      throw new KernelVersionError('iommu_domain_alloc was removed in v6.12; use iommu_paging_domain_alloc');
    },
    record: (e: unknown) => {
      seen.push(e);
    },
    lab: { params: Object.freeze({ ...opts.params }), kernel: () => opts.kernel ?? 'v6.16' },
  };
  return { exports, session };
};

const run = (source: string, extra: Partial<RunOptions> = {}) =>
  runScriptWith(factory, { fileName: 'main.ts', source, ...extra });

describe('results', () => {
  it('passes, counting expectations and steps', () => {
    const r = run(
      `import { iommu_map, expect, EINVAL } from 'iommu-lab';\nexpect(iommu_map(0)).toBe(-EINVAL);\nexpect(iommu_map(1)).toBeLessThan(0);\n`,
    );
    expect(r.status).toBe('passed');
    expect(r.expectations).toEqual({ passed: 2, failed: 0 });
    expect(r.steps).toBe(2);
    expect(r.checks).toEqual([{ id: 'demo-check', step: 2, message: 'demo' }]);
    expect(r.error).toBeUndefined();
    expect(r.session?.steps).toBe(2);
  });

  it('stops at a failed expectation and reports its line and column', () => {
    const r = run(
      `import { iommu_map, expect } from 'iommu-lab';\nconst ret: number = iommu_map(0);\n  expect(ret).toBe(0);\nexpect(1).toBe(1);\n`,
    );
    expect(r.status).toBe('failed');
    expect(r.expectations).toEqual({ passed: 0, failed: 1 });
    expect(r.error).toMatchObject({
      message: 'expected 0 but got -22 (-EINVAL)',
      file: 'main.ts',
      line: 3,
      column: 15,
    });
    expect(r.expectationLog[0]).toMatchObject({ passed: false, matcher: 'toBe', line: 3 });
  });

  it('a failed expectation stops the script even where the script catches it', () => {
    for (const handler of ['catch {}', 'catch (e) { record(e); }', 'finally { record(1); }']) {
      seen.length = 0;
      const r = run(
        `import { expect, record } from 'iommu-lab';\nfunction f() { try { expect(1).toBe(2); } ${handler} return 5; }\n` +
          `try { f(); } catch {}\nrecord('went on');\nexpect(3).toBe(3);\n`,
      );
      expect(r.status).toBe('failed');
      expect(r.expectations).toEqual({ passed: 0, failed: 1 });
      expect(r.error?.line).toBe(2);
      expect(seen).toEqual([]);
    }
  });

  it('a failed expectation inside a toThrow callback is not the throw it waits for', () => {
    const r = run(`import { expect } from 'iommu-lab';\nexpect(() => expect(1).toBe(2)).toThrow();\n`);
    expect(r.status).toBe('failed');
    expect(r.expectations).toEqual({ passed: 0, failed: 1 });
  });

  it("refuses 'using' declarations at their line, where Node's engine would fail without one", () => {
    for (const kind of ['using', 'await using']) {
      const body = kind === 'using' ? 'using r = res;' : 'await using r = res;';
      const r = run(`const res = { [Symbol.dispose]() {} };\nasync function f() {\n  ${body}\n}\n`);
      expect(r.status).toBe('error');
      expect(r.error).toMatchObject({ name: 'SyntaxError', line: 3, column: 3 });
      expect(r.error?.message).toContain(`'${kind}' declarations are not available`);
    }
  });

  it('runs a file that starts with a hashbang line, with positions unchanged', () => {
    const r = run(`#!/usr/bin/env iommu-lab\nimport { expect } from 'iommu-lab';\nexpect(1).toBe(2);\n`);
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ line: 3, column: 11 });
  });

  it("reports a script's own error class where it was thrown, not in the class's constructor", () => {
    const classes = [
      'class MyErr extends Error {\n  constructor(m: string) {\n    super(m);\n  }\n}\n',
      'class MyErr extends Error {}\n\n\n\n\n',
      'class Base extends RangeError {}\nclass MyErr extends Base {\n  constructor(m: string) {\n    super(m);\n  }\n}\n'.slice(
        0,
        -1,
      ),
    ];
    for (const cls of classes) {
      const lines = cls.split('\n').length;
      const r = run(`${cls}function check() {\n  throw new MyErr('bad');\n}\ncheck();\n`);
      expect(r.status).toBe('error');
      expect(r.error).toMatchObject({ line: lines + 1, column: 9 });
      expect(r.error?.message).toMatch(/^(RangeError: )?bad$/);
    }
    // A constructor that is not an error's own stays a place to show: the throw is inside it.
    const r = run(`class Dev {\n  constructor() {\n    throw new Error('no');\n  }\n}\nnew Dev();\n`);
    expect(r.error).toMatchObject({ line: 3, column: 11 });
  });

  it('reports exceptions at the script line, through engine frames', () => {
    const r = run(`import { deep } from 'iommu-lab';\n\nconst x: number = 1;\n    deep(30);\n`);
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({
      message: 'RangeError: iova must be a non-negative safe integer',
      name: 'RangeError',
      line: 4,
      column: 5,
    });
  });

  it('reports a throw in the script itself', () => {
    const r = run(`function f(): never {\n  throw new TypeError('mine');\n}\nf();\n`);
    expect(r.error).toMatchObject({ message: 'TypeError: mine', line: 2, column: 9 });
    const s = run(`throw 42;`);
    expect(s.error?.message).toBe('uncaught 42');
  });

  it('places a thrown value without a stack at the throw that threw it', () => {
    const r = run(`try {\n  throw 'caught';\n} catch {}\nconst x = 1;\nif (x) throw 'no domain';\n`);
    expect(r.error).toMatchObject({ message: "uncaught 'no domain'", line: 5, column: 14 });
    const o = run(`function f() {\n  throw { code: 5 };\n}\nf();\n`);
    expect(o.error).toMatchObject({ message: 'uncaught { code: 5 }', line: 2 });
    // A script's own catch still gets the value it threw, not a wrapper.
    const c = run(
      `let got: unknown;\ntry { throw 7; } catch (e) { got = e; }\nif (got !== 7) throw new Error('wrapped');\n`,
    );
    expect(c.status).toBe('passed');
  });

  it('reports syntax errors with the user line and column', () => {
    const r = run(`const a = 1;\nconst b: number = a +* 2;\n`);
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ name: 'SyntaxError', file: 'main.ts', line: 2, column: 22 });
    const t = run(`const a = 1;\n  await a;\n`);
    expect(t.error).toMatchObject({ name: 'SyntaxError', line: 2, column: 3 });
    expect(t.error?.message).toMatch(/^await is not available at the top level/);
  });

  it('marks KernelVersionError as not available', () => {
    const r = run(`import { iommu_domain_alloc } from 'iommu-lab';\niommu_domain_alloc();\n`);
    expect(r.status).toBe('error');
    expect(r.unavailable).toBe(true);
    expect(r.error?.name).toBe('KernelVersionError');
  });

  it('passes params and kernel to the module', () => {
    const r = run(
      `import { lab, expect } from 'iommu-lab';\nexpect(lab.params.driver).toBe('amd-iommu');\nexpect(lab.kernel()).toBe('v6.6');\n`,
      {
        params: { driver: 'amd-iommu' },
        kernel: 'v6.6',
      },
    );
    expect(r.status).toBe('passed');
    expect(r.kernel).toBe('v6.6');
  });

  it('imports the other files of the run', () => {
    const r = run(
      `import { twice } from './helper';\nimport { expect } from 'iommu-lab';\nexpect(twice(2)).toBe(4);\n`,
      {
        files: [
          { name: 'helper.ts', source: `export function twice(x: number): number {\n  return x * 2;\n}\n` },
        ],
      },
    );
    expect(r.status).toBe('passed');
    const bad = run(`import { x } from './helper';\nx;\n`, {
      files: [{ name: 'helper.ts', source: `export const x = ;\n` }],
    });
    expect(bad.error).toMatchObject({ name: 'SyntaxError', file: 'helper.ts', line: 1 });
    const missing = run(`import { x } from './nope';\nx;\n`);
    expect(missing.error?.message).toMatch(/Cannot find module '.\/nope'/);
  });

  it("resolves an import from the importing file's folder, as ES modules and the editor do", () => {
    const files = [
      { name: 'lib/x.ts', source: `export { ONE } from './y';\nexport { TWO } from '../two';\n` },
      { name: 'lib/y.ts', source: `export const ONE = 1;\n` },
      { name: 'two.ts', source: `export const TWO = 2;\n` },
    ];
    seen.length = 0;
    const r = run(
      `import { record } from 'iommu-lab';\nimport { ONE, TWO } from './lib/x';\nrecord(ONE + TWO);\n`,
      {
        files,
      },
    );
    expect(r.error).toBeUndefined();
    expect(seen).toEqual([3]);
    // A session's tab in a folder, run as the entry: its imports start from its own folder too.
    const tab = run(`import { record } from 'iommu-lab';\nimport { ONE } from './y';\nrecord(ONE);\n`, {
      fileName: 'lib/z.ts',
      files,
    });
    expect(tab.error).toBeUndefined();
    const above = run(`import { x } from '../../x';\nx;\n`, { fileName: 'lib/z.ts', files });
    expect(above.error?.message).toBe(
      "Cannot find module '../../x': no file of that name in this run (it points above the folder of the script being run)",
    );
  });

  it('gives a helper that imports the script back the module being run, not a second copy', () => {
    // The script is run by a path (as the command line does); the helper names it './main.ts'.
    const r = run(
      `import { helper } from './helper';\nimport { expect } from 'iommu-lab';\nexport const A = 1;\nexpect(helper()).toBe(2);\nconsole.log('once');\n`,
      {
        fileName: 'scenarios/work/main.ts',
        entryIsPath: true,
        files: [
          {
            name: 'helper.ts',
            source: `import { A } from './main.ts';\nexport function helper() {\n  return A + 1;\n}\n`,
          },
        ],
      },
    );
    expect(r.status).toBe('passed');
    expect(r.console.map((l) => l.text)).toEqual(['once']);
  });
});

describe('ordering matchers', () => {
  it('refuse a string from lab.params with or without .not, at the matcher', () => {
    const r = run(
      `import { lab, expect } from 'iommu-lab';\nconst n = lab.params.n;\nexpect(n).not.toBeGreaterThan(4);\n`,
      { params: { n: '10' } },
    );
    expect(r.status).toBe('error');
    expect(r.expectations).toEqual({ passed: 0, failed: 0 });
    expect(r.error).toEqual({
      name: 'TypeError',
      message:
        'TypeError: toBeGreaterThan() needs a number or bigint, got "10" (a string: lab.params values are strings, convert with Number())',
      file: 'main.ts',
      line: 3,
      column: 15,
    });
    // A failed comparison is still placed on the script's own line and column.
    const failed = run(`import { expect } from 'iommu-lab';\n\n  expect(10).toBeLessThan(4);\n`);
    expect(failed.error).toMatchObject({ name: 'ExpectationError', line: 3, column: 14 });
  });
});

describe('imports TypeScript elides', () => {
  const NO_LODASH =
    "Cannot find module 'lodash': scripts can import only 'iommu-lab' and this run's own files ('./name')";

  it('an unused import of a module the run lacks fails in a .ts file as it does in a .js one', () => {
    const src = `import { record } from 'iommu-lab';\nimport { foo } from 'lodash';\nrecord(1);\n`;
    const js = run(src, { fileName: 'main.js' });
    expect(js.error).toMatchObject({ name: 'Error', message: NO_LODASH, line: 2, column: 1 });
    seen.length = 0;
    const ts = run(src);
    expect(ts.status).toBe('error');
    expect(ts.error).toEqual({ ...js.error, file: 'main.ts' });
    expect(seen).toEqual([]); // refused at load, as a link error: nothing ran
    // Used only as a type, in a helper, or a file of the run that is not there: the same.
    const asType = run(`import { Foo } from 'lodash';\nconst x: Foo | undefined = undefined;\n`);
    expect(asType.error).toMatchObject({ message: NO_LODASH, line: 1, column: 1 });
    const inHelper = run(`import { x } from './helper';\nx;\n`, {
      files: [{ name: 'helper.ts', source: `export const x = 1;\n\nimport {\n  y } from 'lodash';\n` }],
    });
    expect(inHelper.error).toMatchObject({ message: NO_LODASH, file: 'helper.ts', line: 4, column: 12 });
    const missing = run(`import { helper } from './nothere';\n`);
    expect(missing.error).toMatchObject({
      message: "Cannot find module './nothere': no file of that name in this run",
      line: 1,
    });
  });

  it('still elides type-only imports of what the run has, and any `import type`', () => {
    seen.length = 0;
    const r = run(
      [
        `import { record } from 'iommu-lab';`,
        `import type { Q } from 'lodash';`,
        `import { Opts } from './types';`,
        `const o: Opts = { a: 1 };`,
        `record(o.a);`,
      ].join('\n'),
      {
        files: [
          { name: 'types.ts', source: `export interface Opts { a: number }\nthrow new Error('loaded');\n` },
        ],
      },
    );
    expect(r.error).toBeUndefined();
    expect(seen).toEqual([1]);
  });
});

describe('console', () => {
  it('captures lines with level, text and line', () => {
    const lines: string[] = [];
    const r = run(
      `console.log('ret', -22, { a: [1, 2] });\nconsole.warn(new Uint8Array([1, 255]));\nconsole.error('%d pages', 3);\n`,
      {
        onConsole: (l) => lines.push(l.text),
      },
    );
    expect(r.console).toEqual([
      { level: 'log', text: 'ret -22 { a: [ 1, 2 ] }', file: 'main.ts', line: 1, column: 9, step: 0, seq: 0 },
      { level: 'warn', text: 'Uint8Array(2) <01 ff>', file: 'main.ts', line: 2, column: 9, step: 0, seq: 1 },
      { level: 'error', text: '3 pages', file: 'main.ts', line: 3, column: 9, step: 0, seq: 2 },
    ]);
    expect(lines).toEqual(r.console.map((l) => l.text));
  });
});

describe('time limit', () => {
  it('stops while(true) at the limit with an error naming the timeout', () => {
    const r = run(`let i = 0;\nwhile (true) {\n  i++;\n}\n`, { timeoutMs: 300 });
    expect(r.status).toBe('error');
    expect(r.timedOut).toBe(true);
    expect(r.error?.message).toMatch(/time limit of 300 ms/);
    expect(r.error?.line).toBe(2);
    expect(r.durationMs).toBeGreaterThanOrEqual(300);
    expect(r.durationMs).toBeLessThan(2000);
  });

  it("is not swallowed by the script's own try/catch", () => {
    const r = run(
      `import { expect } from 'iommu-lab';\nlet caught = 0;\nfor (;;) {\n  try { while (true) {} } catch (e) { caught++; }\n}\n`,
      { timeoutMs: 300 },
    );
    expect(r.status).toBe('error');
    expect(r.error?.message).toMatch(/time limit/);
    const s = run(`let c = 0;\ntry { while (true) {} } catch { c++; }\nconsole.log('went on', c);\n`, {
      timeoutMs: 300,
    });
    expect(s.status).toBe('error');
    expect(s.timedOut).toBe(true);
    expect(s.console).toEqual([]); // neither the catch block nor what follows ran
  });

  it('stops recursion that catches its own errors', () => {
    const r = run(`function f(): void { try { f(); } catch { f(); } }\nf();\n`, { timeoutMs: 300 });
    expect(r.status).toBe('error');
  });

  it('leaves the runner working for the next run', () => {
    run(`while (true) {}`, { timeoutMs: 200 });
    const r = run(
      `import { expect } from 'iommu-lab';\nlet s = 0;\nfor (let i = 0; i < 1e6; i++) s += i;\nexpect(s).toBe(499999500000);\n`,
    );
    expect(r.status).toBe('passed');
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('reports progress while running', () => {
    const ticks: number[] = [];
    run(`while (true) {}`, {
      timeoutMs: 350,
      onProgress: (p) => ticks.push(p.elapsedMs),
      progressEveryMs: 100,
    });
    expect(ticks.length).toBeGreaterThanOrEqual(2);
  });

  it('stops promise callbacks that run after the script ended', async () => {
    seen.length = 0;
    const r = run(
      `import { record } from 'iommu-lab';\nPromise.resolve().then(() => { for (;;) {} }).catch(record);\n`,
    );
    expect(r.status).toBe('passed');
    await new Promise((res) => setTimeout(res, 10));
    expect(seen).toHaveLength(1);
    expect(String(seen[0])).toMatch(/after the run had ended/);
  });
});

describe('sandbox', () => {
  it.each([
    ['Function via a constructor chain', `({}).constructor.constructor('return process')()`],
    [
      'Function via a lab function',
      `import { iommu_map } from 'iommu-lab';\n(iommu_map as any).constructor('return process')()`,
    ],
    [
      'Function via expect',
      `import { expect } from 'iommu-lab';\n(expect as any).constructor('return process')()`,
    ],
    ['Function via console', `(console.log as any).constructor('return process')()`],
    ['an async function constructor', `(async function () {}).constructor('return process')()`],
    ['a generator function constructor', `(function* () {}).constructor('return process')().next()`],
    ['globalThis.process', `(globalThis as any).process.exit(1)`],
    ['process', `process.exit(1)`],
    ['host require', `require('fs')`],
    ['dynamic import', `import('fs')`],
    ['eval', `(0, eval)('1')`],
    ['Function', `Function('return 1')()`],
    ['Compartment', `new Compartment()`],
    ['fetch', `fetch('http://127.0.0.1/')`],
    ['timers', `setTimeout(() => {}, 1)`],
    ['Date.now', `Date.now()`],
    ['the guard', `__lab_guard = () => {}`],
  ])('refuses %s', (_name, source) => {
    const r = run(source);
    expect(r.status).toBe('error');
    expect(r.error?.message).not.toBe('');
  });

  it.each([
    ['Math.random()', 'lab.random()'],
    ['Date.now()', 'lab.now()'],
    ['new Date()', 'lab.now()'],
  ])("refuses %s in the lab's words, naming what to use instead", (call, instead) => {
    const r = run(`const x = 1;\nconst t = ${call};\n`);
    expect(r.error).toMatchObject({ name: 'TypeError', line: 2 });
    expect(r.error?.message).toContain('is not available: a run must give the same result every time');
    expect(r.error?.message).toContain(instead);
    expect(r.error?.message).not.toContain('%Shared');
  });

  it("refuses Date() and new Date() in the lab's words inside the script too, where a catch sees them", () => {
    seen.length = 0;
    const r = run(
      [
        `import { record } from 'iommu-lab';`,
        `for (const f of [() => Date(), () => new Date(), () => Date.now()])`,
        `  try { f(); } catch (e) { record((e as Error).message); }`,
        `const d = new Date(0);`,
        `record([d.toISOString(), d instanceof Date, Date.UTC(1970, 0, 2), Date.parse('1970-01-01T00:00:01Z')]);`,
        `class Stamp extends Date {}`,
        `record(new Stamp(5) instanceof Stamp && new Stamp(5).getTime() === 5);`,
      ].join('\n'),
    );
    expect(r.error).toBeUndefined();
    const [call, construct, now, ...rest] = seen.splice(0) as string[];
    expect(call).toMatch(
      /^Date\(\) is not available: .*a run must give the same result every time; use lab\.now\(\)/,
    );
    expect(construct).toMatch(/^new Date\(\) without arguments is not available: .*use lab\.now\(\)/);
    expect(now).toMatch(/^Date\.now\(\) is not available: .*use lab\.now\(\)/);
    expect(rest).toEqual([['1970-01-01T00:00:00.000Z', true, 86_400_000, 1000], true]);
    const uncaught = run(`const x = 1;\nconst t = Date();\n`);
    expect(uncaught.error).toMatchObject({ name: 'TypeError', line: 2, column: 11 });
    expect(uncaught.error?.message).toMatch(/^TypeError: Date\(\) is not available/);
  });

  it("has the language's Function, which builds no code from strings", () => {
    seen.length = 0;
    const r = run(
      [
        `import { record } from 'iommu-lab';`,
        `const f = (x: number) => x + 1;`,
        `record([typeof Function, f instanceof Function, (async () => {}) instanceof Function]);`,
        `record([Function.prototype === Object.getPrototypeOf(f), Function.prototype.call.call(f, null, 1)]);`,
        `try { Function('return 1'); } catch (e) { record(String(e)); }`,
        `try { new Function('a', 'return a'); } catch (e) { record(String(e)); }`,
      ].join('\n'),
    );
    expect(r.error).toBeUndefined();
    const refusal =
      'TypeError: Function() is not available: the lab does not run code built from strings (as with eval); write the function itself, e.g. (a, b) => a + b';
    expect(seen.splice(0)).toEqual([['function', true, true], [true, 2], refusal, refusal]);
  });

  it.each([
    'Intl',
    'WeakRef',
    'FinalizationRegistry',
    'Atomics',
    'SharedArrayBuffer',
    'queueMicrotask',
    'eval',
  ])('says that %s is left out on purpose, and why, where the script reads it', (name) => {
    const r = run(`const x = 1;\nconst y = [typeof ${name}, ${name}];\n`);
    expect(r.error).toMatchObject({ name: 'ReferenceError', line: 2, column: 21 + name.length });
    expect(r.error?.message).toMatch(
      new RegExp(
        `^ReferenceError: ${name} is not defined: the lab's sandbox leaves it out, as .*(same result|code built from strings|after the run has ended)`,
      ),
    );
  });

  it("Math.random's refusal reads the same inside the script, where a catch sees it", () => {
    seen.length = 0;
    const r = run(
      `import { record } from 'iommu-lab';\ntry { Math.random(); } catch (e) { record((e as Error).message); }\nrecord(Math.max(1, 2));\n`,
    );
    expect(r.status).toBe('passed');
    expect(seen.splice(0)).toEqual([expect.stringContaining('use lab.random()'), 2]);
  });

  it('gives the pure web helpers: text to bytes and back, base64, structuredClone', () => {
    seen.length = 0;
    const r = run(
      [
        `import { record } from 'iommu-lab';`,
        `const bytes: Uint8Array = new TextEncoder().encode('héllo');`,
        `record(bytes.length);`,
        `record(new TextDecoder().decode(bytes));`,
        `record(atob(btoa('ping')));`,
        `const copy = structuredClone({ a: [1, 2] });`,
        `copy.a.push(3);`,
        `record(copy.a);`,
      ].join('\n'),
    );
    expect(r.error).toBeUndefined();
    expect(seen.splice(0)).toEqual([6, 'héllo', 'ping', [1, 2, 3]]);
  });

  it.each([
    ['TextEncoder.prototype', `(TextEncoder.prototype as any).encode = () => new Uint8Array(0)`],
    ['TextEncoder', `(TextEncoder as any).x = 1`],
    ['Function via TextDecoder', `(TextDecoder as any).constructor('return process')()`],
  ])('the web helpers cannot be changed or used to escape: %s', (_name, source) => {
    const r = run(`'use strict';\n${source};\n`);
    expect(r.status).toBe('error');
    expect(new TextEncoder().encode('a')).toEqual(new Uint8Array([97]));
  });

  it('exposes no host objects through the stack trace API', () => {
    const r = run(
      `import { expect } from 'iommu-lab';\n(Error as any).prepareStackTrace = (_e: unknown, frames: unknown) => frames;\nconst s = new Error('x').stack;\nexpect(typeof s).toBe('string');\n`,
    );
    expect(r.error?.message ?? '').not.toMatch(/expected/);
  });

  it('hands in frozen objects', () => {
    const r = run(
      `import * as lab from 'iommu-lab';\nimport { expect } from 'iommu-lab';\nexpect(Object.isFrozen(lab.iommu_map)).toBe(true);\nexpect(Object.isFrozen(console)).toBe(true);\nexpect(Object.isFrozen(Object.getPrototypeOf(expect(1)))).toBe(true);\nexpect(() => { (Array.prototype as any).x = 1; }).toThrow();\n`,
    );
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('passed');
  });

  it('gives each run a fresh global object', () => {
    run(`(globalThis as any).leak = 1;`);
    const r = run(`import { expect } from 'iommu-lab';\nexpect((globalThis as any).leak).toBe(undefined);\n`);
    expect(r.status).toBe('passed');
  });
});

describe('hostile throwables', () => {
  it('a thrown Proxy cannot stall the runner while it reads the error', () => {
    const t0 = Date.now();
    const r = run(`const p = new Proxy({}, { get() { for (;;) {} }, has() { for (;;) {} } });\nthrow p;\n`, {
      timeoutMs: 5000,
    });
    expect(r.status).toBe('error');
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
