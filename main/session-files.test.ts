/** Reading a session file for the page, and the command-line path of a file to open. */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionPathFromArgv } from './argv.ts';
import { checkSessionText, readSessionFile, withSessionExt } from './session-files.ts';

const FIXTURES = new URL('../engine/session/fixtures/', import.meta.url).pathname;
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommu-lab-files-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readSessionFile', () => {
  it('gives the text of a good file (also an old version, as it is)', async () => {
    for (const f of ['example.iommulab', 'v1-full.iommulab']) {
      const r = await readSessionFile(path.join(FIXTURES, f));
      expect(r).toEqual({
        ok: true,
        path: path.join(FIXTURES, f),
        name: f,
        text: readFileSync(path.join(FIXTURES, f), 'utf8'),
      });
    }
  });

  it.each([
    [
      'damaged/truncated.iommulab',
      'truncated.iommulab: the file is truncated: it ends inside a string (line 16)',
    ],
    ['damaged/wrong-type.iommulab', 'wrong-type.iommulab: scripts[1].source must be a string (found 42)'],
    [
      'damaged/future-version.iommulab',
      'future-version.iommulab: made by a newer IOMMU Lab: formatVersion 7, this lab reads up to 2',
    ],
    ['damaged/missing.iommulab', 'missing.iommulab: the file does not exist (moved or deleted?)'],
  ])('refuses %s with the reason', async (f, message) => {
    expect(await readSessionFile(path.join(FIXTURES, f))).toEqual({ ok: false, message });
  });

  it('refuses what is not a session file before reading it', async () => {
    writeFileSync(path.join(dir, 'big.iommulab'), Buffer.alloc(17 * 1024 * 1024, 32));
    writeFileSync(path.join(dir, 'bin.iommulab'), new Uint8Array([0xff, 0xfe]));
    writeFileSync(path.join(dir, 'notes.txt'), '{}');
    mkdirSync(path.join(dir, 'folder.iommulab'));
    const msg = async (f: string) => {
      const r = await readSessionFile(f);
      return r.ok ? 'ok' : r.message;
    };
    expect(await msg(path.join(dir, 'big.iommulab'))).toBe(
      'big.iommulab: the file is 17 MiB; a session file may be at most 16 MiB',
    );
    expect(await msg(path.join(dir, 'bin.iommulab'))).toBe(
      'bin.iommulab: not UTF-8 text (a session file is JSON text)',
    );
    expect(await msg(path.join(dir, 'notes.txt'))).toBe(
      'notes.txt: not a session file (the name does not end in .iommulab)',
    );
    expect(await msg(path.join(dir, 'folder.iommulab'))).toBe('folder.iommulab: not a regular file');
    expect(await msg('relative.iommulab')).toBe('relative.iommulab: not an absolute path');
  });

  it('checks text before it is written', () => {
    expect(checkSessionText(readFileSync(path.join(FIXTURES, 'example.iommulab'), 'utf8'))).toBeNull();
    expect(checkSessionText('{"formatVersion": 2}')).toBe(
      'the session to save does not load back (scripts is missing); nothing was written',
    );
    expect(withSessionExt('/a/lab')).toBe('/a/lab.iommulab');
    expect(withSessionExt('/a/lab.IOMMULAB')).toBe('/a/lab.IOMMULAB');
  });
});

describe('sessionPathFromArgv', () => {
  it('finds the session file among switches and the app folder, relative to the launch folder', () => {
    expect(sessionPathFromArgv(['/opt/IOMMU Lab/iommu-lab', '/home/u/lab.iommulab'], '/tmp')).toBe(
      '/home/u/lab.iommulab',
    );
    expect(sessionPathFromArgv(['electron', '.', 'labs/a.iommulab', '--inspect=9229'], '/work')).toBe(
      '/work/labs/a.iommulab',
    );
    expect(sessionPathFromArgv(['electron', '/work/main', '--no-sandbox'], '/work')).toBeNull();
    expect(sessionPathFromArgv(['app', '--open=/x.iommulab'], '/')).toBeNull();
    expect(sessionPathFromArgv(['/x.iommulab'], '/')).toBeNull();
    expect(sessionPathFromArgv(['app', 'A.IOMMULAB'], '/d')).toBe('/d/A.IOMMULAB');
  });
});
