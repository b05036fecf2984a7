/**
 * `expect()` for scenario scripts: the matchers SCRIPT-API.md names, with messages that read
 * like a kernel engineer would say them (`expected 0 but got -22 (-EINVAL)`). Every outcome is
 * reported to the runner; a failed one throws an `ExpectationError`, which stops the script.
 */
import { entriesOf, formatValue, handleName } from './format.ts';
import { errnoName } from '../core/errno.ts';

export class ExpectationError extends Error {
  override name = 'ExpectationError';
  constructor(
    message: string,
    readonly matcher: string,
  ) {
    super(message);
  }
}

export interface ExpectationOutcome {
  passed: boolean;
  matcher: string;
  message: string;
  /** For a failure, the error about to be thrown (its stack points at the script's line). */
  error?: ExpectationError;
}

export interface ExpectHooks {
  record(outcome: ExpectationOutcome): void;
  /** Errors that must pass through `toThrow` untouched (the time limit's). */
  isInternalError?(e: unknown): boolean;
  /** Make objects handed to the script immutable (SES `harden`). */
  freeze?<T>(v: T): T;
}

/** Integers this large are also shown in hex: they are almost always addresses or sizes. */
const HEX_FROM = 0x10000;

/** A value for a message: numbers annotated with their errno name or hex form where that helps. */
export function describe(v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v)) {
    const errno = errnoName(v);
    if (errno) return `${v} (${errno})`;
    if (Math.abs(v) >= HEX_FROM) return `${v} (${v < 0 ? '-' : ''}0x${Math.abs(v).toString(16)})`;
  }
  if (typeof v === 'string') return JSON.stringify(v);
  // A handle is a pointer to the engine's object: its name says which (its fields run to pages).
  const name = handleName(v);
  if (name) return name;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => handleName(x)))
    return `[${v.map((x) => handleName(x)).join(', ')}]`;
  return formatValue(v);
}

const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const isTyped = (v: object): v is ArrayLike<number> => TypedArrayProto.isPrototypeOf(v);

const keyPath = (path: string, k: string | symbol | number) =>
  typeof k === 'number'
    ? `${path}[${k}]`
    : typeof k === 'symbol'
      ? `${path}[${k.toString()}]`
      : /^[A-Za-z_$][\w$]*$/.test(k)
        ? `${path}.${k}`
        : `${path}[${JSON.stringify(k)}]`;

interface Difference {
  path: string;
  expected: unknown;
  actual: unknown;
}

/** The `actual` of a difference where the property is not there at all. */
const MISSING = Symbol('missing');

/**
 * Deep equality in the manner of Jest's `toEqual`: properties holding `undefined` count as absent,
 * object classes are not compared, NaN equals NaN, and a typed array equals a plain array with
 * the same numbers (so `expect(lab.mem.read(pa, 2)).toEqual([1, 2])` reads naturally).
 * `subset`: only the expected side's properties are compared (`toMatchObject`).
 * Returns the first difference, or undefined when equal.
 */
