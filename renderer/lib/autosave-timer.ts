/**
 * When to autosave: a moment after typing stops (`quietMs`), but at least every `maxDelayMs` while
 * changes keep coming, so a long burst of typing is never more than a few seconds from the side file.
 * Pure scheduling over an injectable clock (tested under Node); what a save does is the caller's.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface AutosaveTiming {
  quietMs: number;
  maxDelayMs: number;
}

export const AUTOSAVE_TIMING: AutosaveTiming = { quietMs: 1000, maxDelayMs: 3000 };

export class AutosaveTimer {
  private handle: unknown = null;
  /** When the oldest change not yet saved happened; null when there is none. */
  private firstChange: number | null = null;

  constructor(
    private readonly save: () => void,
    private readonly timing: AutosaveTiming = AUTOSAVE_TIMING,
    private readonly clock: Clock = realClock,
  ) {}

  get pending(): boolean {
    return this.firstChange !== null;
  }

  /** Something changed: save after a quiet moment, or at the latest maxDelayMs after the first change. */
  changed(): void {
    const now = this.clock.now();
    this.firstChange ??= now;
    const due = Math.min(now + this.timing.quietMs, this.firstChange + this.timing.maxDelayMs);
    this.arm(Math.max(0, due - now));
  }

  /** Save now if anything is waiting (the page is going away). */
  flush(): void {
    if (this.firstChange === null) return;
    this.fire();
  }

  cancel(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
    this.firstChange = null;
  }

  private arm(ms: number): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = this.clock.setTimeout(() => this.fire(), ms);
  }

  private fire(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
    this.firstChange = null;
    this.save();
  }
}
