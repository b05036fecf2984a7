/**
 * The recorded calls of a run: every step's API entry and arguments. Replaying the log on a fresh
 * lab rebuilds the state at any step without running the script again (time travel).
 *
 * The log is columnar, so a million steps cost a few tens of megabytes and no object each: a
 * 16-bit entry number per step, a tag byte per argument, and argument values packed into 16-bit
 * units with the trace's codec (arg-codec.ts: 0, 2, 4 or 8 bytes a number). A step records as many
 * arguments as its entry reads (`API_ARITY`). Handles and error pointers are recorded as their
 * slot in the recording lab's handle table, and replayed through the slot's stable key. The rare
 * other values (strings, plain objects and arrays, byte arrays, owner cookies) go to a side table
 * in the structured form below.
 */
import { ARG_UNITS, getArg, putArg } from '../trace/arg-codec.ts';
import { API_ARITY, API_COOKIES, MAX_API_ARGS } from './api.ts';
import type { HandleTable } from './handles.ts';

/** A value kept in the side table; handles inside it by key, cookies by identity number. */
export type Encoded =
  | number
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | { $h: string }
  | { $e: number }
  | { $o: number }
  /** A frozen array or object, or one closed to new properties: a replay passes it so too. */
  | { $closed: Encoded; frozen: boolean }
  /** A bigint, symbol or function, by its text (a replay passes a stand-in with the same text). */
  | { $x: 'bigint' | 'symbol' | 'function'; t: string }
  | Encoded[]
  | { [k: string]: Encoded };

// An argument's tag: what it is (high bits) and the codec's code for its number (low 2 bits).
const KIND_SHIFT = 2;
const CODE_MASK = 3;
/** A number. */
const K_NUM = 0;
/** A handle or error pointer: the number is its slot. */
const K_HANDLE = 1;
/** Anything else: the number indexes the side table. */
const K_SIDE = 2;
const K_UNDEFINED = 3;
const K_NULL = 4;
const K_TRUE = 5;
const K_FALSE = 6;
/** −0, which the codec stores as 0. */
const K_NEG_ZERO = 7;

/** A mark every MARK_EVERY steps: where its tags and units start, for random access. */
const MARK_SHIFT = 6;
const MARK_MASK = (1 << MARK_SHIFT) - 1;
/** Room one step may need: every argument a float64. */
const MAX_STEP_UNITS = MAX_API_ARGS * 4;
/**
 * Steps per block. The log is a list of blocks, so it grows without copying what it holds (a
 * doubling array copies everything again at each doubling, into fresh memory); only the first
 * block starts small and doubles, for the many short runs.
 */
const BLOCK_SHIFT = 16;
const BLOCK_STEPS = 1 << BLOCK_SHIFT;
const BLOCK_MASK = BLOCK_STEPS - 1;
const FIRST_STEPS = 1024;

/** Steps [first, first + BLOCK_STEPS): their entries, tags, units, and marks into those. */
class Block {
  tagFill = 0;
  unitFill = 0;
  constructor(
    public fns: Uint16Array,
    public tags: Uint8Array,
    public units: Uint16Array,
    /** Per MARK_EVERY steps: tag and unit index (in this block) of the step starting the group. */
    public marks: Uint32Array,
  ) {}
}

/** Full blocks of released logs, for the next log of this process that fills one (see Trace.release). */
const released: Block[] = [];
/** About 1.3 MiB each. */
const RELEASED_MAX = 64;

/** A log's first block: small, doubled until it holds BLOCK_STEPS (most labs are short). */
function firstBlock(): Block {
  return new Block(
    new Uint16Array(FIRST_STEPS),
    new Uint8Array(FIRST_STEPS * 5),
    new Uint16Array(FIRST_STEPS * 10),
    new Uint32Array((FIRST_STEPS >>> MARK_SHIFT) * 2),
  );
}

/** What a replay turns logged handles and side values back into (the replaying lab). */
export interface ArgResolver {
  /** The replay's value for the handle the recording lab had in `slot` under `key`. */
  slot(slot: number, key: string): unknown;
  /** The value a side-table handle key (`d:3`) or cookie key (`o:0`) stands for. */
  key(key: string): unknown;
}

