/**
 * The real command, spawned as users run it (`node bin/iommu-lab.js …`), on small scripts in a
 * temporary folder: exit codes, --json, errors with positions, the time limit, the matrix.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/iommu-lab.js', import.meta.url).pathname;
let dir = '';

/** Spawned asynchronously so the tests of a block run side by side (each start costs about a second). */
function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function write(name: string, source: string): string {
  writeFileSync(join(dir, name), source);
  return name;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iommu-lab-cli-'));
  write(
    'pass.ts',
    `import { expect, SZ_4K, lab } from 'iommu-lab';\nconst size: number = SZ_4K;\nexpect(size).toBe(4096);\nconsole.log('size', size);\n`,
  );
  write(
    'fail.ts',
    `import { expect, EINVAL } from 'iommu-lab';\nconst ret: number = -EINVAL;\n  expect(ret).toBe(0);\n`,
  );
  write(
    'throws.ts',
    `const n: number = 1;\nfunction boom(): never {\n  throw new RangeError('iova must be a safe integer');\n}\nboom();\n`,
  );
  write('syntax.ts', `const a: number = 1;\nconst b = a +* 2;\n`);
  write('loop.ts', `let i: number = 0;\ntry {\n  while (true) { i++; }\n} catch {}\nfor (;;) {}\n`);
  write(
    'params.ts',
    `import { lab, expect } from 'iommu-lab';\nexpect(lab.params.driver).toBe('amd-iommu');\nexpect(lab.kernel()).toBe('v6.6');\n`,
  );
  write(
    'uses-helper.ts',
    `import { expect } from 'iommu-lab';\nimport { twice } from './helper';\nexpect(twice(21)).toBe(42);\n`,
  );
  write('helper.ts', `export function twice(x: number): number {\n  return 2 * x;\n}\n`);
  write(
    'matrix.ts',
    `import { lab, expect } from 'iommu-lab';\nconst driver = lab.params.driver ?? 'arm-smmu-v3'; lab.add_iommu('i0', driver as any);\nexpect(driver === 'amd-iommu' && lab.kernel() === 'v6.6').toBe(false);\n`,
  );
});

