import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { warmUpEngine } from './warm-up.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

// The probes run in processes of their own, from files in folders made here (the IC log is about 10 MB).
const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('warm-up before lockdown', () => {
  it('drives a lab with a page table and one without, with no error', () => {
    expect(warmUpEngine()).toEqual(['arm-smmu-v3', 'virtio-iommu', 's390-iommu']);
  });

  it('runs preparations once, in the unfrozen realm, and lockdown still happens when one throws', () => {
    // A process of its own: the realm of this test worker may be locked down already.
    const dir = tempDir('lab-lockdown-');
    const file = path.join(dir, 'probe.mts');
    writeFileSync(
      file,
      [
        `import { beforeLockdown, ensureLockdown } from ${JSON.stringify(path.join(ROOT, 'engine/script/sandbox.ts'))};`,
        'const seen: boolean[] = [];',
        'beforeLockdown(() => seen.push(Object.isFrozen(Object.prototype)));',
        "beforeLockdown(() => { throw new Error('ignored'); });",
        'ensureLockdown();',
        'ensureLockdown();',
        'beforeLockdown(() => seen.push(true));',
        'ensureLockdown();',
        'console.log(JSON.stringify({ seen, frozen: Object.isFrozen(Object.prototype) }));',
      ].join('\n'),
    );
    const out = execFileSync(process.execPath, [path.join(ROOT, 'bin/run-ts.js'), file], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ seen: [false], frozen: true });
  });

  it('leaves no hot typed-array store to be first made after lockdown, over every scenario and driver', () => {
    // V8 (Node 20) logs each inline-cache change with --log-ic; a keyed store first made after
    // lockdown goes to the slow stub "prototype with potentially read-only elements". The probe
    // locks down (warm-up first), marks the moment, then runs every scenario in every matrix cell.
    const dir = tempDir('lab-warm-up-');
    const probe = path.join(dir, 'probe.mts');
    const log = path.join(dir, 'ic.log');
    const engine = (f: string) => JSON.stringify(path.join(ROOT, 'engine', f));
    writeFileSync(
      probe,
      [
        "import fs from 'node:fs';",
        `import { runScript } from ${engine('script/run-script.ts')};`,
        `import { ensureLockdown } from ${engine('script/sandbox.ts')};`,
        `import { DRIVER_NAMES } from ${engine('drivers/index.ts')};`,
        `import { KERNEL_NAMES } from ${engine('core/kernel-profile.ts')};`,
        'ensureLockdown();',
        'function AFTER_LOCKDOWN(a: Int32Array) { a[0] = 1; }',
        'AFTER_LOCKDOWN(new Int32Array(1));',
        `const dir = ${JSON.stringify(path.join(ROOT, 'scenarios'))};`,
        "const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');",
        "import path from 'node:path';",
        "const files = fs.readdirSync(path.join(dir, 'lib')).map((n) => ({ name: 'lib/' + n, source: read('lib/' + n) }));",
        "for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {",
        '  const source = read(f);',
        "  const cells = source.includes('lab.params.driver')",
        '    ? DRIVER_NAMES.flatMap((d) => KERNEL_NAMES.map((k) => ({ kernel: k, fixedKernel: true, params: { driver: d } })))',
        '    : [{}];',
        '  for (const c of cells) runScript({ fileName: f, source, files, ...c });',
        '}',
      ].join('\n'),
    );
    execFileSync(
      process.execPath,
      ['--log-ic', `--logfile=${log}`, '--no-logfile-per-isolate', path.join(ROOT, 'bin/run-ts.js'), probe],
      { encoding: 'utf8' },
    );
    const slow = slowStoresAfterMarker(readFileSync(log, 'utf8'), 'AFTER_LOCKDOWN');
    if (slow === undefined) return; // this V8 logs no inline caches: nothing to check
    // Sites that run once per object or per rare event, where a slow store costs nothing that shows.
    const COLD = new Set([
      'iotlb/iotlb.ts Iotlb', // the constructor: once per instance
      'iotlb/iotlb.ts invalidate_all', // a global invalidation: at most tlb_entries stores
      'mem/phys-mem.ts make_chunk', // once per 2 MiB of simulated RAM
      'trace/trace.ts on', // a listener added
      'script/token-align.ts lcs', // compiling a script
    ]);
    expect([...slow].filter((site) => !COLD.has(site))).toEqual([]);
  });
});

/**
 * "file function" of every engine keyed store the --log-ic log shows going to the slow stub for
 * frozen prototypes after the marker function's code was made; undefined when the log has no ICs.
 */
function slowStoresAfterMarker(log: string, marker: string): Set<string> | undefined {
  const code: { start: number; end: number; name: string }[] = [];
  let after = Infinity;
  let ics = 0;
  const slow = new Set<string>();
  for (const line of log.split('\n')) {
    const f = line.split(',');
    if (f[0] === 'code-creation') {
      const name = f.slice(6).join(',');
      code.push({ start: parseInt(f[4], 16), end: parseInt(f[4], 16) + Number(f[5]), name });
      if (name.startsWith(`${marker} `)) after = Math.min(after, Number(f[3]));
    } else if (f[0] === 'KeyedStoreIC') {
      ics++;
      if (Number(f[2]) < after || !f[10]?.startsWith('prototype with potentially read-only')) continue;
      const pc = parseInt(f[1], 16);
      const fn = code.findLast((c) => pc >= c.start && pc < c.end)?.name ?? '';
      const m = /^(\S+) \S*\/engine\/([^:]+):/.exec(fn);
      if (m) slow.add(`${m[2]} ${m[1]}`);
    }
  }
  return ics ? slow : undefined;
}