export class CallLog {
  private readonly blocks: Block[] = [];
  /** The block being written (the last one). */
  private last: Block = firstBlock();
  private count = 0;
  private readonly side: Encoded[] = [];
  private readonly tokens = new WeakMap<object, number>();
  /** Symbols given as owner cookies (a registered symbol cannot be a WeakMap key). */
  private readonly symbolTokens = new Map<symbol, number>();
  private nextToken = 0;
  // Read cursor: the step `read` decodes next without a search, and where its arguments start.
  private rStep = -1;
  private rTag = 0;
  private rUnit = 0;

  constructor(private readonly handles: HandleTable) {
    this.blocks.push(this.last);
  }

  /** Steps recorded. */
  get length(): number {
    return this.count;
  }

  /** Bytes held by the columns (the side table estimated). */
  bytes(): number {
    let n = this.side.length * 64;
    for (const b of this.blocks)
      n += b.fns.byteLength + b.tags.byteLength + b.units.byteLength + b.marks.byteLength + 64;
    return n;
  }

  /**
   * The lab is done with this log: its full blocks go to the next log of this process that fills
   * one (no fresh memory to touch), and this log is empty.
   */
  release(): void {
    for (const b of this.blocks)
      if (b.fns.length === BLOCK_STEPS && released.length < RELEASED_MAX) released.push(b);
    this.last = firstBlock();
    this.blocks.length = 0;
    this.blocks.push(this.last);
    this.count = 0;
    this.side.length = 0;
    this.rStep = -1;
  }

  /** Record one step: API entry `fn` and the arguments it reads. */
  record(fn: number, a0: unknown, a1: unknown, a2: unknown, a3: unknown, a4: unknown, a5: unknown): void {
    const i = this.count;
    let b = this.last;
    let j = i & BLOCK_MASK;
    if (j === b.fns.length || (j === 0 && i !== 0)) b = this.grow();
    j = i & BLOCK_MASK;
    if (b.tagFill + MAX_API_ARGS > b.tags.length)
      b.tags = grown(b.tags, b.tags.length + (b.tags.length >>> 1));
    if (b.unitFill + MAX_STEP_UNITS > b.units.length)
      b.units = grown(b.units, b.units.length + (b.units.length >>> 1));
    if ((j & MARK_MASK) === 0) {
      const m = (j >>> MARK_SHIFT) * 2;
      b.marks[m] = b.tagFill;
      b.marks[m + 1] = b.unitFill;
    }
    b.fns[j] = fn;
    this.count = i + 1;
    const n = API_ARITY[fn];
    const c = API_COOKIES[fn];
    const tagFill = b.tagFill;
    const unitFill = b.unitFill;
    const side = this.side.length;
    try {
      if (n > 0) this.put(b, a0, c & 1);
      if (n > 1) this.put(b, a1, c & 2);
      if (n > 2) this.put(b, a2, c & 4);
      if (n > 3) this.put(b, a3, c & 8);
      if (n > 4) this.put(b, a4, c & 16);
      if (n > 5) this.put(b, a5, c & 32);
    } catch (e) {
      // Reading an argument threw (a getter, a proxy): the call never happens, so neither does its
      // step. The log goes back to what it was, a block opened for it included.
      this.count = i;
      b.tagFill = tagFill;
      b.unitFill = unitFill;
      this.side.length = side;
      if (j === 0 && i !== 0 && this.blocks.length > 1) {
        this.blocks.pop();
        this.last = this.blocks[this.blocks.length - 1];
      }
      throw e;
    }
  }

  /**
   * Room for the next step: the first block doubles until it holds BLOCK_STEPS; after that each
   * full block is trimmed and a new one opened, its arenas sized from the last one's use.
   */
  private grow(): Block {
    const b = this.last;
    if (b.fns.length < BLOCK_STEPS) {
      const steps = b.fns.length * 2;
      b.fns = grown(b.fns, steps);
      b.marks = grown(b.marks, (steps >>> MARK_SHIFT) * 2);
      return b;
    }
    if (b.tags.length - b.tagFill > b.tags.length >>> 3) b.tags = b.tags.slice(0, b.tagFill);
    if (b.units.length - b.unitFill > b.units.length >>> 3) b.units = b.units.slice(0, b.unitFill);
    const tags = Math.ceil(b.tagFill * 1.03) + 64 * MAX_API_ARGS;
    const units = Math.ceil(b.unitFill * 1.03) + 64 * MAX_STEP_UNITS;
    let next = released.pop();
    if (next) {
      next.tagFill = next.unitFill = 0;
      // Its arenas fit, near enough: record grows them if not (new ones would be fresh memory).
      if (next.tags.length < tags >>> 1) next.tags = new Uint8Array(tags);
      if (next.units.length < units >>> 1) next.units = new Uint16Array(units);
    } else
      next = new Block(
        new Uint16Array(BLOCK_STEPS),
        new Uint8Array(tags),
        new Uint16Array(units),
        new Uint32Array((BLOCK_STEPS >>> MARK_SHIFT) * 2),
      );
    this.blocks.push(next);
    this.last = next;
    return next;
  }

