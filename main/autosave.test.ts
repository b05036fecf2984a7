/** The autosave side files: written one at a time with the newest text, cleared on a clean close, found after a crash. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.ts';
import { AutosaveFile, findRecoveries, removeRecovery } from './autosave.ts';

let dir = '';
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'iommu-lab-autosave-')), 'autosave');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

const meta = { path: '/home/u/lab.iommulab', name: 'lab.iommulab' };

describe('AutosaveFile', () => {
  it('writes the side file and its meta, never the user file', async () => {
    const a = new AutosaveFile(dir, 'run-1');
    await a.save('{"v":1}', meta);
    expect(readFileSync(a.contentPath, 'utf8')).toBe('{"v":1}');
    expect(JSON.parse(readFileSync(a.metaPath, 'utf8'))).toMatchObject(meta);
    expect(a.contentPath.startsWith(dir)).toBe(true);
    expect(existsSync(meta.path)).toBe(false);
  });

  it('while a write runs, only the newest text waits; the same text is not written twice', async () => {
    const written: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const slow = async (file: string, text: string) => {
      if (file.endsWith('.iommulab')) {
        written.push(text);
        if (written.length === 1) await gate;
      }
      await writeFileAtomic(file, text);
    };
    const a = new AutosaveFile(dir, 'run-2', slow);
    const p1 = a.save('one', meta);
    const p2 = a.save('two', meta);
    const p3 = a.save('three', meta);
    release();
    await Promise.all([p1, p2, p3]);
    expect(written).toEqual(['one', 'three']);
    await a.save('three', meta);
    expect(written).toEqual(['one', 'three']);
    expect(readFileSync(a.contentPath, 'utf8')).toBe('three');
  });

  it('clear removes the files, also when a write was running; a later save writes again', async () => {
    const a = new AutosaveFile(dir, 'run-3');
    const p = a.save('unsaved', meta);
    await a.clear();
    await p;
    expect(existsSync(a.contentPath)).toBe(false);
    expect(existsSync(a.metaPath)).toBe(false);
    await a.save('unsaved', meta);
    expect(readFileSync(a.contentPath, 'utf8')).toBe('unsaved');
    a.clearSync();
    expect(existsSync(a.contentPath)).toBe(false);
  });

  it('a failed write is kept as lastError and does not throw', async () => {
    const a = new AutosaveFile(dir, 'run-4', async () => {
      throw Object.assign(new Error('full'), { code: 'ENOSPC' });
    });
    await a.save('x', meta);
    expect(a.lastError?.message).toBe('full');
  });

  it('refuses an id that could leave the folder', () => {
    expect(() => new AutosaveFile(dir, '../escape')).toThrow(/bad autosave id/);
  });
});

describe('recovery after a crash', () => {
  it("finds earlier runs' side files, newest first, not this run's own", async () => {
    const old = new AutosaveFile(dir, 'old-run');
    await old.save('older', { path: null, name: 'untitled.iommulab' });
    await new Promise((r) => setTimeout(r, 10));
    const newer = new AutosaveFile(dir, 'newer-run');
    await newer.save('newer', meta);
    const mine = new AutosaveFile(dir, 'this-run');
    await mine.save('mine', meta);
    const found = await findRecoveries(dir, 'this-run');
    expect(found.map((r) => [r.id, r.text, r.path, r.name])).toEqual([
      ['newer-run', 'newer', meta.path, 'lab.iommulab'],
      ['old-run', 'older', null, 'untitled.iommulab'],
    ]);
    expect(found[0]!.savedAt).toBeGreaterThanOrEqual(found[1]!.savedAt);
    await removeRecovery(dir, 'newer-run');
    expect((await findRecoveries(dir, 'this-run')).map((r) => r.id)).toEqual(['old-run']);
  });

  it('offers a side file whose meta is missing or damaged, and skips stray files', async () => {
    const a = new AutosaveFile(dir, 'no-meta');
    await a.save('text', meta);
    writeFileSync(a.metaPath, '{not json');
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    writeFileSync(path.join(dir, 'bad name!.iommulab'), 'x');
    const [r] = await findRecoveries(dir);
    expect(r).toMatchObject({ id: 'no-meta', text: 'text', path: null, name: 'untitled.iommulab' });
    expect(await findRecoveries(path.join(dir, 'missing'))).toEqual([]);
  });
});
