import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { warmUpEngine } from './warm-up.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('warm-up before lockdown', () => {
  it('drives a lab with a page table and one without, with no error', () => {
    expect(warmUpEngine()).toEqual(['arm-smmu-v3', 'virtio-iommu']);
  });

  it('runs preparations once, in the unfrozen realm, and lockdown still happens when one throws', () => {
    // A process of its own: the realm of this test worker may be locked down already.
    const dir = mkdtempSync(path.join(tmpdir(), 'lab-lockdown-'));
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
});
