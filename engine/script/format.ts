/**
 * Values as text for the console and for expectation messages, in the manner of Node's
 * util.inspect but smaller: numbers as written (no forced hex), strings quoted when nested,
 * objects and arrays JSON-ish, byte arrays as bytes, cycles and depth cut short.
 */
import { errnoName } from '../core/errno.ts';

/** Handles named by a number (handles.ts keys `d:3`, `g:0`, `t:12`): the trace keeps them as numbers. */
export const NUMBERED: Readonly<Record<string, string>> = { d: 'domain', g: 'group', t: 'gather' };
/** What a handle's key names. */
const HANDLE_KIND: Readonly<Record<string, string>> = { ...NUMBERED, v: 'device', i: 'iommu', b: 'bus' };

/**
 * Where a handle keeps its key (`d:3`, `v:nic0`), for messages. The handle table, not this
 * property, says what a handle is: a script can copy a symbol.
 */
export const HANDLE_KEY = Symbol('iommu-lab handle key');

/** A handle's key as text: `domain 3`, `device nic0`; an error pointer's (`e:-19`) as `ERR_PTR(-ENODEV)`. */
export function handleKeyText(key: string): string {
  if (key[0] === 'e') {
    const errno = Number(key.slice(2));
    return `ERR_PTR(${errnoName(errno) ?? errno})`;
  }
  return `${HANDLE_KIND[key[0]] ?? 'handle'} ${key.slice(2)}`;
}

/** `domain 3` for a handle, else undefined (expectation messages name handles, as pointers). */
export function handleName(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const key = (v as { [HANDLE_KEY]?: unknown })[HANDLE_KEY];
  return typeof key === 'string' ? handleKeyText(key) : undefined;
}

const MAX_DEPTH = 3;
const MAX_ITEMS = 100;
const MAX_BYTES = 64;
/** A line longer than this is broken into one entry per line. */
const BREAK_AT = 72;

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;

function isTypedArray(v: object): v is TypedArray {
  return TypedArrayProto.isPrototypeOf(v);
}

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function keyText(k: string | symbol): string {
  if (typeof k === 'symbol') return `[${k.toString()}]`;
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);
}

