/**
 * The SES sandbox. `lockdown()` freezes the shared intrinsics once per process (so nothing a script
 * reaches can be used to change the engine's built-ins or to get at the host), then each run gets
 * a fresh Compartment whose global object holds the language's own globals and a few pure web
 * helpers (HOST_HELPERS): no `process`, no host `require`, no `fetch`, no timers, no `eval`, and a
 * `Function` that refuses to build code from strings (that code would run unguarded). Reading a name
 * left out on purpose throws a ReferenceError saying why (LEFT_OUT).
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

/**
 * Globals removed from every compartment (each compartment's own evaluators and constructors);
 * `Function` comes back as scriptFunction, which has the language's prototype but builds nothing.
 */
const REMOVED_GLOBALS = ['eval', 'Function', 'Compartment', 'lockdown', 'harden'];

const REPEATABLE = 'a run must give the same result every time';
const QUEUED =
  'a script runs from top to bottom in one go, and work queued for later would run after the run has ended (lab.advance_time(ms) drives the simulated clock)';
const NO_HOST = 'a script reaches nothing outside the lab (no files, network or host process)';

/**
 * Names a script may expect that the sandbox leaves out on purpose, and why: a read of one throws
 * "X is not defined: …" with the reason rather than the bare "X is not defined" (runner.ts). Only
 * the reads of undeclared names pay for this (free-names.ts routes them through the guard).
 */
const LEFT_OUT: Readonly<Record<string, string>> = {
  eval: 'the lab does not run code built from strings',
  Intl: "its output depends on the machine's locale, time zone and ICU data, and a run must give the same result on every machine",
  WeakRef: `what it sees depends on when the garbage collector runs, and ${REPEATABLE}`,
  FinalizationRegistry: `its callbacks depend on when the garbage collector runs, and ${REPEATABLE}`,
  SharedArrayBuffer: `a script has no other thread to share memory with, and shared memory would let it time itself; ${REPEATABLE}`,
  Atomics: `a script has no other thread to share memory with, and shared memory would let it time itself; ${REPEATABLE}`,
  queueMicrotask: QUEUED,
  setTimeout: QUEUED,
  setInterval: QUEUED,
  setImmediate: QUEUED,
  clearTimeout: QUEUED,
  clearInterval: QUEUED,
  clearImmediate: QUEUED,
  process: NO_HOST,
  Buffer: `${NO_HOST}; Uint8Array, TextEncoder and TextDecoder do the byte work`,
  fetch: NO_HOST,
};

/** The message for a read of `name` when the sandbox left it out on purpose, else undefined. */
export function leftOut(name: string): string | undefined {
  const why = Object.hasOwn(LEFT_OUT, name) ? LEFT_OUT[name] : undefined;
  return why && `${name} is not defined: the lab's sandbox leaves it out, as ${why}`;
}

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
    g.Date = scriptDate ??= makeScriptDate(g.Date as DateConstructor);
    g.Function = scriptFunction ??= makeScriptFunction();
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

const NO_MATH_RANDOM = `Math.random() is not available: ${REPEATABLE}; use lab.random() (seeded by lab.seed)`;
const USE_LAB_NOW = 'use lab.now(), the simulated clock';
const NO_DATE_NOW = `Date.now() is not available: ${REPEATABLE}; ${USE_LAB_NOW}`;
const NO_NEW_DATE = `new Date() without arguments is not available: ${REPEATABLE}; ${USE_LAB_NOW}`;
const NO_DATE_CALL = `Date() is not available: it gives the current time as text, and ${REPEATABLE}; ${USE_LAB_NOW} (new Date(ms) still makes a date from a number)`;
const NO_CODE_FROM_STRINGS =
  'the lab does not run code built from strings (as with eval); write the function itself, e.g. (a, b) => a + b';
const NO_FUNCTION = `Function() is not available: ${NO_CODE_FROM_STRINGS}`;

/**
 * What the sandbox refuses, in SES's words and in the lab's: the script's own Math, Date and
 * Function throw the lab's text, but SES's originals are still reachable (`new Date(0).constructor`,
 * `(() => {}).constructor`), so their texts are reworded when the run is reported.
 */
const REFUSALS: [RegExp, string][] = [
  [/%SharedMath%\.random\(\) throws/, NO_MATH_RANDOM],
  [/%SharedDate%\.now\(\) throws/, NO_DATE_NOW],
  [/new %SharedDate%\(\) with no arguments throws/, NO_NEW_DATE],
  [/%SharedDate% constructor as a function throws/, NO_DATE_CALL],
  [
    /^Function\.prototype\.constructor is not a valid constructor\.$/,
    `Function.prototype.constructor is not available: ${NO_CODE_FROM_STRINGS}`,
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

/**
 * The sandbox's Date: SES's (dates from numbers and strings, Date.UTC, Date.parse) with the
 * refusals of the current time in the lab's words, as a script that catches them reads them.
 * Made once, from the first compartment's %SharedDate% (every compartment's is the same).
 */
let scriptDate: DateConstructor | undefined;
function makeScriptDate(SharedDate: DateConstructor): DateConstructor {
  const ScriptDate = function Date(...args: unknown[]): Date {
    if (new.target === undefined) throw new TypeError(NO_DATE_CALL);
    if (args.length === 0) throw new TypeError(NO_NEW_DATE);
    // new.target, so a `class extends Date` gets its own prototype.
    return Reflect.construct(SharedDate, args, new.target) as Date;
  };
  const method = { writable: true, enumerable: false, configurable: true };
  Object.defineProperties(ScriptDate, {
    length: { value: 7 },
    // The one Date.prototype: `instanceof Date` holds for the lab's dates and the script's alike.
    prototype: { value: SharedDate.prototype, writable: false, enumerable: false, configurable: false },
    parse: { value: SharedDate.parse, ...method },
    UTC: { value: SharedDate.UTC, ...method },
    now: {
      value: function now(): never {
        throw new TypeError(NO_DATE_NOW);
      },
      ...method,
    },
  });
  return harden(ScriptDate as unknown as DateConstructor);
}

/**
 * The sandbox's Function: the language's `Function.prototype` (so `f instanceof Function` and
 * `Function.prototype.call` work) behind a constructor that refuses, as `eval` is absent.
 */
let scriptFunction: FunctionConstructor | undefined;
function makeScriptFunction(): FunctionConstructor {
  const ScriptFunction = function Function(..._body: string[]): never {
    throw new TypeError(NO_FUNCTION);
  };
  Object.defineProperty(ScriptFunction, 'length', { value: 1 });
  Object.defineProperty(ScriptFunction, 'prototype', {
    value: Object.getPrototypeOf(ScriptFunction) as object, // %FunctionPrototype%, shared by every compartment
    writable: false,
    enumerable: false,
    configurable: false,
  });
  return harden(ScriptFunction as unknown as FunctionConstructor);
}

/** An error message of the sandbox's, said as the lab says it (others unchanged). */
export function sandboxRefusal(message: string): string {
  for (const [re, text] of REFUSALS) if (re.test(message)) return text;
  return message;
}
