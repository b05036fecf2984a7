/**
 * Reading JSON text the way a user needs it explained: where a syntax error is (line and column),
 * whether the text simply stops early (a truncated file), how deep it nests, and how many bytes it
 * takes as UTF-8. Independent of the JavaScript engine's own JSON.parse messages, which differ between
 * V8 versions and quote the text back.
 */
import { formatPath, type PathSegment } from './json-schema.ts';

/** UTF-8 length of a string, without encoding it. Lone surrogates count as U+FFFD (3 bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** `17.3 MiB`, `512 KiB`, `80 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${n} byte${n === 1 ? '' : 's'}`;
}

export interface JsonSyntaxProblem {
  /** Offset of the problem in the text. */
  offset: number;
  line: number;
  column: number;
  reason: string;
  /** The text ended where more was needed: a truncated file rather than a wrong character. */
  atEnd: boolean;
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  return { line, column: offset - lineStart + 1 };
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
/** Characters a JSON string holds as they are (sticky: matched from lastIndex on). */
// eslint-disable-next-line no-control-regex -- a JSON string may not hold U+0000–U+001F unescaped
const PLAIN = /[^"\\\x00-\x1f]*/y;

/**
 * The first syntax error of `text` as JSON (RFC 8259), or null when it is valid. Iterative, so no
 * nesting depth can overflow the stack. With `duplicateKeys`, a field name given twice in one
 * object is a problem too: JSON.parse keeps the last silently, and what the first held would be lost.
 */
export function findJsonSyntaxError(text: string, duplicateKeys = false): JsonSyntaxProblem | null {
  const n = text.length;
  const stack: number[] = []; // '{' or '[' char codes
  // Per open object (duplicateKeys only): each field name and where it was first given.
  const names: Map<string, number>[] = [];
  type State = 'value' | 'value-or-close' | 'key-or-close' | 'key' | 'colon' | 'comma-or-close' | 'end';
  let st: State = 'value';
  let i = 0;

  const problem = (offset: number, reason: string, atEnd = false): JsonSyntaxProblem => ({
    offset,
    ...lineColumn(text, offset),
    reason,
    atEnd,
  });
  const after = (): State => (stack.length ? 'comma-or-close' : 'end');
  const describe = (c: string): string =>
    c === '\n'
      ? 'a line break'
      : /[\x21-\x7e]/.test(c)
        ? `'${c}'`
        : `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

  /** Scan a string starting at the quote; returns the offset after it, or a problem. */
  const scanString = (start: number): number | JsonSyntaxProblem => {
    let j = start + 1;
    for (;;) {
      PLAIN.lastIndex = j; // a run of ordinary characters in one step: script sources are long
      PLAIN.test(text);
      j = PLAIN.lastIndex;
      if (j >= n) return problem(n, 'it ends inside a string', true);
      const c = text.charCodeAt(j);
      if (c === 0x22) return j + 1;
      if (c < 0x20)
        return problem(j, `${describe(text[j]!)} inside a string (write it as an escape such as \\n)`);
      if (c === 0x5c) {
        if (j + 1 >= n) return problem(n, 'it ends inside a string', true);
        const e = text[j + 1]!;
        if (e === 'u') {
          for (let k = 2; k < 6; k++) {
            if (j + k >= n) return problem(n, 'it ends inside a string', true);
            if (!/[0-9a-fA-F]/.test(text[j + k]!)) return problem(j, 'a \\u escape needs four hex digits');
          }
          j += 6;
        } else if (ESCAPES.has(e)) j += 2;
        else return problem(j, `a backslash before ${describe(e)} is not an escape JSON knows`);
      } else j++;
    }
  };

  const scanNumber = (start: number): number | JsonSyntaxProblem => {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = start;
    const r = m.exec(text);
    const end = r && r[0].length > 0 && r[0] !== '-' ? start + r[0].length : start;
    if (end === start || /[.eE]/.test(text[end] ?? '')) {
      // A number cut off by the end of the text (`-`, `1.`, `2e`) is truncation, not a typo.
      const partial =
        n - start < 400 && /^-?(?:0|[1-9]\d*)?(?:\.\d*)?(?:[eE][+-]?\d*)?$/.test(text.slice(start));
      if (partial) return problem(n, 'it ends inside a number', true);
      return problem(start, 'a malformed number');
    }
    return end;
  };

  while (true) {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
    if (i >= n) {
      if (st === 'end') return null;
      const what =
        st === 'colon'
          ? "':' after a field name"
          : st === 'comma-or-close'
            ? `',' or '${stack[stack.length - 1] === 0x7b ? '}' : ']'}'`
            : st === 'key' || st === 'key-or-close'
              ? 'a field name'
              : 'a value';
      return problem(n, i === 0 ? 'the text is empty' : `it ends where ${what} should follow`, i > 0);
    }
    const c = text[i]!;
    switch (st) {
      case 'value':
      case 'value-or-close': {
        if (st === 'value-or-close' && c === ']') {
          stack.pop();
          i++;
          st = after();
          break;
        }
        if (c === '{') {
          stack.push(0x7b);
          if (duplicateKeys) names.push(new Map());
          i++;
          st = 'key-or-close';
        } else if (c === '[') {
          stack.push(0x5b);
          i++;
          st = 'value-or-close';
        } else if (c === '"') {
          const r = scanString(i);
          if (typeof r !== 'number') return r;
          i = r;
          st = after();
        } else if (c === '-' || (c >= '0' && c <= '9')) {
          const r = scanNumber(i);
          if (typeof r !== 'number') return r;
          i = r;
          st = after();
        } else {
          const lit = ['true', 'false', 'null'].find((l) => l[0] === c);
          if (lit) {
            const got = text.slice(i, i + lit.length);
            if (got === lit) {
              i += lit.length;
              st = after();
              break;
            }
            if (lit.startsWith(got) && i + got.length >= n) return problem(n, `it ends inside ${lit}`, true);
          }
          return problem(
            i,
            `${describe(c)} where a value should be (a value is an object, array, string, number, true, false or null)`,
          );
        }
        break;
      }
      case 'key-or-close':
      case 'key': {
        if (st === 'key-or-close' && c === '}') {
          stack.pop();
          names.pop();
          i++;
          st = after();
        } else if (c === '"') {
          const r = scanString(i);
          if (typeof r !== 'number') return r;
          if (duplicateKeys) {
            const seen = names[names.length - 1]!;
            const name = JSON.parse(text.slice(i, r)) as string;
            const first = seen.get(name);
            if (first !== undefined)
              return problem(
                i,
                `the field ${JSON.stringify(name)} is given twice in one object (first at line ${lineColumn(text, first).line}); only one can be kept`,
              );
            seen.set(name, i);
          }
          i = r;
          st = 'colon';
        } else
          return problem(
            i,
            `${describe(c)} where a field name in double quotes should be${st === 'key' ? ' (a comma before a closing brace is not allowed)' : ''}`,
          );
        break;
      }
      case 'colon':
        if (c !== ':') return problem(i, `${describe(c)} where ':' should follow a field name`);
        i++;
        st = 'value';
        break;
      case 'comma-or-close': {
        const close = stack[stack.length - 1] === 0x7b ? '}' : ']';
        if (c === ',') {
          i++;
          st = close === '}' ? 'key' : 'value';
        } else if (c === close) {
          stack.pop();
          if (close === '}') names.pop();
          i++;
          st = after();
        } else return problem(i, `${describe(c)} where ',' or '${close}' should be`);
        break;
      }
      case 'end':
        return problem(i, `${describe(c)} after the end of the JSON value`);
    }
  }
}

/**
 * The first place a parsed JSON value nests deeper than `max` levels, or holds a number JSON.parse
 * overflowed to ±Infinity (`1e999`), which no JSON can write back; null when there is none.
 * Iterative: JSON.parse accepts any depth, but code that walks the value recursively would not.
 */
export function findJsonHazard(
  value: unknown,
  max: number,
): { kind: 'too-deep' | 'overflow'; path: string } | null {
  interface Node {
    v: unknown;
    depth: number;
    parent: Node | null;
    key: PathSegment | null;
  }
  const pathOf = (node: Node): string => {
    const path: PathSegment[] = [];
    for (let p: Node | null = node; p && p.key !== null; p = p.parent) path.unshift(p.key);
    return path.length > 8 ? `${formatPath(path.slice(0, 8))}…` : formatPath(path);
  };
  const stack: Node[] = [{ v: value, depth: 0, parent: null, key: null }];
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node.v === 'number' && !Number.isFinite(node.v))
      return { kind: 'overflow', path: pathOf(node) };
    if (typeof node.v !== 'object' || node.v === null) continue;
    if (node.depth >= max) return { kind: 'too-deep', path: pathOf(node) };
    if (Array.isArray(node.v)) {
      for (let i = node.v.length - 1; i >= 0; i--)
        stack.push({ v: node.v[i], depth: node.depth + 1, parent: node, key: i });
    } else {
      const o = node.v as Record<string, unknown>;
      const keys = Object.keys(o);
      for (let i = keys.length - 1; i >= 0; i--)
        stack.push({ v: o[keys[i]!], depth: node.depth + 1, parent: node, key: keys[i]! });
    }
  }
  return null;
}
