/**
 * A generic deep copy of an engine state graph, for time-travel checkpoints.
 *
 * Rules, in the order they are applied to each value:
 * - primitives are returned as they are; functions are shared (ops tables hold them);
 * - a value for which `skip(key, value)` returns true is shared (not copied);
 * - an object whose `[STATIC]` property is true (own or inherited) is shared: mark a class's
 *   prototype with it when no instance ever changes after construction, or when, like the Trace,
 *   it lives outside time travel;
 * - a frozen object is shared: freezing is taken as a promise that it is immutable all the way
 *   down (freeze deeply or not at all);
 * - ArrayBuffers are copied once each; typed arrays and DataViews are rebuilt over the copy of
 *   their buffer, so views that shared a buffer still share one;
 * - Maps, Sets, arrays and Dates are copied with their contents; their prototype is kept;
 * - every other object is `Object.create(its prototype)` plus copies of its own properties
 *   (symbols, getters and non-default attributes included), so class methods keep working.
 * Shared references and cycles are preserved (each object is copied once).
 *
 * Not supported, by design of the engine state: `#private` class fields (use TypeScript's
 * `private`), closures holding state, WeakMap/WeakSet/WeakRef/Promise (they throw). Arrays are
 * copied as dense arrays of their elements (named properties on an array are not copied).
 */

/** Mark an object (or a class prototype) as shared by all clones. */
export const STATIC: unique symbol = Symbol('iommu-lab.static');

export type CloneSkip = (key: PropertyKey | undefined, value: object) => boolean;

/** How a buffer is copied (default: `buf.slice(0)`); checkpoints pass one that skips zero pages. */
export type BufferCopy = (buf: ArrayBufferLike) => ArrayBufferLike;

type AnyView = ArrayBufferView & {
  constructor: new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayBufferView;
};

export function deepClone<T>(root: T, skip?: CloneSkip, copy?: BufferCopy): T {
  const memo = new Map<object, object>();
  /** Objects created empty, waiting for their contents: pairs of (source, copy). */
  const pending: object[] = [];

  function copyBuffer(buf: ArrayBufferLike): ArrayBufferLike {
    let c = memo.get(buf) as ArrayBufferLike | undefined;
    if (c === undefined) {
      c = copy === undefined ? buf.slice(0) : copy(buf);
      memo.set(buf, c);
    }
    return c;
  }

  function shell(key: PropertyKey | undefined, v: unknown): unknown {
    if (typeof v !== 'object' || v === null) return v;
    const seen = memo.get(v);
    if (seen !== undefined) return seen;
    if (skip !== undefined && skip(key, v)) return v;
    const o = v as Record<PropertyKey, unknown>;
    if (o[STATIC] === true || Object.isFrozen(o)) return v;

    let c: object;
    if (ArrayBuffer.isView(v)) {
      const view = v as AnyView;
      const buf = copyBuffer(view.buffer);
      const length =
        view instanceof DataView ? view.byteLength : (view as unknown as { length: number }).length;
      c = new view.constructor(buf, view.byteOffset, length);
      memo.set(v, c);
      return c;
    }
    if (v instanceof ArrayBuffer) return copyBuffer(v);
    if (v instanceof Date) {
      c = new Date(v.getTime());
    } else if (Array.isArray(v)) {
      c = new Array(v.length);
    } else if (v instanceof Map) {
      c = new Map();
    } else if (v instanceof Set) {
      c = new Set();
    } else if (v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef || v instanceof Promise) {
      throw new TypeError(`deepClone: cannot copy a ${v.constructor.name} (at key ${String(key)})`);
    } else {
      c = Object.create(Object.getPrototypeOf(v));
    }
    const proto = Object.getPrototypeOf(v);
    if (Object.getPrototypeOf(c) !== proto) Object.setPrototypeOf(c, proto);
    memo.set(v, c);
    pending.push(v, c);
    return c;
  }

  function fill(src: object, dst: object): void {
    if (Array.isArray(src)) {
      const d = dst as unknown[];
      for (let i = 0; i < src.length; i++) d[i] = shell(i, src[i]);
      return copyExtensibility(src, dst);
    } else if (src instanceof Map) {
      const d = dst as Map<unknown, unknown>;
      for (const [k, val] of src) d.set(shell(undefined, k), shell(k as PropertyKey, val));
    } else if (src instanceof Set) {
      const d = dst as Set<unknown>;
      for (const val of src) d.add(shell(undefined, val));
    }
    for (const k of Reflect.ownKeys(src)) {
      const desc = Reflect.getOwnPropertyDescriptor(src, k)!;
      if ('value' in desc) {
        const value = shell(k, desc.value);
        if (desc.writable && desc.enumerable && desc.configurable)
          (dst as Record<PropertyKey, unknown>)[k] = value;
        else Object.defineProperty(dst, k, { ...desc, value });
      } else {
        Object.defineProperty(dst, k, desc);
      }
    }
    copyExtensibility(src, dst);
  }

  const out = shell(undefined, root);
  for (let i = 0; i < pending.length; i += 2) fill(pending[i], pending[i + 1]);
  return out as T;
}

function copyExtensibility(src: object, dst: object): void {
  if (Object.isExtensible(src)) return;
  if (Object.isSealed(src)) Object.seal(dst);
  else Object.preventExtensions(dst);
}

/**
 * A rough size of a state graph in bytes, for checkpoint budgets: typed-array buffers count
 * their length, other objects a flat estimate per property. Shared and static objects count
 * once / not at all, as `deepClone` would copy them.
 */
export function estimateBytes(root: unknown, skip?: CloneSkip): number {
  const seen = new Set<object>();
  const stack: [PropertyKey | undefined, unknown][] = [[undefined, root]];
  let bytes = 0;
  while (stack.length) {
    const [key, v] = stack.pop()!;
    if (typeof v === 'string') {
      bytes += 16 + v.length;
      continue;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (skip !== undefined && skip(key, v)) continue;
    if ((v as Record<PropertyKey, unknown>)[STATIC] === true || Object.isFrozen(v)) continue;
    if (ArrayBuffer.isView(v)) {
      if (!seen.has(v.buffer)) {
        seen.add(v.buffer);
        bytes += v.buffer.byteLength + 64;
      }
      continue;
    }
    if (v instanceof ArrayBuffer) {
      bytes += v.byteLength + 64;
      continue;
    }
    bytes += 32;
    if (v instanceof Map) {
      for (const [k, val] of v) {
        bytes += 24;
        stack.push([undefined, k], [k as PropertyKey, val]);
      }
    } else if (v instanceof Set) {
      for (const val of v) {
        bytes += 16;
        stack.push([undefined, val]);
      }
    } else if (Array.isArray(v)) {
      bytes += 8 * v.length;
      for (let i = 0; i < v.length; i++) stack.push([i, v[i]]);
      continue;
    }
    for (const k of Object.keys(v)) {
      bytes += 8;
      stack.push([k, (v as Record<string, unknown>)[k]]);
    }
  }
  return bytes;
}
