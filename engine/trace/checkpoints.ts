import { deepClone, estimateBytes, type BufferCopy } from './deep-clone.ts';
import { SPARSE_MIN_BYTES, SPARSE_PAGE, sparseCopy, type PageList } from './sparse-copy.ts';

export interface CheckpointStoreOptions<S> {
  /**
   * A copy of a state that later mutation of the original cannot reach, copying buffers with
   * `copy` (pass it to `deepClone`: the store copies big buffers without their zero pages).
   * Default: `deepClone`.
   */
  clone?: (s: S, copy: BufferCopy) => S;
  /** At most this many checkpoints (default 256). */
  maxCheckpoints?: number;
  /** At most about this many bytes of checkpoints, as `sizeOf` estimates them (default 512 MiB). */
  maxBytes?: number;
  /**
   * Default: `estimateBytes` (typed arrays by length, other objects roughly), with the big
   * buffers the store copied counted by the pages they hold.
   */
  sizeOf?: (s: S) => number;
  /** `shouldRecord` says yes only this many steps after the previous checkpoint (default 1). */
  everySteps?: number;
}

export interface Checkpoint<S> {
  readonly step: number;
  /** The stored copy: do not mutate it, `restore` hands out copies. */
  readonly state: S;
  readonly bytes: number;
}

/**
 * Copies of a state keyed by step, for time travel. Memory is bounded by a count and a byte
 * budget: when either is exceeded, the checkpoint whose removal leaves the smallest gap between
 * its neighbours goes (never the first or the last), so old checkpoints thin out evenly instead
 * of the recent ones being lost.
 *
 * Big buffers (simulated RAM chunks) are stored without their zero pages, and restored by copying
 * just the pages they hold: a checkpoint costs the memory its state uses, and a restore writes
 * only those pages of fresh memory.
 */
export class CheckpointStore<S> {
  readonly maxCheckpoints: number;
  readonly maxBytes: number;
  everySteps: number;
  private readonly cloneState: (s: S, copy: BufferCopy) => S;
  private readonly sizeOf: (s: S) => number;
  /** The pages each big buffer of a stored copy holds (stored copies are never written). */
  private readonly pages = new WeakMap<ArrayBufferLike, PageList>();
  private readonly copyIn: BufferCopy = (buf) => {
    if (!(buf instanceof ArrayBuffer) || buf.byteLength < SPARSE_MIN_BYTES) return buf.slice(0);
    const { copy, pages } = sparseCopy(buf, this.pages.get(buf));
    this.pages.set(copy, pages);
    return copy;
  };
  private readonly copyOut: BufferCopy = (buf) => {
    const known = this.pages.get(buf);
    return known === undefined ? buf.slice(0) : sparseCopy(buf as ArrayBuffer, known).copy;
  };
  /** Sorted by step. */
  private list: Checkpoint<S>[] = [];
  private totalBytes = 0;

  constructor(options: CheckpointStoreOptions<S> = {}) {
    this.cloneState = options.clone ?? ((s, copy) => deepClone(s, undefined, copy));
    this.sizeOf = options.sizeOf ?? ((s) => this.estimate(s));
    this.maxCheckpoints = Math.max(2, options.maxCheckpoints ?? 256);
    this.maxBytes = options.maxBytes ?? 512 * 2 ** 20;
    this.everySteps = Math.max(1, options.everySteps ?? 1);
  }

  get size(): number {
    return this.list.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  steps(): number[] {
    return this.list.map((c) => c.step);
  }

  /** Whether a checkpoint at `step` would be at least `everySteps` from its neighbours. */
  shouldRecord(step: number): boolean {
    const i = this.indexAtOrBefore(step);
    if (i >= 0 && step - this.list[i].step < this.everySteps) return false;
    const next = this.list[i + 1];
    return next === undefined || next.step - step >= this.everySteps;
  }

  /** Store a copy of `state` as the state after `step` (replacing one at the same step). */
  add(step: number, state: S): Checkpoint<S> {
    const copy = this.cloneState(state, this.copyIn);
    const cp: Checkpoint<S> = { step, state: copy, bytes: this.sizeOf(copy) };
    const i = this.indexAtOrBefore(step);
    if (i >= 0 && this.list[i].step === step) {
      this.totalBytes -= this.list[i].bytes;
      this.list[i] = cp;
    } else {
      this.list.splice(i + 1, 0, cp);
    }
    this.totalBytes += cp.bytes;
    this.thin();
    return cp;
  }

  /** The checkpoint at or before `step`. */
  nearest(step: number): Checkpoint<S> | undefined {
    return this.list[this.indexAtOrBefore(step)];
  }

  /** A fresh copy of the checkpoint at or before `step`, with its step. */
  restore(step: number): { step: number; state: S } | undefined {
    const cp = this.nearest(step);
    return cp && { step: cp.step, state: this.cloneState(cp.state, this.copyOut) };
  }

  /** Forget checkpoints after `step` (the log they were built from changed there). */
  dropAfter(step: number): void {
    const keep = this.indexAtOrBefore(step) + 1;
    for (const cp of this.list.splice(keep)) this.totalBytes -= cp.bytes;
  }

  clear(): void {
    this.list = [];
    this.totalBytes = 0;
  }

  /** estimateBytes, counting a buffer the store copied sparsely by the pages it holds. */
  private estimate(s: S): number {
    let sparse = 0;
    const counted = new Set<ArrayBufferLike>();
    const bytes = estimateBytes(s, (_key, v) => {
      const buf = ArrayBuffer.isView(v) ? v.buffer : v instanceof ArrayBuffer ? v : undefined;
      const pages = buf && this.pages.get(buf);
      if (!buf || !pages) return false;
      if (!counted.has(buf)) {
        counted.add(buf);
        sparse += pages.length * SPARSE_PAGE + 64;
      }
      return true;
    });
    return bytes + sparse;
  }

  private indexAtOrBefore(step: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.list[mid].step <= step) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private thin(): void {
    while (
      this.list.length > 2 &&
      (this.list.length > this.maxCheckpoints || this.totalBytes > this.maxBytes)
    ) {
      let best = 1;
      let bestGap = Infinity;
      for (let i = 1; i < this.list.length - 1; i++) {
        const gap = this.list[i + 1].step - this.list[i - 1].step;
        if (gap < bestGap) {
          bestGap = gap;
          best = i;
        }
      }
      this.totalBytes -= this.list[best].bytes;
      this.list.splice(best, 1);
    }
  }
}
