/**
 * The Console panel's rows, kept in chunks of a fixed size so that a run printing thousands of lines
 * costs, per streamed batch, only what the batch adds: an append pushes onto the last chunk (nothing
 * already there is copied), and a full chunk never changes again, so the panel redraws only the
 * chunk that grew.
 */

export const CHUNK_ROWS = 100;

export interface LogChunk<T> {
  /** The index of its first row in the whole log: a key that stays while the log grows. */
  readonly start: number;
  readonly rows: readonly T[];
}

export class ChunkedLog<T> {
  /** Chunks of CHUNK_ROWS rows each; neither the objects nor their rows change once here. */
  private readonly full: LogChunk<T>[] = [];
  /** The rows after the last full chunk (fewer than CHUNK_ROWS). */
  private tail: T[] = [];

  constructor(rows: readonly T[] = []) {
    this.append(rows);
  }

  get length(): number {
    return this.tailStart + this.tail.length;
  }

  private get tailStart(): number {
    return this.full.length * CHUNK_ROWS;
  }

  at(index: number): T | undefined {
    if (index < 0 || index >= this.length) return undefined;
    if (index >= this.tailStart) return this.tail[index - this.tailStart];
    return this.full[Math.floor(index / CHUNK_ROWS)]!.rows[index % CHUNK_ROWS];
  }

  /** Add rows at the end: O(rows.length). */
  append(rows: readonly T[]): void {
    for (const row of rows) {
      this.tail.push(row);
      if (this.tail.length === CHUNK_ROWS) {
        this.full.push({ start: this.tailStart, rows: this.tail });
        this.tail = [];
      }
    }
  }

  /**
   * The chunks holding the last `max` rows, whole (so up to CHUNK_ROWS - 1 rows more). A full chunk
   * is the same object on every call; the growing last one is a new one whenever asked, so a keyed
   * list sees which chunk changed and leaves the others alone.
   */
  lastChunks(max: number): LogChunk<T>[] {
    const from = Math.max(0, this.length - max);
    const chunks = this.full.slice(Math.floor(from / CHUNK_ROWS));
    if (this.tail.length) chunks.push({ start: this.tailStart, rows: this.tail.slice() });
    return chunks;
  }
}