function difference(
  actual: unknown,
  expected: unknown,
  path: string,
  subset: boolean,
  seen: Map<object, object>,
): Difference | undefined {
  if (Object.is(actual, expected)) return undefined;
  if (typeof actual === 'number' && typeof expected === 'number') {
    return actual === expected ? undefined : { path, expected, actual };
  }
  if (typeof actual !== 'object' || typeof expected !== 'object' || actual === null || expected === null) {
    return { path, expected, actual };
  }
  if (seen.get(actual) === expected) return undefined;
  seen.set(actual, expected);
  const a = actual as object;
  const e = expected as object;
  if (e instanceof Date || a instanceof Date) {
    return a instanceof Date && e instanceof Date && a.getTime() === e.getTime()
      ? undefined
      : { path, expected, actual };
  }
  if (e instanceof RegExp || a instanceof RegExp) {
    return String(a) === String(e) && a instanceof RegExp && e instanceof RegExp
      ? undefined
      : { path, expected, actual };
  }
  const aList = Array.isArray(a) || isTyped(a);
  const eList = Array.isArray(e) || isTyped(e);
  if (aList !== eList) return { path, expected, actual };
  if (aList && eList) {
    const al = a as ArrayLike<unknown>;
    const el = e as ArrayLike<unknown>;
    if (al.length !== el.length) return { path: `${path}.length`, expected: el.length, actual: al.length };
    for (let i = 0; i < el.length; i++) {
      const d = difference(al[i], el[i], keyPath(path, i), subset, seen);
      if (d) return d;
    }
    return undefined;
  }
  if (e instanceof Map || a instanceof Map) {
    if (!(a instanceof Map && e instanceof Map)) return { path, expected, actual };
    if (!subset && a.size !== e.size) return { path: `${path}.size`, expected: e.size, actual: a.size };
    for (const [k, v] of e) {
      if (!a.has(k)) return { path: `${path}.get(${formatValue(k)})`, expected: v, actual: undefined };
      const d = difference(a.get(k), v, `${path}.get(${formatValue(k)})`, subset, seen);
      if (d) return d;
    }
    return undefined;
  }
  if (e instanceof Set || a instanceof Set) {
    if (!(a instanceof Set && e instanceof Set)) return { path, expected, actual };
    if (a.size !== e.size && !subset) return { path: `${path}.size`, expected: e.size, actual: a.size };
    for (const v of e) {
      if (a.has(v)) continue;
      if (![...a].some((x) => !difference(x, v, path, subset, new Map()))) return { path, expected, actual };
    }
    return undefined;
  }
  const aAll = entriesOf(a);
  const aEntries = new Map(aAll.filter(([, v]) => v !== undefined));
  // toEqual takes an undefined property for an absent one; toMatchObject, as Jest's subset check
  // does, wants every key it names to be there, `undefined` ones too.
  if (subset)
    for (const [k, v] of entriesOf(e))
      if (v === undefined && !aAll.some(([ak]) => ak === k))
        return { path: keyPath(path, k), expected: undefined, actual: MISSING };
  const eEntries = entriesOf(e).filter(([, v]) => v !== undefined);
  if (!subset) {
    const eKeys = new Set(eEntries.map(([k]) => k));
    for (const [k, v] of aEntries) {
      if (!eKeys.has(k)) return { path: keyPath(path, k), expected: undefined, actual: v };
    }
  }
  for (const [k, v] of eEntries) {
    const d = difference(aEntries.get(k), v, keyPath(path, k), subset, seen);
    if (d) return d;
  }
  return undefined;
}

const numeric = (x: unknown): x is number | bigint => typeof x === 'number' || typeof x === 'bigint';

/** A value an ordering matcher refuses; a string of digits most likely came from `lab.params`. */
function notNumeric(v: unknown): string {
  const digits = typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v));
  return digits
    ? `${describe(v)} (a string: lab.params values are strings, convert with Number())`
    : describe(v);
}

/** An array or Set holding an object equal to `item` but not `item` itself: toContain's near miss. */
function equalElement(list: unknown, item: unknown): boolean {
  if (typeof item !== 'object' || item === null) return false;
  if (!Array.isArray(list) && !(list instanceof Set)) return false;
  for (const x of list)
    if (typeof x === 'object' && x !== null && !difference(x, item, '', false, new Map())) return true;
  return false;
}

function differenceText(d: Difference | undefined): string {
  if (!d || d.path === '') return '';
  const got = d.actual === MISSING ? 'it is missing' : `got ${describe(d.actual)}`;
  return `\n  first difference at ${d.path.replace(/^\./, '')}: expected ${describe(d.expected)} but ${got}`;
}

/** Fields are #private so a script sees only the matchers (and cannot reach the runner's hooks). */
class Assertion {
  readonly #actual: unknown;
  readonly #negated: boolean;
  readonly #hooks: ExpectHooks;

  constructor(actual: unknown, negated: boolean, hooks: ExpectHooks) {
    this.#actual = actual;
    this.#negated = negated;
    this.#hooks = hooks;
  }

