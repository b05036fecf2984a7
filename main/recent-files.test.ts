/** The recent files and the last session, kept in userData/sessions.json. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecentFiles } from './recent-files.ts';

let dir = '';
let file = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommu-lab-recent-'));
  file = path.join(dir, 'sessions.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const p = (n: string) => path.join(dir, `${n}.iommulab`);

describe('RecentFiles', () => {
  it('newest first, no duplicates, at most the maximum, kept across runs', async () => {
    const r = new RecentFiles(file, 3);
    await r.load();
    for (const n of ['a', 'b', 'c', 'b', 'd']) await r.add(p(n));
    expect(r.list()).toEqual([p('d'), p('b'), p('c')]);
    expect(r.lastSession).toBe(p('d'));
    const again = new RecentFiles(file, 3);
    await again.load();
    expect(again.list()).toEqual([p('d'), p('b'), p('c')]);
    expect(again.lastSession).toBe(p('d'));
    expect(again.has(p('b'))).toBe(true);
    expect(again.has(p('a'))).toBe(false);
  });

  it('remove and clear; New leaves nothing to reopen', async () => {
    const r = new RecentFiles(file);
    await r.add(p('a'));
    await r.add(p('b'));
    await r.remove(p('b'));
    expect(r.list()).toEqual([p('a')]);
    expect(r.lastSession).toBeNull();
    await r.add(p('a'));
    await r.setLast(null);
    expect(r.lastSession).toBeNull();
    await r.clear();
    expect(r.list()).toEqual([]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, recent: [], last: null });
  });

  it.each([
    '',
    '{',
    '[]',
    '{"recent": "x", "last": 3}',
    '{"recent": ["relative.iommulab", 5, null], "last": "rel"}',
  ])('a damaged state file (%j) is an empty state', async (text) => {
    writeFileSync(file, text);
    const r = new RecentFiles(file);
    await r.load();
    expect(r.list()).toEqual([]);
    expect(r.lastSession).toBeNull();
  });

  it('a state file it cannot write is logged, not thrown', async () => {
    const r = new RecentFiles(path.join(dir, 'missing-folder', 'sessions.json'));
    await expect(r.add(p('a'))).resolves.toBeUndefined();
    expect(r.list()).toEqual([p('a')]);
  });
});
