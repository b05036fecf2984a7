/**
 * What main remembers between runs about session files, in one small JSON file in the app's data
 * folder (userData/sessions.json): the recent files (newest first, at most RECENT_MAX, no duplicates)
 * and the last session, which opens again on start. A missing or damaged file means an empty state;
 * writes are atomic. No Electron here: tested under Node.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write.ts';

export const RECENT_MAX = 10;

interface Stored {
  version: 1;
  recent: string[];
  last: string | null;
}

/** The same file however it was spelled (on Windows and macOS paths differ in case only rarely matters). */
const same = (a: string, b: string): boolean =>
  process.platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b;

export class RecentFiles {
  private recent: string[] = [];
  private last: string | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly max = RECENT_MAX,
  ) {}

  /** Read the stored state; anything unreadable is an empty state. */
  async load(): Promise<void> {
    try {
      const raw: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      const s = raw as Partial<Stored>;
      const paths = (v: unknown): string[] =>
        Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string' && path.isAbsolute(p)) : [];
      this.recent = [];
      for (const p of paths(s.recent)) if (!this.recent.some((q) => same(p, q))) this.recent.push(p);
      this.recent = this.recent.slice(0, this.max);
      this.last = typeof s.last === 'string' && path.isAbsolute(s.last) ? s.last : null;
    } catch {
      this.recent = [];
      this.last = null;
    }
  }

  list(): string[] {
    return [...this.recent];
  }

  has(p: string): boolean {
    return this.recent.some((q) => same(p, q));
  }

  get lastSession(): string | null {
    return this.last;
  }

  /** A file was opened or saved: to the front of the list, and the one to reopen. */
  add(p: string): Promise<void> {
    this.recent = [p, ...this.recent.filter((q) => !same(p, q))].slice(0, this.max);
    this.last = p;
    return this.save();
  }

  /** A file that could not be opened leaves the list (it moved or was deleted). */
  remove(p: string): Promise<void> {
    this.recent = this.recent.filter((q) => !same(p, q));
    if (this.last !== null && same(this.last, p)) this.last = null;
    return this.save();
  }

  /** The current session has no file (New): nothing to reopen. */
  setLast(p: string | null): Promise<void> {
    this.last = p;
    return this.save();
  }

  clear(): Promise<void> {
    this.recent = [];
    return this.save();
  }

  /** Writes one after another, so the file always ends with the latest state. */
  private save(): Promise<void> {
    const data: Stored = { version: 1, recent: this.recent, last: this.last };
    const text = `${JSON.stringify(data, null, 2)}\n`;
    this.writing = this.writing
      .catch(() => {})
      .then(() => writeFileAtomic(this.file, text))
      .catch((e: unknown) => {
        // Losing the recent list is not worth bothering the user; say it in the log.
        console.warn(`[sessions] could not write ${this.file}: ${(e as Error).message}`);
      });
    return this.writing;
  }
}
