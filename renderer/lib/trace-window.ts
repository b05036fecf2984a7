/**
 * The Trace panel's rows, fetched from the engine a page at a time as the list scrolls: a million
 * events never cross the worker boundary at once. Pages are kept in a small LRU; a page asked for
 * while in flight is not asked again. One instance serves one filter of one run: a new filter or
 * a new run makes a new instance, so late answers for the old one are simply dropped.
 */
import type { TraceWindow } from '../../engine/host/protocol.ts';
import type { TraceEvent } from './trace-format.ts';

export interface TraceRow {
  /** Index in the whole log. */
  index: number;
  event: TraceEvent;
}

export type FetchWindow = (offset: number, limit: number) => Promise<TraceWindow>;

export class TraceRows {
  /** Matching events in all; -1 until the first answer. */
  total = -1;
  private readonly pages = new Map<number, TraceRow[]>();
  private readonly inFlight = new Set<number>();
  /** Pages whose fetch failed: not asked again by this instance (the error is shown instead). */
  private readonly failed = new Set<number>();
  private disposed = false;
  /** Set when a fetch failed; shown by the panel. */
  error = '';

  constructor(
    private readonly fetchWindow: FetchWindow,
    /** Called whenever rows or the total arrive. */
    private readonly onChange: () => void,
    readonly pageSize = 200,
    private readonly maxPages = 80,
    /**
     * At most this many pages on their way at once: while the scroll bar is dragged through a million
     * rows, pages asked for frames ago are of no use; the view asks again when answers arrive.
     */
    private readonly maxInFlight = 3,
  ) {}

  /** The row at `i` among the matches, if its page has arrived. */
  row(i: number): TraceRow | undefined {
    const page = this.pages.get(Math.floor(i / this.pageSize));
    return page?.[i % this.pageSize];
  }

  /** Make sure rows `from..to` (inclusive) are here or coming. Resolves when those pages have arrived. */
  async ensure(from: number, to: number): Promise<void> {
    const last = this.total >= 0 ? Math.min(to, this.total - 1) : to;
    const first = Math.max(0, from);
    const wanted: Promise<void>[] = [];
    for (let p = Math.floor(first / this.pageSize); p <= Math.floor(last / this.pageSize); p++) {
      const page = this.pages.get(p);
      if (page) {
        // Touch it: most recently used pages stay.
        this.pages.delete(p);
        this.pages.set(p, page);
      } else if (!this.inFlight.has(p) && !this.failed.has(p) && this.inFlight.size < this.maxInFlight)
        wanted.push(this.load(p));
    }
    await Promise.all(wanted);
  }

  dispose(): void {
    this.disposed = true;
  }

  private async load(p: number): Promise<void> {
    this.inFlight.add(p);
    try {
      const w = await this.fetchWindow(p * this.pageSize, this.pageSize);
      if (this.disposed) return;
      this.total = w.total;
      this.pages.set(
        p,
        w.events.map((event, k) => ({ index: w.indices[k], event })),
      );
      while (this.pages.size > this.maxPages) this.pages.delete(this.pages.keys().next().value!);
      this.error = '';
    } catch (e) {
      if (this.disposed) return;
      this.failed.add(p);
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.inFlight.delete(p);
    }
    if (!this.disposed) this.onChange();
  }
}