export function formatNumber(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

function className(o: object): string | undefined {
  try {
    const proto = Object.getPrototypeOf(o);
    if (proto === null) return '[Object: null prototype]';
    if (proto === Object.prototype) return undefined;
    const ctor = (proto as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === 'string' && ctor.name ? ctor.name : undefined;
  } catch {
    return undefined;
  }
}

/** Items on one line when short, else one per line, indented relative to the opening bracket's line. */
function join(open: string, items: string[], close: string): string {
  if (items.length === 0) return `${open}${close}`;
  const flat = `${open} ${items.join(', ')} ${close}`;
  if (flat.length <= BREAK_AT && !flat.includes('\n')) return flat;
  return `${open}\n${items.map((i) => '  ' + i.replace(/\n/g, '\n  ')).join(',\n')}\n${close}`;
}

/** Own enumerable properties, plus getters from class prototypes (handles expose their fields that way). */
export function entriesOf(o: object): [string | symbol, unknown][] {
  const out: [string | symbol, unknown][] = [];
  const seen = new Set<string | symbol>();
  for (const k of Reflect.ownKeys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, k);
    if (!d || !d.enumerable) continue;
    seen.add(k);
    out.push([k, 'value' in d ? d.value : readGetter(o, k)]);
  }
  for (let p = Object.getPrototypeOf(o); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Reflect.ownKeys(p)) {
      if (seen.has(k) || k === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (d?.get) {
        seen.add(k);
        out.push([k, readGetter(o, k)]);
      }
    }
  }
  return out;
}

function readGetter(o: object, k: string | symbol): unknown {
  try {
    return Reflect.get(o, k);
  } catch {
    return new GetterFailed();
  }
}

class GetterFailed {}

function bytes(a: Uint8Array | Uint8ClampedArray): string {
  const shown = Array.from(a.subarray(0, MAX_BYTES), (b) => b.toString(16).padStart(2, '0'));
  const more = a.length > MAX_BYTES ? ` … ${a.length - MAX_BYTES} more` : '';
  return `${className(a) ?? 'Uint8Array'}(${a.length}) <${shown.join(' ')}${more}>`;
}

/** How a number is written: as the script wrote it (console) or as the caller chooses (hex addresses). */
type NumberText = (n: number) => string;

function inner(v: unknown, depth: number, seen: Set<object>, num: NumberText): string {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return num(v);
    case 'bigint':
      return `${v}n`;
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'symbol':
      return v.toString();
    case 'function': {
      const name = (v as { name?: unknown }).name;
      return typeof name === 'string' && name ? `[Function: ${name}]` : '[Function (anonymous)]';
    }
  }
  if (v === null) return 'null';
  const o = v as object;
  if (o instanceof GetterFailed) return '[Getter: threw]';
  // An error pointer prints as Linux code writes one; a handle shows its fields (that is what it is for).
  const key = (o as { [HANDLE_KEY]?: unknown })[HANDLE_KEY];
  if (typeof key === 'string' && key[0] === 'e') return handleKeyText(key);
  if (seen.has(o)) return '[Circular]';
  if (o instanceof Error) return `${o.name}: ${o.message}`;
  if (o instanceof Date) return Number.isNaN(o.getTime()) ? 'Invalid Date' : o.toISOString();
  if (o instanceof RegExp) return String(o);
  if (isTypedArray(o)) {
    if (o instanceof Uint8Array || o instanceof Uint8ClampedArray) return bytes(o);
    const items = Array.from(o.subarray(0, MAX_ITEMS) as ArrayLike<number | bigint>, (x) =>
      typeof x === 'bigint' ? `${x}n` : num(x),
    );
    if (o.length > MAX_ITEMS) items.push(`… ${o.length - MAX_ITEMS} more`);
    return `${className(o)}(${o.length}) ${join('[', items, ']')}`;
  }
  const name = className(o);
  if (depth >= MAX_DEPTH) return Array.isArray(o) ? '[Array]' : `[${name ?? 'Object'}]`;
  seen.add(o);
  try {
    const next = (x: unknown) => inner(x, depth + 1, seen, num);
    if (Array.isArray(o)) {
      const items = o.slice(0, MAX_ITEMS).map(next);
      if (o.length > MAX_ITEMS) items.push(`… ${o.length - MAX_ITEMS} more`);
      return join('[', items, ']');
    }
    if (o instanceof Map) {
      const items = [...o].slice(0, MAX_ITEMS).map(([k, x]) => `${next(k)} => ${next(x)}`);
      return `Map(${o.size}) ${join('{', items, '}')}`;
    }
    if (o instanceof Set) {
      return `Set(${o.size}) ${join('{', [...o].slice(0, MAX_ITEMS).map(next), '}')}`;
    }
    const items = entriesOf(o)
      .slice(0, MAX_ITEMS)
      .map(([k, x]) => `${keyText(k)}: ${next(x)}`);
    const body = join('{', items, '}');
    return name ? `${name} ${body}` : body;
  } finally {
    seen.delete(o);
  }
}

/** A value as it appears inside other output: strings quoted. */
export function formatValue(v: unknown, num: NumberText = formatNumber): string {
  try {
    return inner(v, 0, new Set(), num);
  } catch {
    return '[unprintable]';
  }
}

/** Console arguments → one line of text: strings as they are, `%s %d %i %f %o %O %j %%` substituted. */
export function formatArgs(args: readonly unknown[]): string {
  const parts: string[] = [];
  let rest = args;
  if (typeof args[0] === 'string' && args.length > 1 && /%[sdifoOj%]/.test(args[0])) {
    let i = 1;
    const first = args[0].replace(/%([sdifoOj%])/g, (m, c: string) => {
      if (c === '%') return '%';
      if (i >= args.length) return m;
      const a = args[i++];
      switch (c) {
        case 's':
          return typeof a === 'string' ? a : formatValue(a);
        case 'd':
        case 'i': {
          const n = typeof a === 'bigint' ? a : Number(a);
          return typeof n === 'bigint' ? `${n}n` : formatNumber(c === 'i' ? Math.trunc(n) : n);
        }
        case 'f':
          return formatNumber(Number(a));
        case 'j':
          try {
            return JSON.stringify(a);
          } catch {
            return '[Circular]';
          }
        default:
          return formatValue(a);
      }
    });
    parts.push(first);
    rest = args.slice(i);
  } else if (args.length > 0) {
    parts.push(typeof args[0] === 'string' ? args[0] : formatValue(args[0]));
    rest = args.slice(1);
  }
  for (const a of rest) parts.push(typeof a === 'string' ? a : formatValue(a));
  return parts.join(' ');
}