  get not(): Assertion {
    return guard(this.#hooks, new Assertion(this.#actual, !this.#negated, this.#hooks));
  }

  /** Report the outcome; `pass` is the un-negated result, `msg`/`notMsg` the failure texts. */
  #settle(matcher: string, pass: boolean, msg: () => string, notMsg: () => string): void {
    const name = this.#negated ? `not.${matcher}` : matcher;
    const ok = pass !== this.#negated;
    if (ok) {
      this.#hooks.record({ passed: true, matcher: name, message: '' });
      return;
    }
    const error = new ExpectationError(this.#negated ? notMsg() : msg(), name);
    this.#hooks.record({ passed: false, matcher: name, message: error.message, error });
    throw this.#hooks.freeze ? this.#hooks.freeze(error) : error;
  }

  toBe(expected: unknown): void {
    const a = this.#actual;
    this.#settle(
      'toBe',
      Object.is(a, expected),
      () => {
        const same =
          typeof a === 'object' &&
          a !== null &&
          typeof expected === 'object' &&
          expected !== null &&
          !difference(a, expected, '', false, new Map());
        // Two symbols with one description print alike: say why they still differ.
        const symbols =
          typeof a === 'symbol' && typeof expected === 'symbol' && a.description === expected.description;
        return `expected ${describe(expected)} but got ${describe(a)}${same ? ' (equal contents, but not the same object: use toEqual)' : symbols ? ' (two different symbols with the same description: each Symbol() call makes a new one)' : ''}`;
      },
      () => `expected a value other than ${describe(expected)}`,
    );
  }

  toEqual(expected: unknown): void {
    const d = difference(this.#actual, expected, '', false, new Map());
    this.#settle(
      'toEqual',
      !d,
      () => `expected ${describe(expected)} but got ${describe(this.#actual)}${differenceText(d)}`,
      () => `expected a value not equal to ${describe(expected)}`,
    );
  }

  toMatchObject(expected: object): void {
    if (typeof expected !== 'object' || expected === null)
      throw new TypeError('toMatchObject() needs an object or array to match against');
    const d = difference(this.#actual, expected, '', true, new Map());
    this.#settle(
      'toMatchObject',
      !d,
      () => `expected ${describe(this.#actual)} to match ${describe(expected)}${differenceText(d)}`,
      () => `expected ${describe(this.#actual)} not to match ${describe(expected)}`,
    );
  }

