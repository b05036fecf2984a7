/**
 * Atomic writes on the real file system: the target is replaced whole or not at all, no temporary
 * file survives, permissions are kept; failures at each step (a full disk, a read-only folder) leave
 * the old file as it was and come with words a user understands.
 */
import * as fs from 'node:fs/promises';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeWriteError, writeFileAtomic, type WriteFs } from './atomic-write.ts';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommu-lab-atomic-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const errno = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: simulated`), { code });

/** The real fs with one step made to fail the way the named error would. */
function failing(step: 'open' | 'write' | 'sync' | 'rename', code: string): WriteFs {
  return {
    stat: fs.stat,
    rm: fs.rm,
    rename: async (a, b) => {
      if (step === 'rename') throw errno(code);
      return fs.rename(a, b);
    },
    open: (async (p: string, flags: string, mode?: number) => {
      if (step === 'open' && flags === 'wx') throw errno(code);
      const h = await fs.open(p, flags, mode);
      if (flags !== 'wx') return h;
      return new Proxy(h, {
        get(target, prop) {
          if (prop === 'writeFile' && step === 'write')
            return async (data: string) => {
              // Half the bytes reach the disk, then it is full.
              await target.writeFile(data.slice(0, data.length >> 1));
              throw errno(code);
            };
          if (prop === 'sync' && step === 'sync') return async () => Promise.reject(errno(code));
          const v = Reflect.get(target, prop);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    }) as WriteFs['open'],
  };
}

describe('writeFileAtomic', () => {
  it('writes a new file, and replaces an old one whole, leaving no temporary file', async () => {
    const f = path.join(dir, 'lab.iommulab');
    await writeFileAtomic(f, 'first\n');
    expect(readFileSync(f, 'utf8')).toBe('first\n');
    await writeFileAtomic(f, 'second, longer\n');
    expect(readFileSync(f, 'utf8')).toBe('second, longer\n');
    expect(readdirSync(dir)).toEqual(['lab.iommulab']);
  });

  it('keeps the permissions of the file it replaces', async () => {
    const f = path.join(dir, 'private.iommulab');
    writeFileSync(f, 'old', { mode: 0o600 });
    await writeFileAtomic(f, 'new');
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('writes through a symbolic link, which stays a link', async () => {
    const real = path.join(dir, 'real.iommulab');
    const link = path.join(dir, 'link.iommulab');
    writeFileSync(real, 'old');
    symlinkSync(real, link);
    await writeFileAtomic(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('new');
  });

  it('many writes at once end with one of them whole, never a mix', async () => {
    const f = path.join(dir, 'race.iommulab');
    const texts = Array.from({ length: 20 }, (_, i) => `${String(i).repeat(5000)}\n`);
    await Promise.all(texts.map((t) => writeFileAtomic(f, t)));
    expect(texts).toContain(readFileSync(f, 'utf8'));
    expect(readdirSync(dir)).toEqual(['race.iommulab']);
  });

  it.each([
    ['open', 'EACCES', /^permission denied/],
    ['open', 'EROFS', /read-only file system$/],
    ['write', 'ENOSPC', /^the disk is full$/],
    ['write', 'EDQUOT', /quota/],
    ['sync', 'EIO', /input\/output error/],
    ['rename', 'EACCES', /^permission denied/],
  ] as const)('a failure at %s (%s) leaves the old file and no temporary file', async (step, code, words) => {
    const f = path.join(dir, 'keep.iommulab');
    writeFileSync(f, 'the saved session\n');
    const err = await writeFileAtomic(f, 'x'.repeat(100_000), failing(step, code)).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe(code);
    expect(readFileSync(f, 'utf8')).toBe('the saved session\n');
    expect(readdirSync(dir)).toEqual(['keep.iommulab']);
    expect(describeWriteError(err, f)).toMatch(words);
  });

  it('fails for real when the folder does not exist or the target is a folder', async () => {
    const missing = path.join(dir, 'no/such/folder/x.iommulab');
    const e1 = await writeFileAtomic(missing, 'x').catch((e: unknown) => e);
    expect(describeWriteError(e1, missing)).toBe(`the folder ${path.dirname(missing)} does not exist`);
    const folder = path.join(dir, 'a-folder.iommulab');
    await fs.mkdir(folder);
    await fs.writeFile(path.join(folder, 'inside'), '');
    const e2 = await writeFileAtomic(folder, 'x').catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(Error);
    expect(readdirSync(dir)).toEqual(['a-folder.iommulab']);
  });

  it.skipIf(process.getuid?.() === 0)('fails for real in a read-only folder', async () => {
    const ro = path.join(dir, 'ro');
    await fs.mkdir(ro, { mode: 0o555 });
    const f = path.join(ro, 'x.iommulab');
    const e = await writeFileAtomic(f, 'x').catch((err: unknown) => err);
    expect(describeWriteError(e, f)).toMatch(/^permission denied/);
  });
});
