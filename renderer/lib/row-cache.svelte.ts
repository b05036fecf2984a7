/**
 * Rows of a long engine list (a domain's mappings), fetched in chunks as they scroll into view. One
 * request at a time, always for the rows wanted last, so a fast scroll through a million rows does
 * not queue thousands of requests behind each other.
 */
import { untrack } from 'svelte';

export interface RowWindow<T> {
  total: number;
  items: T[];
}

export class RowCache<T> {
  /** Bumped when a chunk arrives; reading it makes a view redraw. */
  revision = $state(0);
  total = $state(0);
  private chunks = new Map<number, T[]>();
  private busy = false;
  private wanted: [number, number] = [0, -1];
  private generation = 0;

  constructor(
    private readonly fetchWindow: (offset: number, limit: number) => Promise<RowWindow<T>>,
    readonly chunkSize = 512,
    /** Chunks kept; the oldest go first. */
    private readonly keep = 64,
  ) {}

  get(i: number): T | undefined {
    void this.revision;
    return this.chunks.get(Math.floor(i / this.chunkSize))?.[i % this.chunkSize];
  }

  /** Drop everything (the engine's state changed). */
  reset(total: number): void {
    this.generation++;
    this.chunks.clear();
    this.busy = false;
    // Called from effects: writing must not make the caller depend on what it writes.
    untrack(() => {
      this.total = total;
      this.revision++;
    });
  }

  /** Make sure rows first..last are (being) fetched. */
  want(first: number, last: number): void {
    this.wanted = [first, last];
    void this.pump();
  }

  private nextMissing(): number | null {
    const [first, last] = this.wanted;
    const a = Math.floor(first / this.chunkSize);
    const b = Math.floor(last / this.chunkSize);
    // The rows in view first, then one chunk either side, so a steady scroll finds its rows there.
    for (const c of [...range(a, b), b + 1, a - 1])
      if (c >= 0 && !this.chunks.has(c) && c * this.chunkSize < Math.max(this.total, 1)) return c;
    return null;
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const gen = this.generation;
    try {
      for (let c = this.nextMissing(); c !== null; c = this.nextMissing()) {
        const win = await this.fetchWindow(c * this.chunkSize, this.chunkSize);
        if (gen !== this.generation) return;
        this.chunks.set(c, win.items);
        this.total = win.total;
        if (this.chunks.size > this.keep) this.chunks.delete(this.chunks.keys().next().value!);
        this.revision++;
      }
    } catch {
      // The engine restarted or the run changed under us; the next reset or scroll asks again.
    } finally {
      if (gen === this.generation) this.busy = false;
    }
  }
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}
