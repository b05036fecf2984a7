/**
 * The time limit. Instrumented scripts call the guard at the top of every loop body and function
 * body. It counts calls and reads the clock every `CHECK_EVERY` calls; once past the deadline it
 * throws a `TimeoutError`, and keeps throwing on every later call, so a script's own `try/catch`
 * cannot keep a loop alive: the next iteration or call throws again, outside that `try`.
 * After the run has ended it throws on every call too (a late promise callback must not run on).
 */

/** How many guard calls between clock reads: cheap enough to leave loops fast, often enough to stop on time. */
const CHECK_EVERY = 128;

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * Script code that ran after the run had ended (after an `await`, in a `.then` callback): the lab
 * runs a scenario from top to bottom and does not wait for promises, so what such code did or
 * checked is not part of the run. A guard error (matchers must not swallow it), but one the run
 * reports: the scenario did less than it says.
 */
export class RunEndedError extends TimeoutError {
  override name = 'RunEndedError';
  constructor(what: string) {
    super(
      `${what} after the run had ended (code after an await, or in a .then callback): the lab runs a ` +
        `scenario from top to bottom and does not wait for promises, so write it without them`,
    );
  }
}

/** The run was stopped at a step (Stop pressed, the run replayed up to where it was): a guard error too. */
export class StopError extends TimeoutError {
  override name = 'StopError';
}

export interface GuardOptions {
  timeoutMs: number;
  /** The host's clock (scripts have none). */
  now: () => number;
  /** Called at each clock read while running, with the elapsed time. */
  onTick?: (elapsedMs: number) => void;
  /** Stop once this many steps are done: at the next guard call or call into the lab. */
  stopAtStep?: number;
  /** Steps done so far (read only when `stopAtStep` is set). */
  steps?: () => number;
}

export class RunGuard {
  readonly start: number;
  readonly deadline: number;
  timedOut = false;
  /** Stopped at `stopAtStep`. */
  stopped = false;
  ended = false;
  /**
   * The failed expectation that stopped the script (SCRIPT-API: "a failed expectation stops the
   * script"): a script that catches it meets it again at the next guard call, its catch included.
   */
  failure: Error | undefined;
  /** The first TimeoutError thrown (its stack says where the script was). */
  firstTimeout: TimeoutError | undefined;
  /** Guard calls between checks: every call while a step limit is set, so no step slips past it. */
  private readonly every: number;
  private countdown: number;
  /** The function handed to the script; its `thrown` wraps the value of every `throw` statement. */
  readonly guard: (() => void) & { thrown: (value: unknown) => unknown; free: (name: string) => unknown };
  /** A read of a name the script never declared (free-names.ts): its value, or it throws. */
  undeclared: (name: string) => unknown = () => undefined;
  /**
   * The value the script threw last and an Error made where it threw it: a thrown string or plain
   * object has no stack, so this is how its line is found.
   */
  lastThrown: { value: unknown; site: Error } | undefined;

  constructor(private readonly opts: GuardOptions) {
    this.start = opts.now();
    this.deadline = this.start + opts.timeoutMs;
    this.every = this.countdown = opts.stopAtStep === undefined ? CHECK_EVERY : 1;
    const guard = () => {
      if (--this.countdown > 0 && !this.halted && !this.ended && !this.failure) return;
      if (this.failure && !this.halted && !this.ended) throw this.failure;
      this.check(true);
    };
    this.guard = Object.assign(guard, {
      thrown: (value: unknown) => {
        this.lastThrown = { value, site: new Error() };
        return value;
      },
      free: (name: string) => this.undeclared(name),
    });
  }

  /** Timed out or stopped: every later guard call throws. */
  get halted(): boolean {
    return this.timedOut || this.stopped;
  }

  /** `between`: not inside a call into the lab, where a step limit may stop the run. */
  private check(between: boolean): void {
    this.countdown = this.every;
    if (this.ended) throw new RunEndedError('script code ran');
    const limit = this.opts.stopAtStep;
    if (!this.halted) {
      if (between && limit !== undefined && this.opts.steps!() >= limit) this.stopped = true;
      else {
        const t = this.opts.now();
        this.opts.onTick?.(t - this.start);
        if (t < this.deadline) return;
        this.timedOut = true;
      }
    }
    const err = this.stopped
      ? new StopError(`script stopped after step ${limit}: Stop was pressed there`)
      : new TimeoutError(`script stopped: time limit of ${this.opts.timeoutMs} ms exceeded`);
    this.firstTimeout ??= err;
    throw err;
  }

  /**
   * From inside a long call into the lab: read the clock, and throw once past the deadline. With
   * `between` (before a call starts), also stop at the step limit: a step once begun is finished.
   */
  poll(between = false): void {
    if (!this.ended) this.check(between);
  }

  /** True when `e` is one of this guard's own errors (matchers must not swallow them). */
  static isGuardError(e: unknown): boolean {
    return e instanceof TimeoutError;
  }

  end(): void {
    this.ended = true;
  }
}
