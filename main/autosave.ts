/**
 * The autosave side files: while the session has unsaved changes, the page sends its text every few
 * seconds and it is written to userData/autosave/<id>.iommulab (with <id>.json beside it saying which
 * file it belongs to and when) — never over the user's own file. A clean close removes them; if they
 * are still there at the next start, that run did not close cleanly and the user is offered the work.
 *
 * Writes go one at a time; while one is running only the newest text waits (older ones are skipped),
 * and nothing is written twice in a row. No Electron here: tested under Node.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write.ts';
import type { Recovery } from './session-api.ts';

export const AUTOSAVE_EXT = '.iommulab';
const ID_RE = /^[A-Za-z0-9-]{1,64}$/;

export interface AutosaveMeta {
  /** The user's file this is an unsaved version of, or null for an untitled session. */
  path: string | null;
  name: string;
}

type Write = (file: string, text: string) => Promise<void>;

export class AutosaveFile {
  readonly id: string;
  private pending: { text: string; meta: AutosaveMeta } | null = null;
  private running: Promise<void> | null = null;
  private lastWritten: string | null = null;
  /** Bumped by clear(), so a write that started before it does not bring the files back. */
  private generation = 0;
  /** The last write's failure, if it failed (main logs it; the user's file is not involved). */
  lastError: Error | null = null;

  constructor(
    private readonly dir: string,
    id: string = randomUUID(),
    private readonly write: Write = writeFileAtomic,
  ) {
    if (!ID_RE.test(id)) throw new Error(`bad autosave id ${id}`);
    this.id = id;
  }

  get contentPath(): string {
    return path.join(this.dir, `${this.id}${AUTOSAVE_EXT}`);
  }

  get metaPath(): string {
    return path.join(this.dir, `${this.id}.json`);
  }

  /** Keep `text` as the unsaved work; resolves when it (or a newer text) is on disk. */
  save(text: string, meta: AutosaveMeta): Promise<void> {
    this.pending = { text, meta };
    if (!this.running) {
      const run = this.drain().finally(() => {
        if (this.running === run) this.running = null;
      });
      this.running = run;
    }
    return this.running;
  }

  /** Nothing unsaved any more (saved, discarded, closed cleanly): remove the side files. */
  async clear(): Promise<void> {
    this.generation++;
    this.pending = null;
    this.lastWritten = null;
    await this.running?.catch(() => {});
    // A save that came after this clear owns the files now.
    if (this.pending || this.running || this.lastWritten !== null) return;
    await rm(this.contentPath, { force: true });
    await rm(this.metaPath, { force: true });
  }

  /** clear() for the last moment of the process (a clean quit), when nothing async will finish. */
  clearSync(): void {
    this.generation++;
    this.pending = null;
    this.lastWritten = null;
    rmSync(this.contentPath, { force: true });
    rmSync(this.metaPath, { force: true });
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const { text, meta } = this.pending;
      this.pending = null;
      if (text === this.lastWritten) continue;
      const gen = this.generation;
      try {
        await mkdir(this.dir, { recursive: true });
        await this.write(this.contentPath, text);
        await this.write(this.metaPath, `${JSON.stringify({ ...meta, savedAt: Date.now() })}\n`);
        if (gen !== this.generation) {
          // clear() ran meanwhile: what was just written is no longer wanted.
          await rm(this.contentPath, { force: true });
          await rm(this.metaPath, { force: true });
          continue;
        }
        this.lastWritten = text;
        this.lastError = null;
      } catch (e) {
        this.lastError = e as Error;
        console.warn(`[autosave] could not write ${this.contentPath}: ${(e as Error).message}`);
      }
    }
  }
}

/** Side files left by earlier runs (not `exceptId`), newest first. Unreadable ones are skipped. */
export async function findRecoveries(dir: string, exceptId?: string): Promise<Recovery[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: Recovery[] = [];
  for (const f of names) {
    if (!f.endsWith(AUTOSAVE_EXT)) continue;
    const id = f.slice(0, -AUTOSAVE_EXT.length);
    if (!ID_RE.test(id) || id === exceptId) continue;
    try {
      const file = path.join(dir, f);
      const text = await readFile(file, 'utf8');
      let meta: Partial<AutosaveMeta & { savedAt: number }> = {};
      try {
        meta = JSON.parse(await readFile(path.join(dir, `${id}.json`), 'utf8')) as typeof meta;
      } catch {
        // Written before its meta file: still worth offering.
      }
      const savedAt = typeof meta.savedAt === 'number' ? meta.savedAt : (await stat(file)).mtimeMs;
      const p = typeof meta.path === 'string' && path.isAbsolute(meta.path) ? meta.path : null;
      const name =
        typeof meta.name === 'string' && meta.name.length < 256
          ? meta.name
          : p
            ? path.basename(p)
            : 'untitled.iommulab';
      out.push({ id, text, path: p, name, savedAt });
    } catch {
      // Gone or unreadable: nothing to offer.
    }
  }
  return out.sort((a, b) => b.savedAt - a.savedAt);
}

/** Remove an earlier run's side files (after it was restored or discarded). */
export async function removeRecovery(dir: string, id: string): Promise<void> {
  if (!ID_RE.test(id)) throw new Error(`bad autosave id ${id}`);
  await rm(path.join(dir, `${id}${AUTOSAVE_EXT}`), { force: true });
  await rm(path.join(dir, `${id}.json`), { force: true });
}