  private put(b: Block, v: unknown, cookie: number): void {
    let kind: number;
    let num = 0;
    if (typeof v === 'number') {
      kind = v === 0 && 1 / v < 0 ? K_NEG_ZERO : K_NUM;
      num = v;
    } else if (v === undefined) {
      kind = K_UNDEFINED;
    } else if (v === null) {
      kind = K_NULL;
    } else if (v === true) {
      kind = K_TRUE;
    } else if (v === false) {
      kind = K_FALSE;
    } else {
      const slot = this.handles.slotOf(v);
      if (slot >= 0) {
        kind = K_HANDLE;
        num = slot;
      } else {
        kind = K_SIDE;
        num = this.side.length;
        this.side.push(
          cookie && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')
            ? this.token(v)
            : this.encode(v, 0),
        );
      }
    }
    const code = kind === K_NEG_ZERO ? 0 : putArg(b.units, b.unitFill, num);
    b.unitFill += ARG_UNITS[code];
    b.tags[b.tagFill++] = (kind << KIND_SHIFT) | code;
  }

  /** The structured form of a value that is not a number, boolean, null, undefined or top-level handle. */
  private encode(v: unknown, depth: number): Encoded {
    if (
      v === null ||
      v === undefined ||
      typeof v === 'number' ||
      typeof v === 'string' ||
      typeof v === 'boolean'
    )
      return v;
    // A value the API refuses: kept so that the replay is refused alike, and traced alike.
    if (typeof v === 'bigint' || typeof v === 'function') return { $x: typeof v, t: String(v) };
    if (typeof v === 'symbol') return { $x: 'symbol', t: v.description ?? '' };
    if (typeof v !== 'object') return String(v);
    const slot = this.handles.slotOf(v);
    if (slot >= 0) {
      const errno = this.handles.errnoOf(slot);
      return errno ? { $e: errno } : { $h: this.handles.keyOf(slot) };
    }
    if (v instanceof Uint8Array) return v.slice();
    if (depth > 8) return null;
    let out: Encoded;
    if (Array.isArray(v)) out = v.map((x) => this.encode(x, depth + 1));
    else {
      // Any other object is data the call reads by property (owner cookies, known by identity,
      // are put() apart): a class instance or a null-prototype object is kept as the plain object
      // the call sees, getters on its prototypes read once here.
      const o: Record<string, Encoded> = {};
      for (const k of readable_keys(v)) o[k] = this.encode((v as Record<string, unknown>)[k], depth + 1);
      out = o;
    }
    // A call that writes into its arguments (dma_map_sg) may be refused them: the replay must be too.
    return Object.isExtensible(v) ? out : { $closed: out, frozen: Object.isFrozen(v) };
  }

  private token(v: object | symbol): Encoded {
    let t = typeof v === 'symbol' ? this.symbolTokens.get(v) : this.tokens.get(v);
    if (t === undefined) {
      t = this.nextToken++;
      if (typeof v === 'symbol') this.symbolTokens.set(v, t);
      else this.tokens.set(v, t);
    }
    return { $o: t };
  }

  /** The API entry of step `i` (0-based). */
  fnAt(i: number): number {
    return this.blocks[i >>> BLOCK_SHIFT].fns[i & BLOCK_MASK];
  }