  /**
   * The ordering matchers compare numbers (or bigints) only, on both sides and with or without
   * `.not`: a string is not "not greater than 4", it is a mistake (`lab.params` values are strings).
   */
  #compare(
    matcher: string,
    n: unknown,
    words: string,
    test: (a: number | bigint, b: number | bigint) => boolean,
  ): void {
    const a = this.#actual;
    if (!numeric(n))
      throw new TypeError(`${matcher}() needs a number or bigint to compare with, got ${notNumeric(n)}`);
    if (!numeric(a)) throw new TypeError(`${matcher}() needs a number or bigint, got ${notNumeric(a)}`);
    this.#settle(
      matcher,
      test(a, n),
      () => `expected ${describe(a)} to be ${words} ${describe(n)}`,
      () => `expected ${describe(a)} not to be ${words} ${describe(n)}`,
    );
  }

  toBeGreaterThan(n: number | bigint): void {
    this.#compare('toBeGreaterThan', n, 'greater than', (a, b) => a > b);
  }
  toBeGreaterThanOrEqual(n: number | bigint): void {
    this.#compare('toBeGreaterThanOrEqual', n, 'greater than or equal to', (a, b) => a >= b);
  }
  toBeLessThan(n: number | bigint): void {
    this.#compare('toBeLessThan', n, 'less than', (a, b) => a < b);
  }
  toBeLessThanOrEqual(n: number | bigint): void {
    this.#compare('toBeLessThanOrEqual', n, 'less than or equal to', (a, b) => a <= b);
  }

  toContain(item: unknown): void {
    const a = this.#actual;
    let pass: boolean;
    if (typeof a === 'string') {
      pass = typeof item === 'string' && a.includes(item);
    } else if (a instanceof Set || a instanceof Map) {
      pass = a.has(item);
    } else if (typeof a === 'object' && a !== null && (Array.isArray(a) || isTyped(a))) {
      pass = Array.prototype.some.call(a, (x: unknown) => Object.is(x, item) || x === item);
    } else {
      throw new TypeError(`toContain() works on arrays, strings, Sets and Maps, not on ${describe(a)}`);
    }
    this.#settle(
      'toContain',
      pass,
      () =>
        `expected ${describe(a)} to contain ${describe(item)}${equalElement(a, item) ? ' (an element with equal contents is there, but not the same object: toContain compares with ===)' : ''}`,
      () => `expected ${describe(a)} not to contain ${describe(item)}`,
    );
  }

  toHaveLength(n: number): void {
    const a = this.#actual as { length?: unknown } | null | undefined;
    const len = a === null || a === undefined ? undefined : a.length;
    if (typeof len !== 'number')
      throw new TypeError(`toHaveLength(): ${describe(this.#actual)} has no length`);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw new TypeError(
        `toHaveLength() takes a length (an integer ≥ 0), got ${typeof n === 'number' ? n : describe(n)}`, // -1 is no errno here
      );
    this.#settle(
      'toHaveLength',
      len === n,
      () => `expected length ${n} but got ${len}: ${describe(this.#actual)}`,
      () => `expected a length other than ${n}`,
    );
  }

  /**
   * The function throws; with `expected`, an error whose message contains the string, matches the
   * RegExp, is an instance of the class (`toThrow(RangeError)`), or has the message of the error given.
   */
  toThrow(expected?: string | RegExp | (abstract new (...args: never[]) => unknown) | Error): void {
    const fn = this.#actual;
    if (typeof fn !== 'function')
      throw new TypeError(`toThrow() needs a function to call, got ${describe(fn)}`);
    if (
      expected !== undefined &&
      typeof expected !== 'string' &&
      typeof expected !== 'function' &&
      !(expected instanceof RegExp) &&
      !(expected instanceof Error)
    )
      throw new TypeError(
        `toThrow() takes a string, a RegExp, an error class or an error, got ${describe(expected)}`,
      );
    let threw = false;
    let thrown: unknown;
    let returned: unknown;
    try {
      returned = (fn as () => unknown)();
    } catch (e) {
      if (this.#hooks.isInternalError?.(e)) throw e;
      threw = true;
      thrown = e;
    }
    const message = (() => {
      try {
        return thrown instanceof Error ? thrown.message : String(thrown);
      } catch {
        return '';
      }
    })();
    // Against a class, the class of what was thrown is part of the answer.
    const thrownName = typeof expected === 'function' && thrown instanceof Error ? `${thrown.name} ` : '';
    let matches = true;
    let want = '';
    if (typeof expected === 'string') {
      matches = message.includes(expected);
      want = ` an error containing ${JSON.stringify(expected)}`;
    } else if (expected instanceof RegExp) {
      matches = expected.test(message);
      want = ` an error matching ${String(expected)}`;
    } else if (expected instanceof Error) {
      matches = message === expected.message;
      want = ` an error with the message ${JSON.stringify(expected.message)}`;
    } else if (typeof expected === 'function') {
      matches = thrown instanceof expected;
      want = ` a ${expected.name || 'error of that class'}`;
    }
    // An async function never throws: it returns a promise that rejects later, after this
    // expectation has failed and stopped the script. That rejection is this failure's, not news.
    const promise = !threw && isThenable(returned) && !this.#negated;
    if (promise) (returned as PromiseLike<unknown>).then(undefined, () => {});
    this.#settle(
      'toThrow',
      threw && matches,
      () =>
        threw
          ? `expected the function to throw${want} but it threw ${thrownName}${JSON.stringify(message)}`
          : promise
            ? `expected the function to throw${want} but it returned a promise (an async function rejects later instead of throwing: await it in a try/catch to check the error)`
            : `expected the function to throw${want} but it returned normally`,
      () => `expected the function not to throw${want} but it threw ${thrownName}${JSON.stringify(message)}`,
    );
  }

  /** The matchers that test one property of the value, worded "expected X to be <what>". */
  #be(matcher: string, pass: boolean, what: string): void {
    this.#settle(
      matcher,
      pass,
      () => `expected ${describe(this.#actual)} to be ${what}`,
      () => `expected ${describe(this.#actual)} not to be ${what}`,
    );
  }

  toBeNull(): void {
    this.#be('toBeNull', this.#actual === null, 'null');
  }

  toBeUndefined(): void {
    this.#be('toBeUndefined', this.#actual === undefined, 'undefined');
  }

  toBeDefined(): void {
    this.#settle(
      'toBeDefined',
      this.#actual !== undefined,
      () => 'expected a value other than undefined',
      () => `expected ${describe(this.#actual)} to be undefined`,
    );
  }

  /** A string that contains `expected`, or matches it when it is a RegExp. */
  toMatch(expected: string | RegExp): void {
    const a = this.#actual;
    if (typeof a !== 'string') throw new TypeError(`toMatch() works on strings, not on ${describe(a)}`);
    if (typeof expected !== 'string' && !(expected instanceof RegExp))
      throw new TypeError(`toMatch() takes a string or a RegExp, got ${describe(expected)}`);
    const pass = typeof expected === 'string' ? a.includes(expected) : expected.test(a);
    const what = typeof expected === 'string' ? JSON.stringify(expected) : String(expected);
    this.#settle(
      'toMatch',
      pass,
      () => `expected ${describe(a)} to match ${what}`,
      () => `expected ${describe(a)} not to match ${what}`,
    );
  }

  toBeInstanceOf(cls: abstract new (...args: never[]) => unknown): void {
    if (typeof cls !== 'function')
      throw new TypeError(`toBeInstanceOf() takes a class, got ${describe(cls)}`);
    this.#settle(
      'toBeInstanceOf',
      this.#actual instanceof cls,
      () => `expected ${describe(this.#actual)} to be an instance of ${cls.name}`,
      () => `expected ${describe(this.#actual)} not to be an instance of ${cls.name}`,
    );
  }

  toBeTruthy(): void {
    this.#be('toBeTruthy', !!this.#actual, 'truthy');
  }

  toBeFalsy(): void {
    this.#be('toBeFalsy', !this.#actual, 'falsy');
  }
}

