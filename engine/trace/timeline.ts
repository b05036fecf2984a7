import { CheckpointStore } from './checkpoints.ts';
import type { BufferCopy } from './deep-clone.ts';

/**
 * What a timeline needs from the layer that owns the recorded calls (the script layer).
 * `step` counts calls: the state "at step n" is the state after the first n calls.
 */
export interface TimelineSource<S> {
  /** A fresh state before any call. */
  initial(): S;
  /**
   * Apply calls `fromStep .. toStep - 1` to `state`, which is the state at `fromStep`; afterwards
   * it is the state at `toStep`. Must be deterministic. (When the calls emit trace events, put the
   * trace in replay mode first, `trace.replayFrom(...)`, so the log is checked, not extended.)
   */
  replay(state: S, fromStep: number, toStep: number): void;
  /** A deep copy (usually `deepClone(s, undefined, copy)`: `copy` is how the checkpoint store copies buffers). */
  clone(s: S, copy?: BufferCopy): S;
}

export interface TimelineOptions<S> {
  /** Replay time a seek should stay under; sets the checkpoint spacing (default 20 ms). */
  targetReplayMs?: number;
  /** A fixed checkpoint spacing in steps; turns off the measured one. */
  everySteps?: number;
  maxCheckpoints?: number;
  maxBytes?: number;
  sizeOf?: (s: S) => number;
  /** Milliseconds, for measuring replay speed (default `performance.now`). */
  now?: () => number;
}

export interface BuildProgress {
  done: boolean;
  /** How far the background build has come. */
  step: number;
}

const MAX_SPACING = 1 << 24;

function defaultNow(): () => number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf ? () => perf.now() : () => Date.now();
}

/**
 * Time travel over a deterministic call log: `seek(step)` gives the state at any step by
 * restoring the nearest checkpoint at or before it and replaying the calls in between,
 * recording a checkpoint every K steps on the way. K is a power of two chosen from the measured
 * replay speed so that K steps replay in about `targetReplayMs`.
 *
 * The timeline owns the state it returns: read it, do not change it (the next seek may go on
 * from it, or replace it with a restored copy, so always use the latest returned object).
 */
export class Timeline<S> {
  readonly checkpoints: CheckpointStore<S>;
  private current: S;
  private currentStep = 0;
  private spacing: number;
  private readonly adaptive: boolean;
  private readonly targetMs: number;
  private readonly now: () => number;
  /** Measured replay speed (exponential average), steps per millisecond. */
  private stepsPerMs = NaN;
  private pendingSteps = 0;
  private pendingMs = 0;
  private builder: { state: S; step: number } | undefined;

  constructor(
    private readonly source: TimelineSource<S>,
    options: TimelineOptions<S> = {},
  ) {
    this.targetMs = options.targetReplayMs ?? 20;
    this.adaptive = options.everySteps === undefined;
    this.spacing = Math.max(1, Math.floor(options.everySteps ?? 64));
    this.now = options.now ?? defaultNow();
    this.checkpoints = new CheckpointStore<S>({
      clone: (s, copy) => source.clone(s, copy),
      maxCheckpoints: options.maxCheckpoints,
      maxBytes: options.maxBytes,
      sizeOf: options.sizeOf,
    });
    this.current = source.initial();
    this.checkpoints.add(0, this.current);
  }

  /** The step the current state is at. */
  get step(): number {
    return this.currentStep;
  }

  get state(): S {
    return this.current;
  }

  /** Steps between checkpoints, as now chosen. */
  get everySteps(): number {
    return this.spacing;
  }

  /** The state at `step` (after `step` calls). */
  seek(step: number): S {
    step = Math.max(0, Math.floor(step));
    const cp = this.checkpoints.nearest(step);
    // Restore when going back, or when going on from the cursor would replay more than K steps
    // and a checkpoint past the cursor is nearer.
    const far = step - this.currentStep > this.spacing && cp !== undefined && cp.step > this.currentStep;
    if (step < this.currentStep || far) {
      const restored = this.checkpoints.restore(step);
      if (restored) {
        this.current = restored.state;
        this.currentStep = restored.step;
      } else {
        this.current = this.source.initial();
        this.currentStep = 0;
      }
    }
    while (this.currentStep < step) {
      const next = Math.min(step, this.boundaryAfter(this.currentStep, this.spacing));
      try {
        this.replayTimed(this.current, this.currentStep, next);
      } catch (e) {
        // The state is part-way through a step: go back to a checkpoint, so the next seek starts clean.
        const restored = this.checkpoints.restore(this.currentStep);
        this.current = restored ? restored.state : this.source.initial();
        this.currentStep = restored ? restored.step : 0;
        throw e;
      }
      this.currentStep = next;
      // Until replay speed is known, K is a guess: record nothing rather than too much.
      if (!this.adaptive || !Number.isNaN(this.stepsPerMs)) this.record(next, this.current);
    }
    return this.current;
  }

