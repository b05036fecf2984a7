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

/** The first user frame of `stack` (the innermost call made from a user's file). */
export function userFrame(stack: unknown, resolve: FrameResolver): UserPosition | undefined {
  if (typeof stack !== 'string') return undefined;
  for (const text of stack.split('\n')) {
    if (!/^\s*at /.test(text)) continue;
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
