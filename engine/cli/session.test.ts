/**
 * Session files through the real command (`node bin/iommu-lab.js`, as users run it): `session new`
 * from scenario files, `session check`, and `run x.iommulab` with the session's settings; every kind
 * of damaged file exits 3 with the reason and runs nothing.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/iommu-lab.js', import.meta.url).pathname;
const FIXTURES = new URL('../session/fixtures/', import.meta.url).pathname;
const SCENARIOS = new URL('../../scenarios/', import.meta.url).pathname;
let dir = '';

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

const write = (name: string, text: string | Uint8Array): string => {
  writeFileSync(join(dir, name), text);
  return name;
};
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
const session = (name: string, doc: object): string => write(name, JSON.stringify(doc, null, 2));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iommu-lab-session-'));
  write(
    'main.ts',
    `import { lab, expect } from 'iommu-lab';\nimport { twice } from './helper';\nexpect(twice(21)).toBe(42);\nconsole.log('kernel', lab.kernel(), 'driver', lab.params.driver ?? '-');\n`,
  );
  write('helper.ts', `export function twice(x: number): number {\n  return 2 * x;\n}\n`);
  write(
    'settings.ts',
    `import { lab, expect } from 'iommu-lab';\nexpect(lab.kernel()).toBe('v6.6');\nexpect(lab.params.driver).toBe('amd-iommu');\nconsole.log('random', lab.random());\n`,
  );
  mkdirSync(join(dir, 'lib'));
  write('lib/util.ts', `export const PAGE = 4096;\n`);
  write(
    'uses-lib.ts',
    `import { expect } from 'iommu-lab';\nimport { PAGE } from './lib/util.ts';\nexpect(PAGE).toBe(4096);\n`,
  );
  write('bad name.ts', `export {};\n`);
  mkdirSync(join(dir, 'damaged'));
  for (const f of readdirSync(join(FIXTURES, 'damaged')))
    copyFileSync(join(FIXTURES, 'damaged', f), join(dir, 'damaged', f));
  copyFileSync(join(FIXTURES, 'v1-full.iommulab'), join(dir, 'v1.iommulab'));
});

const damaged = [
  ['empty.iommulab', 'the file is empty'],
  ['not-json.iommulab', "not valid JSON at line 1, column 1: 'I' where a value should be"],
  ['truncated.iommulab', 'the file is truncated: it ends inside a string (line 16)'],
  ['future-version.iommulab', 'made by a newer IOMMU Lab: formatVersion 7, this lab reads up to 2'],
  ['wrong-type.iommulab', 'scripts[1].source must be a string (found 42)'],
  ['unknown-field.iommulab', 'scripts[0].sourceMap is not a field of a script'],
  ['no-version.iommulab', 'formatVersion is missing'],
  ['bad-kernel.iommulab', 'kernel must be one of "v6.6", "v6.8", "v6.16" (found "v5.15")'],
  ['duplicate-tab.iommulab', 'scripts[1].name "main.ts" repeats scripts[0].name'],
];

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('iommu-lab session new', () => {
  it('makes a session from scripts, with the files they import, and the settings given', async () => {
    const r = await cli(
      'session',
      'new',
      'main.ts',
      '-o',
      'lab.iommulab',
      '--kernel',
      'v6.8',
      '--param',
      'driver=intel-iommu',
      '--seed',
      '42',
      '--disable-check',
      'stale-iotlb-hit',
      '--notes',
      'first try',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(
      'wrote lab.iommulab: 2 scripts (main.ts, helper.ts), kernel v6.8; added helper.ts (imported)',
    );
    const doc = JSON.parse(read('lab.iommulab'));
    expect(doc).toMatchObject({
      $schema: 'urn:iommu-lab:session:2',
      formatVersion: 2,
      kernel: 'v6.8',
      seed: 42,
      params: { driver: 'intel-iommu' },
      disabledChecks: ['stale-iotlb-hit'],
      activeScript: 'main.ts',
      notes: 'first try',
    });
    expect(doc.scripts.map((s: { name: string }) => s.name)).toEqual(['main.ts', 'helper.ts']);
    expect(doc.scripts[0].source).toBe(read('main.ts'));
    // Canonical text: two-space indent and a final newline.
    expect(read('lab.iommulab')).toMatch(/^\{\n {2}"\$schema"[^]*\n\}\n$/);

    const run = await cli('run', 'lab.iommulab');
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^✓ lab\.iommulab#main\.ts .*1 passed · v6\.8/m);
    expect(run.out).toContain('    kernel v6.8 driver intel-iommu');
    expect(run.out).toMatch(/^✓ lab\.iommulab#helper\.ts/m);
  });

  it('takes imports from folders as tab names with the folder', async () => {
    const r = await cli('session', 'new', 'uses-lib.ts', '-o', 'lib.iommulab');
    expect(r.code).toBe(0);
    expect(JSON.parse(read('lib.iommulab')).scripts.map((s: { name: string }) => s.name)).toEqual([
      'uses-lib.ts',
      'lib/util.ts',
    ]);
    const run = await cli('run', 'lib.iommulab', '--script', 'uses-lib.ts');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^✓ lib\.iommulab#uses-lib\.ts .*1 passed/m);
    expect(run.out).not.toContain('util.ts');
  });

  it("follows imports from the importing file's folder: lib/x.ts's './y' is lib/y.ts", async () => {
    mkdirSync(join(dir, 'nested/lib'), { recursive: true });
    write('nested/main.ts', `import { twice } from './lib/x';\nconsole.log('twice', twice(21));\n`);
    write(
      'nested/lib/x.ts',
      `import { ONE } from './y';\nexport const twice = (n: number) => 2 * n * ONE;\n`,
    );
    write('nested/lib/y.ts', `export const ONE = 1;\n`);
    const r = await cli('session', 'new', 'nested/main.ts', '-o', 'nested.iommulab');
    expect(r.code).toBe(0);
    expect(JSON.parse(read('nested.iommulab')).scripts.map((s: { name: string }) => s.name)).toEqual([
      'main.ts',
      'lib/x.ts',
      'lib/y.ts',
    ]);
    const [check, run, direct] = await Promise.all([
      cli('session', 'check', 'nested.iommulab'),
      cli('run', 'nested.iommulab', '--script', 'main.ts'),
      cli('run', 'nested/main.ts'),
    ]);
    expect(check.out).not.toContain('warning');
    expect(run.out).toContain('twice 42');
    expect(direct.out).toContain('twice 42');
  });

  it('refuses two different imported files of one name, and what the lab would not load', async () => {
    mkdirSync(join(dir, 'twoA'), { recursive: true });
    mkdirSync(join(dir, 'twoB'), { recursive: true });
    write('twoA/helper.ts', "export const h = 'A';\n");
    write('twoB/helper.ts', "export const h = 'B';\n");
    write('twoA/a.ts', "import { h } from './helper';\nconsole.log(h);\n");
    write('twoB/b.ts', "import { h } from './helper';\nconsole.log(h);\n");
    const two = await cli('session', 'new', 'twoA/a.ts', 'twoB/b.ts', '-o', 'two.iommulab');
    expect(two.code).toBe(3);
    expect(two.err).toMatch(/twoB\/helper\.ts and twoA\/helper\.ts would both be the tab 'helper\.ts'/);
    const long = await cli(
      'session',
      'new',
      'helper.ts',
      '-o',
      'long.iommulab',
      '--param',
      `p=${'v'.repeat(70_000)}`,
    );
    expect(long.code).toBe(3);
    expect(long.err).toMatch(/session new: the session would not load: .*params\.p/);
    expect(existsSync(join(dir, 'long.iommulab'))).toBe(false);
  });

  it('warns when a script imports a file that is not next to it, and still writes the session', async () => {
    write('lonely.ts', "import { x } from './nothere';\nconsole.log(x);\n");
    const r = await cli('session', 'new', 'lonely.ts', '-o', 'lonely.iommulab');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: lonely\.ts imports '\.\/nothere', which is not next to it/);
    expect(JSON.parse(read('lonely.iommulab')).scripts).toHaveLength(1);
  });

  it('bundles only what a script really imports: not an import in a comment or a string', async () => {
    write('aside.ts', 'export const aside = 1;\n');
    write(
      'quoted.ts',
      [
        "import { lab } from 'iommu-lab';",
        "// import { aside } from './aside';",
        'const text = "import \'./aside\'";',
        "import { twice } from './helper';",
        'console.log(text, twice(2), lab.kernel());',
        '',
      ].join('\n'),
    );
    const r = await cli('session', 'new', 'quoted.ts', '-o', 'quoted.iommulab');
    expect(r.code).toBe(0);
    const doc = JSON.parse(read('quoted.iommulab'));
    expect(doc.scripts.map((x: { name: string }) => x.name)).toEqual(['quoted.ts', 'helper.ts']);
  });

  it('refuses a script that is not UTF-8 text, naming it, and writes nothing', async () => {
    write('latin1.ts', Uint8Array.from([...Buffer.from('const s = "caf'), 0xe9, ...Buffer.from('";\n')]));
    const r = await cli('session', 'new', 'latin1.ts', '-o', 'latin1.iommulab');
    expect(r.code).toBe(3);
    expect(r.err).toContain('latin1.ts is not UTF-8 text');
    expect(existsSync(join(dir, 'latin1.iommulab'))).toBe(false);
  });

  it('refuses to replace a file unless told to', async () => {
    write('exists.iommulab', 'keep me');
    const r = await cli('session', 'new', 'helper.ts', '-o', 'exists.iommulab');
    expect(r.code).toBe(3);
    expect(r.err.trim()).toBe('iommu-lab: session new: exists.iommulab exists (add --force to replace it)');
    expect(read('exists.iommulab')).toBe('keep me');
    expect((await cli('session', 'new', 'helper.ts', '-o', 'exists.iommulab', '--force')).code).toBe(0);
    expect(JSON.parse(read('exists.iommulab')).scripts[0].name).toBe('helper.ts');
    // No temporary file is left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('says at once what the lab will warn about when it opens the file (a check it does not have)', async () => {
    const r = await cli('session', 'new', 'helper.ts', '-o', 'typo.iommulab', '--disable-check', 'stale-hit');
    expect(r.code).toBe(0);
    expect(r.out).toContain('warning: disabledChecks[0]: this lab has no check "stale-hit"');
  });

  it('--force keeps what the replaced file was: its permissions, and a link stays a link', async () => {
    write('private.iommulab', 'old');
    chmodSync(join(dir, 'private.iommulab'), 0o600);
    expect((await cli('session', 'new', 'helper.ts', '-o', 'private.iommulab', '--force')).code).toBe(0);
    expect(statSync(join(dir, 'private.iommulab')).mode & 0o777).toBe(0o600);
    write('target.iommulab', 'old');
    symlinkSync('target.iommulab', join(dir, 'link.iommulab'));
    expect((await cli('session', 'new', 'helper.ts', '-o', 'link.iommulab', '--force')).code).toBe(0);
    expect(lstatSync(join(dir, 'link.iommulab')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(read('target.iommulab')).scripts[0].name).toBe('helper.ts');
  });

  it.each([
    [['session', 'new', 'main.ts'], /say where to write it with -o/],
    [['session', 'new', '-o', 'x.iommulab'], /at least one script/],
    [['session', 'new', 'main.ts', '-o', 'x.json'], /must end in \.iommulab \(got 'x\.json'\)/],
    [['session', 'new', 'nope.ts', '-o', 'x.iommulab'], /no such file: nope\.ts/],
    [
      ['session', 'new', 'bad name.ts', '-o', 'x.iommulab'],
      /bad name\.ts: a tab needs a file name such as main\.ts/,
    ],
    [['session', 'new', 'main.ts', '-o', 'x.iommulab', '--kernel', 'v5'], /unknown kernel 'v5'/],
    [['session', 'new', 'main.ts', '-o', 'x.iommulab', '--seed', 'soon'], /bad --seed 'soon'/],
    [
      ['session', 'new', 'main.ts', '-o', 'x.iommulab', '--active', 'other.ts'],
      /--active 'other\.ts' is not one of the scripts/,
    ],
    [
      ['session', 'new', 'main.ts', '-o', 'no-such-dir/x.iommulab'],
      /cannot write no-such-dir\/x\.iommulab: the folder no-such-dir does not exist$/m,
    ],
    [
      ['session', 'new', 'main.ts', '-o', 'main.ts/x.iommulab'],
      /cannot write main\.ts\/x\.iommulab: main\.ts is a file, not a folder$/m,
    ],
    [['session', 'frob'], /unknown subcommand 'frob'/],
  ])('bad usage %j: exit 3, one line', async (args, reason) => {
    const r = await cli(...args);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(reason);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe.concurrent('iommu-lab run <file>.iommulab', () => {
  it("runs with the session's kernel, params and seed; --kernel and --param win", async () => {
    session('settings.iommulab', {
      formatVersion: 2,
      kernel: 'v6.6',
      seed: 9,
      params: { driver: 'amd-iommu' },
      scripts: [{ name: 'settings.ts', source: read('settings.ts') }],
    });
    session('settings2.iommulab', { ...JSON.parse(read('settings.iommulab')), seed: 10 });
    const [r, a, b, other, kernel, param] = await Promise.all([
      cli('run', 'settings.iommulab', '--json'),
      cli('run', 'settings.iommulab'),
      cli('run', 'settings.iommulab'),
      cli('run', 'settings2.iommulab'),
      cli('run', 'settings.iommulab', '--kernel', 'v6.16'),
      cli('run', 'settings.iommulab', '--param', 'driver=intel-iommu'),
    ]);
    const random = (s: string) => /random (\S+)/.exec(s)?.[1];
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ file: 'settings.iommulab#settings.ts', status: 'passed' });
    // With --json the script's console goes to stderr, after the tab's name: the same number.
    expect(r.err).toBe(`settings.iommulab#settings.ts: random ${random(a.out)}\n`);
    // The seed is the session's: the same number every time, another seed another number.
    expect(random(a.out)).toBeDefined();
    expect(random(a.out)).toBe(random(b.out));
    expect(random(other.out)).not.toBe(random(a.out));
    expect(kernel.code).toBe(1);
    expect(param.code).toBe(1);
  }, 180_000);

  it('exit 1 on a failed expectation, at the tab and line, with the source', async () => {
    session('fails.iommulab', {
      formatVersion: 2,
      scripts: [{ name: 'main.ts', source: "import { expect } from 'iommu-lab';\n\n  expect(1).toBe(2);\n" }],
    });
    const r = await cli('run', 'fails.iommulab');
    expect(r.code).toBe(1);
    expect(r.out).toContain('expectation failed at fails.iommulab#main.ts:3:13');
    expect(r.out).toContain('3 |   expect(1).toBe(2);');
  });

  it('exit 2 on an error in an imported tab, named by that tab', async () => {
    session('throws.iommulab', {
      formatVersion: 2,
      scripts: [
        { name: 'main.ts', source: "import './boom.ts';\n" },
        { name: 'boom.ts', source: "const x = 1;\nthrow new Error('boom ' + x);\n" },
      ],
    });
    const r = await cli('run', 'throws.iommulab', '--script', 'main.ts');
    expect(r.code).toBe(2);
    expect(r.out).toContain('at throws.iommulab#boom.ts:2:7');
    expect(r.out).toContain("2 | throw new Error('boom ' + x);");
  });

  it('gives every run the scenario helpers (scenarios/lib) no tab shadows, as the app does: a gallery scenario saved alone runs', async () => {
    const source = readFileSync(join(SCENARIOS, 'map-before-attach.ts'), 'utf8');
    expect(source).toContain("from './lib/iova-window.ts'");
    session('gallery.iommulab', { formatVersion: 2, scripts: [{ name: 'map-before-attach.ts', source }] });
    const [check, run] = await Promise.all([
      cli('session', 'check', 'gallery.iommulab'),
      cli('run', 'gallery.iommulab'),
    ]);
    expect(check.out).not.toContain('warning');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^✓ gallery\.iommulab#map-before-attach\.ts /m);
  });

  it("resolves a tab's imports from its own folder; an import that means another file is named", async () => {
    const scripts = (xImports: string) => [
      { name: 'main.ts', source: "import { ONE } from './lib/x';\nconsole.log('one', ONE);\n" },
      { name: 'lib/x.ts', source: `export { ONE } from '${xImports}';\n` },
      { name: 'lib/y.ts', source: 'export const ONE = 1;\n' },
    ];
    session('folders.iommulab', { formatVersion: 2, scripts: scripts('./y') });
    session('folders-wrong.iommulab', { formatVersion: 2, scripts: scripts('./lib/y') });
    const [good, check, wrong] = await Promise.all([
      cli('run', 'folders.iommulab', '--script', 'main.ts'),
      cli('session', 'check', 'folders-wrong.iommulab'),
      cli('run', 'folders-wrong.iommulab', '--script', 'main.ts'),
    ]);
    expect(good.out).toContain('one 1');
    expect(check.out).toContain("warning: lib/x.ts imports './lib/y', which is not a tab of this session");
    expect(wrong.code).toBe(2);
    expect(wrong.out).toContain(
      "Cannot find module './lib/y': no file of that name in this run (from lib/ it names lib/lib/y)",
    );
  });

  it('runs a version 1 file after migrating it', async () => {
    const r = await cli('run', 'v1.iommulab');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^✓ v1\.iommulab#main\.ts .*v6\.6/m);
  });

  it.each(damaged)('a damaged file (%s) exits 3 with the reason and runs nothing', async (file, reason) => {
    // Given after a good script: still nothing runs.
    const r = await cli('run', 'helper.ts', `damaged/${file}`);
    expect(r.code).toBe(3);
    expect(r.err).toContain(`iommu-lab: damaged/${file}: ${reason}`);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });

  it('a file over the size limit, a file that is not UTF-8 and a missing one exit 3', async () => {
    write('huge.iommulab', Buffer.alloc(17 * 1024 * 1024, 0x20));
    write('binary.iommulab', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    const huge = await cli('run', 'huge.iommulab');
    expect(huge.code).toBe(3);
    expect(huge.err.trim()).toBe(
      'iommu-lab: huge.iommulab: the file is 17 MiB; a session file may be at most 16 MiB',
    );
    const bin = await cli('run', 'binary.iommulab');
    expect(bin.code).toBe(3);
    expect(bin.err.trim()).toBe('iommu-lab: binary.iommulab: not UTF-8 text (a session file is JSON text)');
    const missing = await cli('run', 'missing.iommulab');
    expect(missing.err.trim()).toBe('iommu-lab: no such file: missing.iommulab');
    expect(missing.code).toBe(3);
  });

  it('--script names a tab the session has, and only with a session', async () => {
    const r = await cli('run', 'v1.iommulab', '--script', 'other.ts');
    expect(r.code).toBe(3);
    expect(r.err).toContain("v1.iommulab: no script 'other.ts' (it has main.ts)");
    expect((await cli('run', 'helper.ts', '--script', 'x.ts')).code).toBe(3);
  });
});

describe.concurrent('iommu-lab matrix <file>.iommulab', () => {
  /** Passes only with the session's seed (the number given as `want`) and its helper tab. */
  const SWEEP = [
    "import { lab, expect, iommu_paging_domain_alloc, iommu_unmap, SZ_4K } from 'iommu-lab';",
    "import { twice } from './helper';",
    "const dev = lab.add_device('dev0', { iommu: lab.add_iommu('i0', lab.params.driver as 'arm-smmu-v3') });",
    'iommu_unmap(iommu_paging_domain_alloc(dev), 0x100000, SZ_4K); // unmap-of-hole',
    'const r = lab.random();',
    "console.log('random', r);",
    'expect(twice(21)).toBe(42);',
    'expect(String(r)).toBe(lab.params.want ?? String(r));',
    '',
  ].join('\n');
  const doc = (over: object) => ({
    formatVersion: 2,
    kernel: 'v6.6',
    seed: 7,
    params: { driver: 'omap-iommu' },
    disabledChecks: ['unmap-of-hole'],
    activeScript: 'sweep.ts',
    scripts: [
      { name: 'other.ts', source: "throw new Error('not the active tab');\n" },
      { name: 'sweep.ts', source: SWEEP },
      { name: 'helper.ts', source: read('helper.ts') },
    ],
    ...over,
  });
  const cells = ['--drivers', 'arm-smmu-v3,intel-iommu', '--kernels', 'v6.16', '--json'];

  it("sweeps the active tab with the session's seed, params and checks off; the command line's win", async () => {
    // The number the session's seed gives, as `run` prints it (the matrix sets the kernel: v6.16 here).
    session('sweep-probe.iommulab', doc({}));
    const probe = await cli(
      'run',
      'sweep-probe.iommulab',
      '--script',
      'sweep.ts',
      '--param',
      'driver=arm-smmu-v3',
      '--kernel',
      'v6.16',
    );
    const want = /random (\S+)/.exec(probe.out)?.[1];
    expect(want).toMatch(/^0\.\d+/);
    session('sweep.iommulab', doc({ params: { driver: 'omap-iommu', want } }));

    const [m, seeded, checked, tab] = await Promise.all([
      cli('matrix', 'sweep.iommulab', ...cells),
      cli('matrix', 'sweep.iommulab', ...cells, '--seed', '8'),
      cli('matrix', 'sweep.iommulab', ...cells, '--param', 'want=0.5'),
      cli('matrix', 'sweep.iommulab', ...cells, '--script', 'other.ts'),
    ]);
    expect(m.err).toBe('');
    expect(m.code).toBe(0);
    const json = JSON.parse(m.out);
    expect(json.file).toBe('sweep.iommulab#sweep.ts');
    // Each row ran its own driver (the session's driver param is the app's last run, not the rows').
    expect(
      json.cells.map((c: { driversUsed: string[]; status: string }) => [c.driversUsed, c.status]),
    ).toEqual([
      [['arm-smmu-v3'], 'passed'],
      [['intel-iommu'], 'passed'],
    ]);
    // The session switched unmap-of-hole off in every cell.
    expect(json.cells.flatMap((c: { checks: unknown[] }) => c.checks)).toEqual([]);
    // Another seed or another `want` from the command line fails the same cells.
    expect(seeded.code).toBe(1);
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.out).cells[0].detail).toBe(`expected "0.5" but got "${want}"`);
    expect(tab.code).toBe(2);
    expect(JSON.parse(tab.out).cells[0].detail).toBe('not the active tab');
  }, 180_000);

  it('refuses a tab the session lacks, and --script without a session', async () => {
    session('sweep-tabs.iommulab', doc({}));
    const [missing, plain] = await Promise.all([
      cli('matrix', 'sweep-tabs.iommulab', '--script', 'nope.ts'),
      cli('matrix', 'helper.ts', '--script', 'helper.ts'),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.err).toContain(
      "sweep-tabs.iommulab: no script 'nope.ts' (it has other.ts, sweep.ts, helper.ts)",
    );
    expect(plain.code).toBe(3);
    expect(plain.err).toContain('--script picks the tab of a session file (.iommulab) to sweep');
  });
});

