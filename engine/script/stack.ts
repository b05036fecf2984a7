/**
 * Find where in the user's files an error (or a call) happened, from a V8 stack trace: the first
 * frame whose file is one of the run's sourceURLs, mapped back through the compiler's positions.
 */

export interface UserPosition {
  file: string;
  line: number;
  column: number;
}

/** Resolves a frame `url:line:column` to a user position, or undefined for frames outside the run. */
export type FrameResolver = (url: string, line: number, column: number) => UserPosition | undefined;

const FRAME = /([^\s()]+):(\d+):(\d+)\)?\s*$/;

/**
 * The first user frame of `stack` (the innermost call made from a user's file). Frames of the
 * constructors in `errorClasses` are passed over: a script's own error class (`class MyErr extends
 * Error`) builds its stack inside its constructor, and the place to show is where it was thrown.
 */
export function userFrame(
  stack: unknown,
  resolve: FrameResolver,
  errorClasses: readonly string[] = [],
): UserPosition | undefined {
  if (typeof stack !== 'string') return undefined;
  for (const text of stack.split('\n')) {
    if (!/^\s*at /.test(text)) continue;
    const ctor = /^\s*at new ([\w$]+) /.exec(text);
    if (ctor && errorClasses.includes(ctor[1])) continue;
    const m = FRAME.exec(text);
    if (!m) continue;
    const pos = resolve(m[1], Number(m[2]), Number(m[3]));
    if (pos) return pos;
  }
  return undefined;
}

/** The stack of `e`, read without tripping over odd throwables (a script may throw anything). */
export function stackOf(e: unknown): string | undefined {
  try {
    if (typeof e === 'object' && e !== null && 'stack' in e) {
      const s = (e as { stack?: unknown }).stack;
      return typeof s === 'string' ? s : undefined;
    }
  } catch {
    // a throwing getter: no position
  }
  return undefined;
}

/**
 * The names of the classes between `e` and the built-in error it extends (its own class first):
 * `MyErr` for a script's `class MyErr extends Error`, nothing for a built-in error. Prototypes, not
 * constructors, are compared: a sandbox may give scripts a constructor of its own over the same
 * Error.prototype.
 */
export function errorSubclasses(e: unknown): string[] {
  const names: string[] = [];
  try {
    if (!(e instanceof Error)) return names;
    for (
      let p = Object.getPrototypeOf(e);
      p && !BUILTIN_ERROR_PROTOTYPES.includes(p);
      p = Object.getPrototypeOf(p)
    ) {
      const ctor = Object.prototype.hasOwnProperty.call(p, 'constructor') ? p.constructor : undefined;
      if (typeof ctor === 'function' && ctor.name) names.push(ctor.name);
    }
  } catch {
    // an odd prototype chain (a proxy, a throwing getter): no names
  }
  return names;
}

const BUILTIN_ERROR_PROTOTYPES: readonly object[] = [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
].map((c) => c.prototype);
