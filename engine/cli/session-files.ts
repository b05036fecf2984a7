/**
 * Session files on disk for the command line: reading one (size checked before the bytes are read,
 * UTF-8 checked, then the format's own loader) and writing one atomically (a temporary file in the
 * same folder, flushed, then renamed over the target, so a crash never leaves half a file).
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadSession, sizeError, type Session, type SessionScript } from '../session/index.ts';
import { UsageError } from './usage.ts';

export const SESSION_EXT = '.iommulab';

export const isSessionPath = (p: string): boolean => p.toLowerCase().endsWith(SESSION_EXT);

export interface LoadedSessionFile {
  path: string;
  session: Session;
  warnings: string[];
  formatVersion: number;
}

/** Read and check a session file; anything wrong is a UsageError naming the file and the reason. */
export function readSessionFile(path: string): LoadedSessionFile {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${path}: not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`no such file: ${path}`);
  }
  const tooBig = sizeError(size);
  if (tooBig) throw new UsageError(`${path}: ${tooBig.message}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
  } catch (e) {
    if (e instanceof TypeError) throw new UsageError(`${path}: not UTF-8 text (a session file is JSON text)`);
    throw new UsageError(`${path}: cannot read it (${(e as Error).message})`);
  }
  const r = loadSession(text);
  if (!r.ok) throw new UsageError(`${path}: ${r.error.message}`);
  return { path, session: r.session, warnings: r.warnings, formatVersion: r.formatVersion };
}

/** The tab `name` of the session read from `path`; a name it lacks is a UsageError naming those it has. */
export function sessionTab(path: string, session: Session, name: string): SessionScript {
  const tab = session.scripts.find((s) => s.name === name);
  if (!tab)
    throw new UsageError(
      `${path}: no script '${name}' (it has ${session.scripts.map((s) => s.name).join(', ')})`,
    );
  return tab;
}

/**
 * Write `text` to `path` atomically. A file being replaced keeps its permissions, and a symbolic
 * link keeps being one: the file it points to is what gets replaced.
 */
export function writeFileAtomic(path: string, text: string): void {
  let mode = 0o644;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UsageError(`${path} is a folder; give a file name for the session`);
    mode = st.mode & 0o777;
    path = realpathSync(path);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // no such file yet
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', mode);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}