  /**
   * The arguments of step `i` for a replay, in `out[0..MAX_API_ARGS)` (undefined past the entry's
   * own), through `resolver`; returns the entry. Side values are rebuilt each time, so a call that
   * writes into its arguments (dma_map_sg) never changes the log. Reading steps in order is fastest.
   */
  read(i: number, out: unknown[], resolver: ArgResolver): number {
    if (!(i >= 0 && i < this.count))
      throw new RangeError(`call log step ${i} out of range 0..${this.count - 1}`);
    if (i !== this.rStep || (i & BLOCK_MASK) === 0) this.seekTo(i);
    const b = this.blocks[i >>> BLOCK_SHIFT];
    const fn = b.fns[i & BLOCK_MASK];
    const n = API_ARITY[fn];
    let t = this.rTag;
    let u = this.rUnit;
    for (let k = 0; k < MAX_API_ARGS; k++) {
      if (k >= n) {
        out[k] = undefined;
        continue;
      }
      const tag = b.tags[t++];
      const code = tag & CODE_MASK;
      const num = getArg(b.units, u, code);
      u += ARG_UNITS[code];
      out[k] = this.value(tag >>> KIND_SHIFT, num, resolver);
    }
    this.rStep = i + 1;
    this.rTag = t;
    this.rUnit = u;
    return fn;
  }

  /** Step `i`'s entry and arguments in the structured form (for tests and debugging). */
  entry(i: number): { fn: number; args: Encoded[] } {
    const out: unknown[] = [];
    const fn = this.read(i, out, {
      slot: (slot, key) => {
        const errno = this.handles.errnoOf(slot);
        return errno ? { $e: errno } : { $h: key };
      },
      key: (key) =>
        key[0] === 'e'
          ? { $e: Number(key.slice(2)) }
          : key[0] === 'o'
            ? { $o: Number(key.slice(2)) }
            : { $h: key },
    });
    return { fn, args: out.slice(0, API_ARITY[fn]) as Encoded[] };
  }

  private value(kind: number, num: number, resolver: ArgResolver): unknown {
    switch (kind) {
      case K_NUM:
        return num;
      case K_HANDLE:
        return resolver.slot(num, this.handles.keyOf(num));
      case K_SIDE:
        return decode(this.side[num], resolver);
      case K_UNDEFINED:
        return undefined;
      case K_NULL:
        return null;
      case K_TRUE:
        return true;
      case K_FALSE:
        return false;
      default:
        return -0;
    }
  }

  /** Put the read cursor at step `i`: from the mark at or before it, skipping whole steps. */
  private seekTo(i: number): void {
    const b = this.blocks[i >>> BLOCK_SHIFT];
    const j = i & BLOCK_MASK;
    const m = j >>> MARK_SHIFT;
    let t = b.marks[m * 2];
    let u = b.marks[m * 2 + 1];
    for (let s = m << MARK_SHIFT; s < j; s++) {
      const n = API_ARITY[b.fns[s]];
      for (let k = 0; k < n; k++) u += ARG_UNITS[b.tags[t++] & CODE_MASK];
    }
    this.rStep = i;
    this.rTag = t;
    this.rUnit = u;
  }
}

/** Own enumerable keys, and for an object with a prototype of its own, the getters it inherits. */
export function readable_keys(v: object): string[] {
  const keys = Object.keys(v);
  for (let p = Object.getPrototypeOf(v); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p))
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p)))
      if (d.get && !keys.includes(k)) keys.push(k);
  return keys;
}

/** A side-table value back to what the script passed: handles and cookies through `resolver`. */
function decode(v: Encoded, resolver: ArgResolver): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map((x) => decode(x, resolver));
  if ('$h' in v && typeof v.$h === 'string') return resolver.key(v.$h);
  if ('$e' in v && typeof v.$e === 'number') return resolver.key(`e:${v.$e}`);
  if ('$o' in v && typeof v.$o === 'number') return resolver.key(`o:${v.$o}`);
  if ('$x' in v && typeof v.t === 'string') return standIn(v.$x as string, v.t);
  if ('$closed' in v) {
    const inner = decode(v.$closed as Encoded, resolver) as object;
    return v.frozen ? Object.freeze(inner) : Object.preventExtensions(inner);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = decode(x as Encoded, resolver);
  return out;
}

/** What a replay passes for a bigint, symbol or function: the same kind, and the same text. */
function standIn(kind: string, text: string): unknown {
  if (kind === 'bigint') return BigInt(text);
  if (kind === 'symbol') return Symbol(text);
  const f = function () {};
  Object.defineProperty(f, 'toString', { value: () => text });
  return f;
}

function grown<A extends Uint8Array | Uint16Array | Uint32Array>(from: A, size: number): A {
  const to = new (from.constructor as new (n: number) => A)(size);
  to.set(from);
  return to;
}
