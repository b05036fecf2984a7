/**
 * Atomic file writes for session files and autosaves: the bytes go to a temporary file in the same
 * folder (same file system, so the rename is atomic), are flushed to disk, and only then renamed over
 * the target; the folder is flushed too, so the rename itself survives a power cut. A failure at any
 * step removes the temporary file and leaves the target as it was. No Electron here: tested under Node.
 */
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';

/** The file operations used, so a test can make one fail the way a full disk would. */
export interface WriteFs {
  open: typeof nodeFs.open;
  rename: typeof nodeFs.rename;
  rm: typeof nodeFs.rm;
  stat: typeof nodeFs.stat;
}

const realFs: WriteFs = { open: nodeFs.open, rename: nodeFs.rename, rm: nodeFs.rm, stat: nodeFs.stat };

/** The temporary file's name: hidden, next to the target, and unique per write. */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  fs: WriteFs = realFs,
): Promise<void> {
  // A symbolic link stays one: the file it points to is what gets replaced.
  try {
    target = await nodeFs.realpath(target);
  } catch {
    // no file yet
  }
  // Keep an existing file's permissions; a new file gets the usual rw-r--r--.
  let mode = 0o644;
  try {
    mode = (await fs.stat(target)).mode & 0o777;
  } catch {
    // no file yet
  }
  const tmp = tempPathFor(target);
  let handle: nodeFs.FileHandle | null = null;
  try {
    handle = await fs.open(tmp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = null;
    await renameWithRetry(fs, tmp, target);
  } catch (e) {
    await handle?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  await syncFolder(fs, path.dirname(target));
}

/** On Windows a virus scanner or indexer may hold the target for a moment: try again briefly. */
async function renameWithRetry(fs: WriteFs, from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(from, to);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (
        process.platform !== 'win32' ||
        attempt >= 4 ||
        !(code === 'EPERM' || code === 'EBUSY' || code === 'EACCES')
      )
        throw e;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}

/** Flush the folder entry of the rename. Not possible everywhere (Windows): best effort. */
async function syncFolder(fs: WriteFs, dir: string): Promise<void> {
  let h: nodeFs.FileHandle | null = null;
  try {
    h = await fs.open(dir, 'r');
    await h.sync();
  } catch {
    // Folders cannot be opened or flushed on every platform; the file itself is already flushed.
  } finally {
    await h?.close().catch(() => {});
  }
}

/** Why a write failed, in words for the message a user sees ("Could not save …: <reason>"). */
export function describeWriteError(e: unknown, target: string): string {
  const err = e as NodeJS.ErrnoException;
  const dir = path.dirname(target);
  switch (err?.code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied (the folder ${dir} or the file is read-only for you)`;
    case 'EROFS':
      return `the folder ${dir} is on a read-only file system`;
    case 'ENOSPC':
      return 'the disk is full';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'ENOENT':
      return `the folder ${dir} does not exist`;
    case 'ENOTDIR':
      return `${dir} is not a folder`;
    case 'EISDIR':
      return `${target} is a folder`;
    case 'EMFILE':
    case 'ENFILE':
      return 'too many files are open';
    case 'EIO':
      return 'the disk reported an input/output error';
    default:
      return err instanceof Error ? err.message : String(e);
  }
}