  /**
   * Take `state` as the state at `step` without replaying (e.g. the live engine right after a
   * run), so seeking there costs nothing. The timeline owns it from now on.
   */
  adopt(state: S, step: number): void {
    this.current = state;
    this.currentStep = step;
    this.builder = undefined;
  }

  /**
   * Record a checkpoint of `state` at `step` if it falls on a boundary not yet covered. With a
   * measured spacing, "covered" means a checkpoint less than two spacings back: the measurement
   * moves K up and down by a power of two on a busy machine, and a copy per boundary each time K
   * halves would cost more than the replay it saves.
   */
  private record(step: number, state: S): boolean {
    if (step % this.spacing !== 0) return false;
    const near = this.checkpoints.nearest(step);
    const covered = this.adaptive ? 2 * this.spacing : this.spacing;
    if (near !== undefined && step - near.step < covered) return false;
    this.checkpoints.add(step, state);
    return true;
  }

  /**
   * Prepare checkpoints up to `totalSteps` for at most about `budgetMs` (call again while not
   * done, e.g. from the host's idle loop after a run). Works on its own copy; the current state
   * is not touched.
   */
  buildCheckpoints(totalSteps: number, budgetMs: number): BuildProgress {
    const deadline = this.now() + budgetMs;
    const spacing = this.buildSpacing(totalSteps);
    if (this.builder === undefined) {
      const start = Math.min(totalSteps, this.coveredUpTo(spacing));
      const restored = this.checkpoints.restore(start)!;
      this.builder = { state: restored.state, step: restored.step };
    }
    const b = this.builder;
    while (b.step < totalSteps && this.now() < deadline) {
      const next = Math.min(totalSteps, this.boundaryAfter(b.step, spacing));
      try {
        this.replayTimed(b.state, b.step, next);
      } catch (e) {
        this.builder = undefined; // its state is part-way through a step
        throw e;
      }
      b.step = next;
      const near = this.checkpoints.nearest(next);
      if (near === undefined || next - near.step >= spacing) this.checkpoints.add(next, b.state);
    }
    const progress = { done: b.step >= totalSteps, step: b.step };
    if (progress.done) this.builder = undefined;
    return progress;
  }

  /** The call log changed after `step`: forget what was built from the old one. */
  invalidate(step: number): void {
    this.checkpoints.dropAfter(step);
    this.builder = undefined;
    if (this.currentStep > step) {
      const restored = this.checkpoints.restore(step)!;
      this.current = restored.state;
      this.currentStep = restored.step;
    }
  }

  private boundaryAfter(step: number, spacing: number): number {
    return (Math.floor(step / spacing) + 1) * spacing;
  }

  /** Checkpoints are dense (gaps ≤ spacing) from 0 up to the returned step. */
  private coveredUpTo(spacing: number): number {
    const steps = this.checkpoints.steps();
    let i = 0;
    while (i + 1 < steps.length && steps[i + 1] - steps[i] <= spacing) i++;
    return steps[i];
  }

  /** Spacing for a build: the current K, widened so the store's count and byte limits are not hit. */
  private buildSpacing(totalSteps: number): number {
    const store = this.checkpoints;
    let capacity = store.maxCheckpoints - 1;
    if (store.size > 0 && store.bytes > 0) {
      capacity = Math.min(capacity, Math.floor(store.maxBytes / (store.bytes / store.size)) - 1);
    }
    const needed = Math.ceil(totalSteps / Math.max(1, capacity));
    let spacing = this.spacing;
    while (spacing < needed) spacing *= 2;
    return spacing;
  }

  private replayTimed(state: S, from: number, to: number): void {
    const t0 = this.now();
    this.source.replay(state, from, to);
    if (!this.adaptive) return;
    this.pendingSteps += to - from;
    this.pendingMs += this.now() - t0;
    // Learn only from stretches long enough for the clock to measure.
    if (this.pendingMs < 2) return;
    const rate = this.pendingSteps / this.pendingMs;
    this.stepsPerMs = Number.isNaN(this.stepsPerMs) ? rate : 0.7 * this.stepsPerMs + 0.3 * rate;
    this.pendingSteps = this.pendingMs = 0;
    const want = Math.max(1, Math.min(MAX_SPACING, this.targetMs * this.stepsPerMs));
    this.spacing = 2 ** Math.floor(Math.log2(want));
  }
}
