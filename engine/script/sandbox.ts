/**
 * The SES sandbox. `lockdown()` freezes the shared intrinsics once per process (so nothing a script
 * reaches can be used to change the engine's built-ins or to get at the host), then each run gets
 * a fresh Compartment whose global object holds the language's own globals and a few pure web
 * helpers (HOST_HELPERS): no `process`, no host `require`, no `fetch`, no timers, no
 * `eval`/`Function` (they could build unguarded code).
 * Everything a script may reach is passed to its module function, hardened.
 */
import 'ses';

let lockedDown = false;
const preparations: (() => unknown)[] = [];

/**
 * Run `prepare` just before this process locks down (not at all if it already has): the last
 * moment code runs in an unfrozen realm (see warm-up.ts for what that is good for).
 */
export function beforeLockdown(prepare: () => unknown): void {
  if (!lockedDown) preparations.push(prepare);
}

/** Lock the realm down; idempotent. Call before handing anything to a script. */
export function ensureLockdown(): void {
  if (lockedDown) return;
  // A host (or test) that already ran lockdown itself is fine.
  if (Object.isFrozen(Array.prototype)) {
    lockedDown = true;
    return;
  }
  for (const prepare of preparations.splice(0)) {
    try {
      prepare();
    } catch {
      // a preparation is an optimisation: the lockdown goes ahead without it
    }
  }
  // A preparation may have locked down itself (through a nested call).
  if (lockedDown || Object.isFrozen(Array.prototype)) {
    lockedDown = true;
    return;
  }
  lockdown({
    errorTaming: 'unsafe', // keep stacks: they carry the script's line and column
    stackFiltering: 'verbose',
    overrideTaming: 'severe', // plain assignment still works on objects whose prototype is frozen
    consoleTaming: 'unsafe',
    // The host decides what an uncaught error or a late rejection means (engine/host, engine/cli).
    errorTrapping: 'none',
    unhandledRejectionTrapping: 'none',
  });
  lockedDown = true;
}

/** Globals removed from every compartment (each compartment's own evaluators and constructors). */
const REMOVED_GLOBALS = ['eval', 'Function', 'Compartment', 'lockdown', 'harden'];

/**
 * The host's web-standard helpers a script may have: pure and repeatable (text to bytes for
 * `dma_write`, copies of what the lab returns), present alike in Node, a Web Worker and Electron's
 * utility process. Hardened, so no script can change them for the engine or the next run.
 */
const HOST_HELPERS = ['TextEncoder', 'TextDecoder', 'structuredClone', 'atob', 'btoa'] as const;

export class Sandbox {
  private readonly compartment: Compartment;

  constructor() {
    ensureLockdown();
    this.compartment = new Compartment({ __options__: true });
    const g = this.compartment.globalThis as Record<string, unknown>;
    for (const name of REMOVED_GLOBALS) delete g[name];
    const host = globalThis as Record<string, unknown>;
    for (const name of HOST_HELPERS) if (name in host) g[name] = harden(host[name]);
    g.Math = scriptMath ??= makeScriptMath();
  }

  /** A global of the compartment, as a read of a name no script declares would find it. */
  global(name: string): { value: unknown } | undefined {
    const g = this.compartment.globalThis as Record<string, unknown>;
    return name in g ? { value: g[name] } : undefined;
  }

  /** Evaluate one compiled module function's source; returns the function. */
  evaluate(code: string): (...args: unknown[]) => unknown {
    return this.compartment.evaluate(code, {
      // `eval(` in a comment or string is harmless here: the compartment has no eval at all.
      __rejectSomeDirectEvalExpressions__: false,
    }) as (...args: unknown[]) => unknown;
  }
}

/** `harden` from SES, typed. */
export function deepFreeze<T>(value: T): T {
  ensureLockdown();
  return harden(value);
}

const NO_MATH_RANDOM =
  'Math.random() is not available: a run must give the same result every time; use lab.random() (seeded by lab.seed)';

/** What the sandbox refuses to keep runs repeatable, in its own words (SES's) and in the lab's. */
const REFUSALS: [RegExp, string][] = [
  [/%SharedMath%\.random\(\) throws/, NO_MATH_RANDOM],
  [
    /%SharedDate%\.now\(\) throws/,
    'Date.now() is not available: a run must give the same result every time; use lab.now(), the simulated clock',
  ],
  [
    /new %SharedDate%\(\) with no arguments throws/,
    'new Date() without arguments is not available: a run must give the same result every time; use lab.now(), the simulated clock',
  ],
];

/**
 * The sandbox's Math with a `random` that says what to use instead, as a script that catches the
 * error reads it (SES's own says only "%SharedMath%.random() throws"). Made once: it is frozen.
 */
let scriptMath: Math | undefined;
function makeScriptMath(): Math {
  const math = Object.create(Object.getPrototypeOf(Math), {
    ...Object.getOwnPropertyDescriptors(Math),
    random: {
      value: function random(): never {
        throw new TypeError(NO_MATH_RANDOM);
      },
    },
  }) as Math;
  return harden(math);
}

/** An error message of the sandbox's, said as the lab says it (others unchanged). */
export function sandboxRefusal(message: string): string {
  for (const [re, text] of REFUSALS) if (re.test(message)) return text;
  return message;
}