describe.concurrent('iommu-lab session check', () => {
  it('exit 0 for good files, saying what they hold (and that an old one is migrated)', async () => {
    copyFileSync(join(FIXTURES, 'example.iommulab'), join(dir, 'example.iommulab'));
    const r = await cli('session', 'check', 'example.iommulab', 'v1.iommulab');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('✓ example.iommulab: 2 scripts (main.ts, helpers.ts), kernel v6.16, seed 7');
    expect(r.out).toContain(
      '✓ v1.iommulab: 1 script (main.ts), kernel v6.6, seed 1234 (format 1; the lab saves it as format 2)',
    );
  });

  it('prints warnings that do not stop a load', async () => {
    session('warn.iommulab', {
      formatVersion: 2,
      scripts: [{ name: 'a.ts', source: '' }],
      disabledChecks: ['not-a-check'],
      layout: 'wide',
    });
    const r = await cli('session', 'check', 'warn.iommulab');
    expect(r.code).toBe(0);
    expect(r.out).toContain('  warning: disabledChecks[0]: this lab has no check "not-a-check"');
    expect(r.out).toContain('  warning: layout is "wide", not an object; the default layout is used');
  });

  it("warns of a tab importing './name' that is no tab of the session (it loads, but will not run)", async () => {
    session('lonely.iommulab', {
      formatVersion: 2,
      scripts: [
        {
          name: 'main.ts',
          source:
            "import { a } from './helpers';\nimport { b } from './gone.js';\n// './x' in a comment\nconsole.log(a, b);\n",
        },
        { name: 'helpers.ts', source: 'export const a = 1;\n' },
      ],
    });
    const r = await cli('session', 'check', 'lonely.iommulab');
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "  warning: main.ts imports './gone.js', which is not a tab of this session: main.ts will not run until it is added",
    );
    expect(r.out).not.toContain("'./helpers'");
    const run = await cli('run', 'lonely.iommulab');
    expect(run.code).toBe(2);
    expect(run.out).toContain("Cannot find module './gone.js'");
  });

  it.each(damaged)('exit 3 for %s, with the reason', async (file, reason) => {
    const r = await cli('session', 'check', `damaged/${file}`);
    expect(r.code).toBe(3);
    expect(r.err.trim()).toContain(`iommu-lab: damaged/${file}: ${reason}`);
    expect(r.out).toBe('');
  });

  it('checks every file given and fails if one is bad', async () => {
    const r = await cli('session', 'check', 'v1.iommulab', 'damaged/empty.iommulab');
    expect(r.code).toBe(3);
    expect(r.out).toContain('✓ v1.iommulab');
    expect(r.err).toContain('damaged/empty.iommulab: the file is empty');
  });
});

describe.concurrent('help', () => {
  it('names the session commands', async () => {
    const h = await cli('--help');
    expect(h.out).toContain('iommu-lab session new <script...> -o <file>.iommulab');
    expect(h.out).toContain('iommu-lab session check <file...>');
    expect(h.out).toContain('iommu-lab run <file>.iommulab');
    const s = await cli('session', '--help');
    expect(s.code).toBe(0);
    expect(s.out).toContain('iommu-lab session new');
    expect((await cli('session', 'new', '--help')).out).toContain('--disable-check <id>');
    expect((await cli('session', 'check', '--help')).out).toContain(
      'Exit status: 0 every file is valid, 3 one is not.',
    );
    expect((await cli('run', '--help')).out).toContain('--script <name>');
  });
});
