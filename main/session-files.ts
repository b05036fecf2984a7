/**
 * Reading a session file for the page: the path must be a regular `.iommulab` file within the size
 * limit (checked before the bytes are read), UTF-8, and a session the format accepts — the same loader
 * the page uses (engine/session, pure TypeScript; nothing in the file runs). Main hands the page the
 * text only when it loads, so a damaged file can never replace the session the page has open.
 * No Electron here: tested under Node.
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadSession, sizeError } from '../engine/session/index.ts';

export const SESSION_EXT = '.iommulab';

export type ReadResult =
  { ok: true; path: string; name: string; text: string } | { ok: false; message: string };

export function isSessionPath(p: string): boolean {
  return p.toLowerCase().endsWith(SESSION_EXT);
}

/** `name.iommulab` for a name typed without the extension. */
export function withSessionExt(p: string): string {
  return isSessionPath(p) ? p : `${p}${SESSION_EXT}`;
}

export async function readSessionFile(file: string): Promise<ReadResult> {
  const name = path.basename(file);
  const fail = (why: string): ReadResult => ({ ok: false, message: `${name}: ${why}` });
  if (!path.isAbsolute(file)) return fail('not an absolute path');
  if (!isSessionPath(file)) return fail('not a session file (the name does not end in .iommulab)');
  let handle;
  try {
    // A FIFO or device would block the read: only regular files are opened at all.
    if (!(await stat(file)).isFile()) return fail('not a regular file');
    handle = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT'
        ? 'the file does not exist (moved or deleted?)'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'a folder, not a file'
            : (e as Error).message,
    );
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return fail('not a regular file');
    const tooBig = sizeError(st.size);
    if (tooBig) return fail(tooBig.message);
    const bytes = await handle.readFile();
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return fail('not UTF-8 text (a session file is JSON text)');
    }
    const r = loadSession(text);
    if (!r.ok) return fail(r.error.message);
    return { ok: true, path: file, name, text };
  } catch (e) {
    return fail(`cannot read it (${(e as Error).message})`);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Check text the page wants written: a session that loads back, within the size limit. */
export function checkSessionText(text: string): string | null {
  const r = loadSession(text);
  return r.ok ? null : `the session to save does not load back (${r.error.message}); nothing was written`;
}