beforeAll(() => {
  // Adds the cell's driver: tegra-gart is not in v6.16, so that cell is not available.
  write(
    'gart.ts',
    `import { lab } from 'iommu-lab';\nlab.add_iommu('i0', (lab.params.driver ?? 'arm-smmu-v3') as any);\n`,
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('iommu-lab run', () => {
  it('exit 0 when every expectation holds; the report shows the file, counts and console', async () => {
    const r = await cli('run', 'pass.ts');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^✓ pass\.ts .*1 passed/m);
    expect(r.out).toContain('    size 4096');
  });

  it("a console line's level shows without colour too, as in --json", async () => {
    write(
      'levels.ts',
      "console.warn('careful');\nconsole.error('bad');\nconsole.info('fyi');\nconsole.warn('two\\nlines');\n",
    );
    const r = await cli('run', 'levels.ts');
    expect(r.out).toContain('    warn: careful\n    error: bad\n    fyi');
    const j = await cli('run', 'levels.ts', '--json');
    expect(j.err).toContain('levels.ts: warn: careful\nlevels.ts: error: bad\nlevels.ts: fyi');
    // Each line of a text of several says its file and level.
    expect(j.err).toContain('levels.ts: warn: two\nlevels.ts: warn: lines');
  });

  it('exit 1 when an expectation fails, with file:line:column and a caret', async () => {
    const r = await cli('run', 'fail.ts');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^✗ fail\.ts/m);
    expect(r.out).toContain('expectation failed at fail.ts:3:15');
    expect(r.out).toContain('expected 0 but got -22 (-EINVAL)');
    expect(r.out).toContain('3 |   expect(ret).toBe(0);');
    expect(r.out).toMatch(/\n\s+\|\s{15}\^/);
  });

  it('exit 2 on an exception, at the line that threw', async () => {
    const r = await cli('run', 'throws.ts', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({
      file: 'throws.ts',
      status: 'error',
      kernel: 'v6.16',
      expectations: { passed: 0, failed: 0 },
      checks: [],
      error: { name: 'RangeError', message: 'iova must be a safe integer', line: 3, column: 9 },
      steps: 0,
    });
  });

  it("--json names the error's class: a driver the kernel does not have is a KernelVersionError", async () => {
    write('gone.ts', "import { lab } from 'iommu-lab';\nlab.add_iommu('gart', 'tegra-gart');\n");
    const r = await cli('run', 'gone.ts', '--kernel', 'v6.16', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error).toEqual({
      name: 'KernelVersionError',
      message: 'the tegra-gart driver was removed in v6.7; the lab runs v6.16',
      line: 2,
      column: 5,
    });
  });

  it('code after an await that checks or calls the lab is an error at its line (exit 2), never a silent pass', async () => {
    write(
      'late.ts',
      [
        "import { lab, expect } from 'iommu-lab';",
        "const smmu = lab.add_iommu('smmu0', 'arm-smmu-v3');",
        'async function later() { await null; expect(1).toBe(2); }',
        'later();',
        "Promise.resolve().then(() => lab.add_device('nic0', { iommu: smmu }));",
        '',
      ].join('\n'),
    );
    const r = await cli('run', 'late.ts', '--json');
    expect(r.code).toBe(2);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ status: 'error', steps: 1, error: { name: 'RunEndedError', line: 3 } });
    expect(j.error.message).toMatch(
      /^an expectation was checked after the run had ended \(code after an await/,
    );
  });

  it('a promise the script rejected and never handled is its error (exit 2); an async failed expectation exit 1', async () => {
    write(
      'rejects.ts',
      "import { lab } from 'iommu-lab';\nlab.kernel();\nPromise.reject(new Error('unhandled'));\n",
    );
    const r = await cli('run', 'rejects.ts', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({
      status: 'error',
      error: { message: 'in a promise nobody handled: unhandled', line: 3 },
    });
    expect(r.err).not.toMatch(/internal error/);
    write(
      'async-expect.ts',
      "import { expect, lab } from 'iommu-lab';\n(async () => {\n  expect(1).toBe(2);\n})();\n" +
        "console.log('main line went on');\nlab.add_iommu('smmu0', 'arm-smmu-v3');\n",
    );
    const e = await cli('run', 'async-expect.ts', '--json');
    expect(e.code).toBe(1);
    // The failure stops the main line too: it never saw the promise, but its next call meets it.
    expect(JSON.parse(e.out)).toMatchObject({ status: 'failed', error: { line: 3 }, steps: 0 });
    expect(e.err).not.toMatch(/internal error|main line went on/);
    // toThrow on an async function fails (it returned a promise); the promise's rejection is not a second error.
    write(
      'async-tothrow.ts',
      "import { expect } from 'iommu-lab';\nconst f = async () => { throw new Error('inner'); };\nexpect(f).toThrow('inner');\n",
    );
    const t = await cli('run', 'async-tothrow.ts', '--json');
    expect(t.code).toBe(1);
    const tj = JSON.parse(t.out);
    expect(tj).toMatchObject({ status: 'failed', expectations: { failed: 1 }, error: { line: 3 } });
    expect(tj.error.message).toContain('but it returned a promise');
  });

  it('exit 2 on a syntax error, at its line and column', async () => {
    const r = await cli('run', 'syntax.ts', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error).toMatchObject({ line: 2, column: 14 });
    const human = await cli('run', 'syntax.ts');
    expect(human.out).toContain('syntax.ts:2:14');
  });

  it('stops a script that loops forever at --timeout, exit 2', async () => {
    const r = await cli('run', 'loop.ts', '--timeout', '300', '--json');
    expect(r.code).toBe(2);
    const j = JSON.parse(r.out);
    expect(j.status).toBe('error');
    // The message names the limit that stopped it (the default would say 10000 ms).
    expect(j.error.message).toMatch(/time limit of 300 ms/);
    expect(j.error.line).toBe(3);
  });

  it('--json prints one object per file with the documented fields', async () => {
    const r = await cli('run', 'pass.ts', 'fail.ts', '--json');
    expect(r.code).toBe(1);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual(['pass.ts', 'fail.ts']);
    expect(Object.keys(lines[0]).sort()).toEqual([
      'checks',
      'expectations',
      'file',
      'kernel',
      'status',
      'steps',
    ]);
    expect(Object.keys(lines[1]).sort()).toEqual([
      'checks',
      'error',
      'expectations',
      'file',
      'kernel',
      'status',
      'steps',
    ]);
    expect(Object.keys(lines[1].error).sort()).toEqual(['column', 'line', 'message', 'name']);
    // The script's console is still the CLI's output: on stderr, after the file's name.
    expect(r.err).toContain('pass.ts: size 4096');
  });

  it('--disable-check switches a check off for the run: --json checks leave it out, the script sees none', async () => {
    write(
      'unsynced.ts',
      [
        "import { lab, iommu_paging_domain_alloc, iommu_map, iommu_unmap_fast, iommu_iotlb_gather_init } from 'iommu-lab';",
        "const dev = lab.add_device('d0', { iommu: lab.add_iommu('u0', 'arm-smmu-v3') });",
        'const d = iommu_paging_domain_alloc(dev) as any;',
        'iommu_map(d, 0x100000, lab.mem.alloc(4096), 4096, 3);',
        'iommu_unmap_fast(d, 0x100000, 4096, iommu_iotlb_gather_init());',
        '',
      ].join('\n'),
    );
    const [on, off] = await Promise.all([
      cli('run', 'unsynced.ts', '--json'),
      cli('run', 'unsynced.ts', '--json', '--disable-check', 'unmap-without-sync'),
    ]);
    expect(JSON.parse(on.out).checks.map((c: { id: string }) => c.id)).toEqual(['unmap-without-sync']);
    expect(JSON.parse(off.out)).toMatchObject({ status: 'passed', checks: [] });
  });

  it('the worst outcome sets the exit code', async () => {
    expect((await cli('run', 'pass.ts', 'fail.ts', 'throws.ts')).code).toBe(2);
  });

  it('passes --param and --kernel to the lab', async () => {
    expect((await cli('run', 'params.ts', '--param', 'driver=amd-iommu', '--kernel', 'v6.6')).code).toBe(0);
    expect((await cli('run', 'params.ts', '--param', 'driver=intel-iommu', '--kernel', 'v6.6')).code).toBe(1);
  });

  it("says when the script's own lab.kernel() overrides --kernel, on stderr (stdout stays JSON)", async () => {
    write('picks.ts', `import { lab } from 'iommu-lab';\nlab.kernel('v6.6');\n`);
    const r = await cli('run', 'picks.ts', '--kernel', 'v6.8', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ status: 'passed', kernel: 'v6.6' });
    expect(r.err).toContain(
      'note: picks.ts ran on v6.6, which the script picked with lab.kernel() over --kernel v6.8',
    );
    // Asked for the kernel it picks, or not asked: nothing to say.
    expect((await cli('run', 'picks.ts', '--kernel', 'v6.6')).err).not.toContain('note:');
    expect((await cli('run', 'picks.ts')).err).not.toContain('note:');
  });

  it('--seed seeds lab.random() in run and in every matrix cell; a bad one is bad usage', async () => {
    // The value lab.random() gives first with seed 0, the default.
    write(
      'seeded.ts',
      `import { lab, expect } from 'iommu-lab';\nlab.add_iommu('i0', (lab.params.driver ?? 'arm-smmu-v3') as any);\nexpect(lab.random()).toBe(0.26642920868471265);\n`,
    );
    expect((await cli('run', 'seeded.ts')).code).toBe(0);
    expect((await cli('run', 'seeded.ts', '--seed', '0')).code).toBe(0);
    expect((await cli('run', 'seeded.ts', '--seed', '5')).code).toBe(1);
    const cells = ['--drivers', 'arm-smmu-v3', '--kernels', 'v6.16'];
    expect((await cli('matrix', 'seeded.ts', ...cells)).code).toBe(0);
    expect((await cli('matrix', 'seeded.ts', ...cells, '--seed', '5')).code).toBe(1);
    const bad = await cli('run', 'seeded.ts', '--seed', '1.5');
    expect(bad.code).toBe(3);
    expect(bad.err).toContain("bad --seed '1.5' (want a whole number from 0 to 4294967295)");
  });

  it("reads './name' imports next to the script", async () => {
    const r = await cli('run', 'uses-helper.ts');
    expect(r.out + r.err).toMatch(/✓ uses-helper\.ts/);
    expect(r.code).toBe(0);
    // './helper.js' names helper.ts, as TypeScript's ES modules write it.
    write(
      'uses-helper-js.ts',
      readFileSync(join(dir, 'uses-helper.ts'), 'utf8').replace("'./helper'", "'./helper.js'"),
    );
    expect((await cli('run', 'uses-helper-js.ts')).code).toBe(0);
  });

  it('an error in an imported helper names that file: absolute beside an absolute script, and in --json', async () => {
    write('throws.ts', "export function f() {\n  throw new Error('in helper');\n}\n");
    write('uses-throws.ts', "import { f } from './throws';\nf();\n");
    const text = await cli('run', join(dir, 'uses-throws.ts'));
    expect(text.out).toContain(`Error at ${join(dir, 'throws.ts')}:2:9`);
    const json = JSON.parse((await cli('run', 'uses-throws.ts', '--json')).out);
    expect(json.file).toBe('uses-throws.ts');
    expect(json.error).toMatchObject({ line: 2, column: 9, file: 'throws.ts' });
  });

  it("--param takes any word as a name, '__proto__' too", async () => {
    write(
      'proto.ts',
      "import { lab, expect } from 'iommu-lab';\nexpect(Object.keys(lab.params)).toEqual(['__proto__']);\nexpect(lab.params['__proto__']).toBe('x');\n",
    );
    expect((await cli('run', 'proto.ts', '--param', '__proto__=x')).code).toBe(0);
  });

  it.each([
    [['run', 'nope.ts'], /no such file: nope\.ts/],
    [['run', '.'], /\. is a folder; give the scenario files in it/],
    // It exists: "no such file" would send the user looking for it.
    [['run', '/dev/null'], /^iommu-lab: \/dev\/null is not a regular file/],
    // matrix takes one file: the files in a folder are no answer.
    [['matrix', '.'], /\. is a folder; give one scenario file$/m],
    [['run'], /at least one script/],
    [['run', 'pass.ts', '--frobnicate'], /unknown option '--frobnicate'/],
    [['run', 'pass.ts', '--kernel', 'v5.4'], /unknown kernel 'v5\.4'/],
    [['run', 'pass.ts', '--param', 'novalue'], /bad --param 'novalue'/],
    [['run', 'pass.ts', '--param', '=x'], /bad --param/],
    [['run', 'pass.ts', '--timeout', 'soon'], /bad --timeout 'soon'/],
    [['run', 'pass.ts', '--timeout', '0'], /bad --timeout/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['matrix', 'matrix.ts', '--drivers', 'arm-smmu-v9'], /unknown driver 'arm-smmu-v9'/],
    [['matrix', 'matrix.ts', '--kernels', 'v7'], /unknown kernel 'v7'/],
    [['matrix'], /exactly one script/],
    [
      ['matrix', 'matrix.ts', '--param', 'driver=intel-iommu'],
      /--param driver is the matrix's own .* --drivers/,
    ],
  ])('bad usage %j: exit 3 with a one-line reason', async (args, reason) => {
    const r = await cli(...args);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(reason);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });

  it('no arguments: help on stderr, exit 3', async () => {
    const r = await cli();
    expect(r.code).toBe(3);
    expect(r.err).toContain('Usage:');
  });
});

describe.concurrent('iommu-lab --help / --version', () => {
  it('prints help and version, exit 0', async () => {
    const h = await cli('--help');
    expect(h.code).toBe(0);
    expect(h.out).toContain('iommu-lab run <file...>');
    expect(h.out).toContain('iommu-lab matrix <file>');
    const v = await cli('--version');
    expect(v.code).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(v.out.trim()).toBe(pkg.version);
    expect((await cli('run', '--help')).out).toContain('--timeout');
  });
});

describe.concurrent('iommu-lab matrix', () => {
  it('runs every cell with the driver and kernel set, on threads, and prints a table', async () => {
    const r = await cli(
      'matrix',
      'matrix.ts',
      '--drivers',
      'arm-smmu-v3,amd-iommu',
      '--kernels',
      'v6.6,v6.16',
      '--jobs',
      '2',
      '--json',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    const m = JSON.parse(r.out);
    expect(m).toMatchObject({
      file: 'matrix.ts',
      drivers: ['arm-smmu-v3', 'amd-iommu'],
      kernels: ['v6.6', 'v6.16'],
      allPassed: false,
    });
    expect(m.cells.map((c: { status: string }) => c.status)).toEqual([
      'passed',
      'passed',
      'failed',
      'passed',
    ]);
    expect(m.cells[2]).toMatchObject({
      driver: 'amd-iommu',
      kernel: 'v6.6',
      line: 3,
      detail: 'expected false but got true',
    });

    const human = await cli(
      'matrix',
      'matrix.ts',
      '--drivers',
      'arm-smmu-v3,amd-iommu',
      '--kernels',
      'v6.6,v6.16',
      '--jobs',
      '1',
    );
    expect(human.code).toBe(1);
    expect(human.out).toMatch(/^arm-smmu-v3\s+✓ passed\s+✓ passed$/m);
    expect(human.out).toMatch(/^amd-iommu\s+✗ failed\s+✓ passed$/m);
    expect(human.out).toContain('amd-iommu × v6.6  matrix.ts:3:');
  });

  /** Two drivers × two kernels: in the CLI's own thread with --jobs 1, on worker threads with 4. */
  const fourCells = (file: string, jobs: string, ...more: string[]) =>
    cli(
      'matrix',
      file,
      '--drivers',
      'arm-smmu-v3,amd-iommu',
      '--kernels',
      'v6.8,v6.16',
      '--jobs',
      jobs,
      ...more,
    );

  it('a promise a cell rejected and never handled is its error, on threads too', async () => {
    write(
      'rejects-cell.ts',
      "import { lab } from 'iommu-lab';\nlab.kernel();\nPromise.reject(new Error('unhandled'));\n",
    );
    for (const jobs of ['1', '4']) {
      const r = await fourCells('rejects-cell.ts', jobs, '--json');
      expect(r.code).toBe(2);
      const cells = JSON.parse(r.out).cells as { status: string; detail: string; line: number }[];
      expect(cells.map((c) => [c.status, c.detail, c.line])).toEqual(
        Array(4).fill(['error', 'in a promise nobody handled: unhandled', 3]),
      );
    }
  });

  it('an error inside an imported helper is placed in that file', async () => {
    write('badhelper.ts', "export function f() {\n  throw new Error('in helper');\n}\n");
    write('usesbad.ts', "import { f } from './badhelper';\nf();\n");
    for (const jobs of ['1', '4']) {
      const r = await fourCells('usesbad.ts', jobs);
      expect(r.code).toBe(2);
      // Under a heading, the cells' messages in one column, as the other blocks under the table.
      expect(r.out).toMatch(
        /^✗ cells that did not pass .*:\n {2}arm-smmu-v3 × v6\.8 {3}badhelper\.ts:2:9: in helper$/m,
      );
      expect(r.out).toMatch(/^ {2}amd-iommu × v6\.16 {4}badhelper\.ts:2:9: in helper$/m);
    }
  });

  it("prints each cell's first differing result, and gives it in --json", async () => {
    // IOMMU-FACTS §6 (a): before v6.9, a map before the first attach fails on SMMUv3 and virtio.
    write(
      'differs.ts',
      [
        "import { lab, iommu_domain_alloc, iommu_map, IOMMU_READ, SZ_4K } from 'iommu-lab';",
        "lab.add_device('dev0', { iommu: lab.add_iommu('i0', lab.params.driver as 'arm-smmu-v3') });",
        "const domain = iommu_domain_alloc(lab.bus('pci'))!;",
        'iommu_map(domain, 0x100000, lab.mem.alloc(SZ_4K), SZ_4K, IOMMU_READ);',
        '',
      ].join('\n'),
    );
    const args = ['matrix', 'differs.ts', '--drivers', 'arm-smmu-v3,virtio-iommu', '--kernels', 'v6.8'];
    const human = await cli(...args);
    expect(human.code).toBe(0);
    expect(human.out).toContain('first differing result: iommu_map, line 4 (step 5)');
    expect(human.out).toMatch(/^ {2}arm-smmu-v3 × v6\.8 +line 4 iommu_map → -ENODEV$/m);
    expect(human.out).toMatch(/^ {2}virtio-iommu × v6\.8 +line 4 iommu_map → -EINVAL$/m);
    const json = JSON.parse((await cli(...args, '--json')).out);
    expect(json.comparison).toMatchObject({ difference: { call: 2, fn: 'iommu_map', line: 4 } });
    expect(json.cells.map((c: { firstDifference: unknown }) => c.firstDifference)).toEqual([
      { text: 'line 4 iommu_map → -ENODEV', call: { step: 5, fn: 'iommu_map', ret: '-ENODEV', line: 4 } },
      { text: 'line 4 iommu_map → -EINVAL', call: { step: 5, fn: 'iommu_map', ret: '-EINVAL', line: 4 } },
    ]);
    // VT-d maps before the attach in both kernels: nothing differs.
    const same = await cli('matrix', 'differs.ts', '--drivers', 'intel-iommu', '--kernels', 'v6.6,v6.8');
    expect(same.out).toContain('all results agree');
  });

  it('shows the fields of a result that differ, and gives them in --json as differing', async () => {
    write(
      'unsynced.ts',
      [
        "import { lab, iommu_paging_domain_alloc, iommu_attach_device, iommu_map, iommu_unmap_fast, iommu_iotlb_gather_init, IOMMU_READ, SZ_4K } from 'iommu-lab';",
        "const dev = lab.add_device('dev0', { iommu: lab.add_iommu('i0', lab.params.driver as 'arm-smmu-v3') });",
        'const domain = iommu_paging_domain_alloc(dev);',
        'iommu_attach_device(domain, dev);',
        'iommu_map(domain, 0x100000, lab.mem.alloc(SZ_4K), SZ_4K, IOMMU_READ);',
        'iommu_unmap_fast(domain, 0x100000, SZ_4K, iommu_iotlb_gather_init());',
        'dev.dma_read(0x100000, 4);',
        '',
      ].join('\n'),
    );
    const args = ['matrix', 'unsynced.ts', '--drivers', 'arm-smmu-v3,s390-iommu', '--kernels', 'v6.16'];
    const human = await cli(...args);
    expect(human.out).toContain('first differing result: device.dma_read, line 7 (step 9)');
    expect(human.out).toMatch(
      /^ {2}arm-smmu-v3 × v6\.16 +line 7 device\.dma_read → \{ …, fault: \{ reason: 'translation', … \} \}$/m,
    );
    expect(human.out).toMatch(
      /^ {2}s390-iommu × v6\.16 +line 7 device\.dma_read → \{ …, fault: \{ reason: 'out-of-dma-window', … \} \}$/m,
    );
    const json = JSON.parse((await cli(...args, '--json')).out);
    expect(json.cells[1].firstDifference).toEqual({
      text: "line 7 device.dma_read → { ok: false, fault: { reason: 'out-of-dma-window', iova: 0x100000, write: false } }",
      call: {
        step: 9,
        fn: 'device.dma_read',
        ret: "{ ok: false, fault: { reason: 'out-of-dma-window', iova: 0x100000, write: false } }",
        line: 7,
      },
      differing: "{ …, fault: { reason: 'out-of-dma-window', … } }",
    });
  });

  it('exit 0 when every cell passes', async () => {
    const r = await cli('matrix', 'gart.ts', '--drivers', 'arm-smmu-v3', '--kernels', 'v6.8');
    expect(r.code).toBe(0);
    expect(r.out).toContain('every available cell passed');
  });

  it('a cell whose script never added its driver is no pass: marked, named, in --json, exit 1', async () => {
    write(
      'hardcoded.ts',
      "import { lab } from 'iommu-lab';\nlab.add_device('dev0', { iommu: lab.add_iommu('x', 'intel-iommu') });\n",
    );
    const args = [
      'matrix',
      'hardcoded.ts',
      '--drivers',
      'virtio-iommu,intel-iommu',
      '--kernels',
      'v6.8,v6.16',
    ];
    const human = await cli(...args);
    expect(human.code).toBe(1);
    // Before v6.9 VT-d fits the default domain to the unit at its attach: a check (⚠1).
    expect(human.out).toMatch(/^virtio-iommu +\? passed ⚠1 +\? passed$/m);
    expect(human.out).toMatch(/^intel-iommu +✓ passed ⚠1 +✓ passed$/m);
    expect(human.out).toMatch(/^ {2}virtio-iommu × v6\.8, v6\.16 +no virtio-iommu IOMMU, only intel-iommu$/m);
    expect(human.out).toContain('ignores lab.params.driver');
    expect(human.out).toContain('2 of 4 passed without their driver');
    const json = JSON.parse((await cli(...args, '--json')).out);
    expect(json.allPassed).toBe(false);
    expect(json.cells[0]).toMatchObject({
      driver: 'virtio-iommu',
      status: 'passed',
      driversUsed: ['intel-iommu'],
      warning: 'the script added no virtio-iommu IOMMU (only intel-iommu): it ignores lab.params.driver',
    });
    expect(json.cells[2]).toMatchObject({ driver: 'intel-iommu', driversUsed: ['intel-iommu'] });
    expect(json.cells[2]).not.toHaveProperty('warning');

    // Pure constants: no IOMMU at all, the same verdict.
    const none = await cli('matrix', 'pass.ts', '--drivers', 'amd-iommu', '--kernels', 'v6.8', '--json');
    expect(none.code).toBe(1);
    expect(JSON.parse(none.out).cells[0]).toMatchObject({
      status: 'passed',
      driversUsed: [],
      warning: 'the script added no IOMMU: it ignores lab.params.driver',
    });
  });

  it('a cell where checks fired says how many, and which, in the table and in --json', async () => {
    // The 2023 thread: virtio-iommu before v6.9 dereferences a NULL viommu on a map before attach.
    const file = new URL('../../scenarios/map-before-attach.ts', import.meta.url).pathname;
    const args = ['matrix', file, '--drivers', 'virtio-iommu,amd-iommu', '--kernels', 'v6.6'];
    const human = await cli(...args);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/^virtio-iommu +✓ passed ⚠4$/m);
    expect(human.out).toMatch(/^amd-iommu +✓ passed$/m);
    expect(human.out).toContain('⚠ checks fired:');
    expect(human.out).toMatch(
      /^ {2}virtio-iommu × v6\.6 +attach-time-finalise ×2, map-before-attach-failed,\n +kernel-oops$/m,
    );
    for (const line of human.out.split('\n').slice(0, 12)) expect(line.length).toBeLessThanOrEqual(80);
    const json = JSON.parse((await cli(...args, '--json')).out);
    expect(json.cells.map((c: { checks: unknown }) => c.checks)).toEqual([
      [
        { id: 'attach-time-finalise', count: 2 },
        { id: 'map-before-attach-failed', count: 1 },
        { id: 'kernel-oops', count: 1 },
      ],
      [],
    ]);
  });

  it('--disable-check switches checks off in every cell, as the Matrix panel does; an unknown id is bad usage', async () => {
    const file = new URL('../../scenarios/map-before-attach.ts', import.meta.url).pathname;
    const args = ['matrix', file, '--drivers', 'virtio-iommu', '--kernels', 'v6.6', '--json'];
    const off = await cli(
      ...args,
      '--disable-check',
      'attach-time-finalise',
      '--disable-check',
      'kernel-oops',
    );
    expect(JSON.parse(off.out).cells[0].checks).toEqual([{ id: 'map-before-attach-failed', count: 1 }]);
    const bad = await cli(...args, '--disable-check', 'no-such-check');
    expect(bad.code).toBe(3);
    expect(bad.err).toContain(
      "unknown check 'no-such-check' for --disable-check (the lab has stale-iotlb-hit,",
    );
  });

  it('a driver named twice is one row; a table with no available cell says nothing ran, exit 1', async () => {
    const twice = await cli(
      'matrix',
      'pass.ts',
      '--drivers',
      'arm-smmu-v3,arm-smmu-v3',
      '--kernels',
      'v6.16',
      '--json',
    );
    expect(JSON.parse(twice.out).cells).toHaveLength(1);
    const none = await cli('matrix', 'gart.ts', '--drivers', 'tegra-gart', '--kernels', 'v6.16');
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/\nno cell ran: the only cell is not available in its kernel\n$/);
    const two = await cli('matrix', 'gart.ts', '--drivers', 'tegra-gart', '--kernels', 'v6.8,v6.16');
    expect(two.out).toMatch(/\nno cell ran: none of the 2 cells is available in its kernel\n$/);
  });

  it('--json: allPassed agrees with the exit status when no cell could run', async () => {
    const r = await cli('matrix', 'gart.ts', '--drivers', 'tegra-gart', '--kernels', 'v6.16', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ cells: [{ status: 'n/a' }], allPassed: false });
  });

  it('shows the whole of a failed expectation that spans lines, with what differed', async () => {
    write(
      'multiline.ts',
      [
        "import { lab, expect } from 'iommu-lab';",
        "lab.add_iommu('i0', lab.params.driver as 'arm-smmu-v3');",
        "expect({ kernel: lab.kernel(), long: 'x'.repeat(70) }).toEqual({ kernel: 'v6.6', long: 'x'.repeat(70) });",
        '',
      ].join('\n'),
    );
    const r = await cli('matrix', 'multiline.ts', '--drivers', 'arm-smmu-v3', '--kernels', 'v6.8,v6.16');
    expect(r.code).toBe(1);
    // The message's lines go under its first, in the column of the cells' messages.
    expect(r.out).toContain(
      [
        '  arm-smmu-v3 × v6.8   multiline.ts:3:56: expected {',
        "                         kernel: 'v6.6',",
        `                         long: '${'x'.repeat(70)}'`,
        '                       } but got {',
        "                         kernel: 'v6.8',",
        `                         long: '${'x'.repeat(70)}'`,
        '                       }',
        '                         first difference at kernel: expected "v6.6" but got "v6.8"',
        '  arm-smmu-v3 × v6.16  multiline.ts:3:56: expected {',
      ].join('\n'),
    );
    expect(r.out).toContain('first difference at kernel: expected "v6.6" but got "v6.16"');
  });

  it('says why cells are n/a, a line per reason, and how many cells ran', async () => {
    // IOMMU-FACTS §5.3: tegra-gart left Linux in v6.7; §6 (e): iommu_paging_domain_alloc() came in v6.11.
    write(
      'paging-alloc.ts',
      [
        "import { lab, iommu_paging_domain_alloc, expect } from 'iommu-lab';",
        "const dev = lab.add_device('d0', { iommu: lab.add_iommu('i0', lab.params.driver as 'arm-smmu-v3') });",
        'expect(iommu_paging_domain_alloc(dev)).toBeTruthy();',
        '',
      ].join('\n'),
    );
    const r = await cli('matrix', 'paging-alloc.ts', '--drivers', 'arm-smmu-v3,tegra-gart');
    // SCRIPT-API: exit 0 when every available cell passed; the summary says how few that was.
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      [
        'n/a: arm-smmu-v3 × v6.6, v6.8; tegra-gart × v6.6',
        '     — iommu_paging_domain_alloc() was added in v6.11 (paging-alloc.ts:3:8)',
        'n/a: tegra-gart × v6.8, v6.16',
        '     — the tegra-gart driver was removed in v6.7 (paging-alloc.ts:2:',
      ].join('\n'),
    );
    expect(r.out).toMatch(/\nevery available cell passed \(1 of 6 ran; the 5 n\/a cells did not run\)\n$/);
    for (const line of r.out.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    // A reason every row shares names no driver; a failing table says what did not run too.
    const all = await cli(
      'matrix',
      'paging-alloc.ts',
      '--drivers',
      'arm-smmu-v3,intel-iommu',
      '--kernels',
      'v6.6',
    );
    expect(all.out).toContain(
      'n/a: every driver × v6.6\n     — iommu_paging_domain_alloc() was added in v6.11 (paging-alloc.ts:3:8)\n',
    );
    const failing = await cli(
      'matrix',
      'matrix.ts',
      '--drivers',
      'amd-iommu,tegra-gart',
      '--kernels',
      'v6.6,v6.8',
    );
    expect(failing.code).toBe(1);
    expect(failing.out).toMatch(/\n1 of the 3 cells that ran did not pass; the n\/a cell did not run\n$/);
  });
});