/** The matchers and `not`, as a script may name them. */
const MEMBERS = new Set(Object.getOwnPropertyNames(Assertion.prototype).filter((n) => n !== 'constructor'));

/**
 * What a script gets from `expect()`: the assertion behind a proxy that answers a name it lacks
 * (a Jest matcher the lab has not, a typo) with an error naming the matchers there are, where the
 * engine would say "….toBeOne is not a function" about its own rewritten call.
 */
function guard(hooks: ExpectHooks, a: Assertion): Assertion {
  const guarded = new Proxy(a, {
    get(target, key) {
      if (typeof key === 'string' && !MEMBERS.has(key) && key !== 'then' && !(key in Object.prototype))
        throw new TypeError(
          `expect(…).${key} is not a matcher of the lab's expect; it has ${[...MEMBERS].filter((m) => m !== 'not').join(', ')} and .not`,
        );
      const v: unknown = Reflect.get(target, key, target);
      // Methods run on the assertion itself: its #private fields are not the proxy's.
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return hooks.freeze ? hooks.freeze(guarded) : guarded;
}

export type Matchers = Omit<Assertion, never>;

/** Build the script's `expect` for one run. */
export function createExpect(hooks: ExpectHooks): (actual: unknown) => Matchers {
  return function expect(actual: unknown): Matchers {
    return guard(hooks, new Assertion(actual, false, hooks));
  };
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as PromiseLike<unknown>).then === 'function'
  );
}
