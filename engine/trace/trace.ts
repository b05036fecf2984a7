import { CODE_BITS, CODE_MASK, argUnitOffset, getArg, putArg } from './arg-codec.ts';
import { STATIC } from './deep-clone.ts';
import { MAX_EVENTS, eventById, type EventDef, type EventKind } from './events.ts';
import { ACCEPT, REJECT, compileFilter, filterKey, type CompiledFilter, type TraceFilter } from './filter.ts';
import { V_NONE, V_NUMBER, fieldText, fieldValue, valueKind } from './format.ts';
import { Hash64 } from './hash64.ts';
import { traceCSV } from './trace-csv.ts';

export type { TraceFilter } from './filter.ts';

/** One event as scripts and panels see it: `{step, kind, name, ...fields}`. */
export interface TraceEvent {
  step: number;
  kind: EventKind;
  name: string;
  [field: string]: number | string | boolean;
}

/** Called after an event is recorded (or, while replaying, re-emitted): read it with `trace.arg(index, k)`. */
export type TraceListener = (trace: Trace, index: number) => void;

export interface Disposable {
  dispose(): void;
}

/** A page of matching events, with their indices in the log (to seek to their step, to link rows). */
export interface TraceQueryResult {
  /** Events matching the filter, in all. */
  total: number;
  indices: number[];
  events: TraceEvent[];
}

/** Thrown when a replay reaches the event after which the recorded call was cut off (its time limit). */
export class TraceCutError extends Error {
  constructor(readonly index: number) {
    super(`the recorded call stopped after event ${index} (its time limit); the replay stops there too`);
    this.name = 'TraceCutError';
  }
}

/** Thrown when a replay emits something other than what the log recorded at that point. */
export class TraceDivergenceError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(`trace diverged at event ${index}: ${message}`);
    this.name = 'TraceDivergenceError';
  }
}

// Events live in chunks of CHUNK events: the header word holds the chunk-relative offset of the
// event's arguments (18 bits: at most CHUNK × 7 fields × 4 units = 229,376) above 14 bits of
// argument codes. Chunks keep memory growth smooth (no doubling of a 200 MB array) and the
// 18-bit offset enough.
const CHUNK_SHIFT = 13;
const CHUNK = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK - 1;
const FIRST_CAPACITY = 256;
/** Room one event may need in the argument arena: 7 fields of 4 units. */
const MAX_EVENT_UNITS = 28;
/** Events between calls of the tick function (a few hundred microseconds of engine work). */
const TICK_EVERY = 4096;
/** A step delta that does not fit 16 bits is kept in `stepOverflow` instead. */
const STEP_ESCAPE = 0xffff;

/** One chunk's columns. Only the last chunk grows; full chunks are trimmed to what they use. */
class Chunk {
  constructor(
    /** Event id (`EventDef.id`). */
    public ids: Uint16Array,
    /** Step minus `baseStep`, or STEP_ESCAPE. */
    public steps: Uint16Array,
    /** (argument offset << CODE_BITS) | argument codes. */
    public heads: Uint32Array,
    /** The argument arena, 16-bit units (see arg-codec.ts). */
    public units: Uint16Array,
    public baseStep: number,
    /** Arena units in use, set when the chunk is full (the last chunk's is `Trace.unitFill`). */
    public used = 0,
  ) {}
}

const NO_LISTENERS: readonly TraceListener[] = Object.freeze([]);

/**
 * Full-size chunks of released traces, taken by any trace in this process before it touches fresh
 * memory (the page faults of a new chunk cost more than filling it). At most RELEASED_MAX wait.
 */
const released: Chunk[] = [];
/** About 256 KiB each: a quarter of a GiB at most waits for reuse. */
const RELEASED_MAX = 1024;

/** Marks every PAGE_MARK-th match of a cached filter, so paging deep into a long result is quick. */
const PAGE_MARK_SHIFT = 8;

interface MatchCache {
  key: string;
  filter: CompiledFilter;
  /** First and one-past-last index of the step range, as of the last scan. */
  lo: number;
  scannedTo: number;
  total: number;
  /** marks[k] = index of match number k << PAGE_MARK_SHIFT. */
  marks: number[];
}

/**
 * The event log of one lab: a columnar, append-only log of (id, step, numeric args) with a
 * string table, about 8 bytes per event plus 0–8 bytes per argument (typically 2).
 *
 * `step` is the number of the script-level API call being executed; every event emitted
 * meanwhile carries it. Steps must not decrease (`indexOfStep` and step filters rely on it).
 * Arguments are numbers (strings go through `str()`); `-0` is recorded as `0`.
 *
 * The trace is outside time travel: `deepClone` shares it (it is `STATIC`) and checkpoints do
 * not contain it, so listeners may be ordinary closures. When a state is rebuilt by replaying
 * recorded calls, call `replayFrom(index)` first: events emitted while replaying are compared
 * with the log instead of appended, and listeners are called again with their recorded index
 * (a listener that only forwards events, like the host's progress stream, checks `replaying`).
 */
export class Trace {
  declare readonly [STATIC]: true;

  /** The step that events emitted now will carry. */
  step = 0;

  private chunks: Chunk[] = [];
  // The last chunk's columns, cached for emit.
  private ids: Uint16Array = new Uint16Array(0);
  private steps: Uint16Array = new Uint16Array(0);
  private heads: Uint32Array = new Uint32Array(0);
  private units: Uint16Array = new Uint16Array(0);
  private baseStep = 0;
  /** Events in the last chunk, its capacity, arena units used. */
  private fill = CHUNK;
  private capacity = CHUNK;
  private unitFill = 0;
  private len = 0;
  private stepOverflow = new Map<number, number>();
  /** Full-size chunks dropped by `truncate`/`clear`, reused before new memory is touched. */
  private spare: Chunk[] = [];

  private readonly strTable: string[] = [];
  private readonly stringIds = new Map<string, number>();

  /**
   * Listeners by event id, packed (no holes) up to the highest id that ever had one: reading a
   * hole or past the end of an array is slow in V8, and emit does this read every time.
   */
  private listeners: (readonly TraceListener[])[] = [];
  private anyListeners: readonly TraceListener[] = NO_LISTENERS;
  /**
   * 1 for event ids with a listener: emit tests this and calls `notify` only then, which keeps
   * an emit nobody watches at the cost of a store (a listener loop in emit itself, even an
   * empty one, costs about 10 ns).
   */
  private readonly watched = new Uint8Array(MAX_EVENTS + 1);
  private watchAll = false;
  /** Between replayFrom and endReplay: emits are checked against the log, never appended. */
  private replay = false;
  /** While replaying, the next recorded event a replay must match. */
  private cursor = 0;
  /**
   * The log's length when the tick threw inside a call (a run's time limit), else -1: a replay
   * of that call stops at the same event, as the call did.
   */
  private cutAt = -1;
  /** Called every TICK_EVERY recorded events while set: a run's time limit, polled from inside long calls. */
  private tick: (() => void) | null = null;
  private tickCountdown = TICK_EVERY;
  private matchCache: MatchCache | undefined;

  get length(): number {
    return this.len;
  }

  /** The string table; `s` fields are indices into it. */
  get strings(): readonly string[] {
    return this.strTable;
  }

  /** Intern a string so it can be passed as an `s` field. */
  str(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strTable.length;
      this.strTable.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  /** The id of an already interned string. */
  stringId(s: string): number | undefined {
    return this.stringIds.get(s);
  }

  /** Record `ev` with its arguments (missing ones are 0, extra ones ignored). */
  emit(ev: EventDef, a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0): void {
    if (this.replay) return this.verify(ev, a, b, c, d, e, f, g);
    let i = this.fill;
    if (i === this.capacity) i = this.grow();
    if (this.unitFill + MAX_EVENT_UNITS > this.units.length) this.growUnits();
    const n = ev.fields.length;
    const u = this.units;
    const start = this.unitFill;
    let w = start;
    let codes = 0;
    if (n !== 0) {
      let code = putArg(u, w, a);
      codes = code;
      w += (1 << code) >>> 1; // ARG_UNITS[code], without the load
      if (n > 1) {
        code = putArg(u, w, b);
        codes |= code << 2;
        w += (1 << code) >>> 1; // ARG_UNITS[code], without the load
        if (n > 2) {
          code = putArg(u, w, c);
          codes |= code << 4;
          w += (1 << code) >>> 1; // ARG_UNITS[code], without the load
          if (n > 3) {
            code = putArg(u, w, d);
            codes |= code << 6;
            w += (1 << code) >>> 1; // ARG_UNITS[code], without the load
            if (n > 4) {
              code = putArg(u, w, e);
              codes |= code << 8;
              w += (1 << code) >>> 1; // ARG_UNITS[code], without the load
              if (n > 5) {
                code = putArg(u, w, f);
                codes |= code << 10;
                w += (1 << code) >>> 1; // ARG_UNITS[code], without the load
                if (n > 6) {
                  code = putArg(u, w, g);
                  codes |= code << 12;
                  w += (1 << code) >>> 1; // ARG_UNITS[code], without the load
                }
              }
            }
          }
        }
      }
    }
    this.unitFill = w;
    this.heads[i] = (start << CODE_BITS) | codes;
    this.ids[i] = ev.id;
    const delta = this.step - this.baseStep;
    if (delta >>> 0 === delta && delta < STEP_ESCAPE) {
      this.steps[i] = delta;
    } else {
      this.steps[i] = STEP_ESCAPE;
      this.stepOverflow.set(this.len, this.step);
    }
    this.fill = i + 1;
    const index = this.len++;
    if (this.watched[ev.id] !== 0 || this.watchAll) this.notify(ev.id, index);
    if (this.tick !== null && --this.tickCountdown === 0) this.runTick();
  }

  /**
   * For an engine loop that may run long while recording nothing (the page-by-page walk of a huge
   * direct region): counts one event towards the tick, so a run's time limit reaches it too.
   */
  poll(): void {
    if (this.tick !== null && !this.replay && --this.tickCountdown === 0) this.runTick();
  }

  /** The tick, noting where the log was cut when it throws (a run's time limit inside a call). */
  private runTick(): void {
    this.tickCountdown = TICK_EVERY;
    try {
      this.tick!();
    } catch (e) {
      this.cutAt = this.len;
      throw e;
    }
  }

  /**
   * Call `fn` every few thousand recorded events (not replayed ones), or stop with null. A run's
   * time limit uses it to reach into one long call (a map of a terabyte) and stop it: `fn` may throw.
   */
  setTick(fn: (() => void) | null): void {
    this.tick = fn;
    this.tickCountdown = TICK_EVERY;
  }

  private notify(id: number, index: number): void {
    if (id < this.listeners.length) {
      const ls = this.listeners[id];
      for (let k = 0; k < ls.length; k++) ls[k](this, index);
    }
    const any = this.anyListeners;
    for (let k = 0; k < any.length; k++) any[k](this, index);
  }

  /** Call `listener` after every `ev` is recorded (checks watch the trace this way). */
  on(ev: EventDef, listener: TraceListener): Disposable {
    while (this.listeners.length <= ev.id) this.listeners.push(NO_LISTENERS);
    this.listeners[ev.id] = [...this.listeners[ev.id], listener];
    this.watched[ev.id] = 1;
    return {
      dispose: () => {
        this.listeners[ev.id] = this.listeners[ev.id].filter((l) => l !== listener);
        this.watched[ev.id] = this.listeners[ev.id].length ? 1 : 0;
      },
    };
  }

  /** Call `listener` after every event (the host streams progress this way). */
  onAny(listener: TraceListener): Disposable {
    this.anyListeners = [...this.anyListeners, listener];
    this.watchAll = true;
    return {
      dispose: () => {
        this.anyListeners = this.anyListeners.filter((l) => l !== listener);
        this.watchAll = this.anyListeners.length !== 0;
      },
    };
  }

  // ─────────────────────────── reading one event ───────────────────────────

  /** The numeric argument `field` (0-based) of event `index`; 0 for a field the event lacks. */
  arg(index: number, field: number): number {
    const ch = this.chunkAt(index);
    const h = ch.heads[index & CHUNK_MASK];
    const codes = h & CODE_MASK;
    return getArg(ch.units, (h >>> CODE_BITS) + argUnitOffset(codes, field), (codes >>> (2 * field)) & 3);
  }

  idAt(index: number): number {
    return this.chunkAt(index).ids[index & CHUNK_MASK];
  }

  stepAt(index: number): number {
    const ch = this.chunkAt(index);
    const delta = ch.steps[index & CHUNK_MASK];
    return delta === STEP_ESCAPE ? this.stepOverflow.get(index)! : ch.baseStep + delta;
  }

  /** The step of the last event, 0 when the log is empty. */
  get lastStep(): number {
    return this.len === 0 ? 0 : this.stepAt(this.len - 1);
  }

  /** The first event index whose step is ≥ `step` (`length` if none). */
  indexOfStep(step: number): number {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.stepAt(mid) < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Event `index` as an object; a `v` field that holds nothing (an argument not passed) is left out. */
  event(index: number): TraceEvent {
    const def = eventById(this.idAt(index));
    const out: TraceEvent = { step: this.stepAt(index), kind: def.kind, name: def.name };
    for (let k = 0; k < def.fields.length; k++) {
      const field = def.fields[k];
      const v = fieldValue(field.type, this.arg(index, k), this.strTable, this.kindAt(index, def, k));
      if (v !== undefined) out[field.name] = v;
    }
    return out;
  }

  /** The row as the Trace panel shows it: `name field=value ...` (hex for `x` fields). */
  format(index: number): string {
    const def = eventById(this.idAt(index));
    let s = def.name;
    for (let k = 0; k < def.fields.length; k++)
      if (this.kindAt(index, def, k) !== V_NONE) s += ' ' + def.fields[k].name + '=' + this.text(index, k);
    return s;
  }

  /** Field `field` of event `index` as the Trace panel and CSV show it ('' for a `v` holding nothing). */
  text(index: number, field: number): string {
    const def = eventById(this.idAt(index));
    const type = def.fields[field].type;
    return fieldText(type, this.arg(index, field), this.strTable, this.kindAt(index, def, field));
  }

  /** What a field holds (format.ts V_*): for a `v` field its event's `c` field says, else a number. */
  private kindAt(index: number, def: EventDef, field: number): number {
    return def.fields[field].type === 'v' ? valueKind(this.arg(index, 0), field) : V_NUMBER;
  }

  // ─────────────────────────── windows and exports ───────────────────────────

  /** How many events match `filter`. */
  count(filter?: TraceFilter): number {
    return this.matches(filter).total;
  }

  /** Events `offset .. offset + limit - 1` among those matching `filter`. */
  slice(offset: number, limit: number, filter?: TraceFilter): TraceEvent[] {
    return this.query(offset, limit, filter).events;
  }

  /**
   * A page of matching events with their log indices and the total. Scans the id column only
   * (argument columns for field and text filters), materialises only the rows returned, and
   * remembers where every 256th match is, so the next page of the same filter costs little.
   */
  query(offset: number, limit: number, filter?: TraceFilter): TraceQueryResult {
    const { total, indices } = this.indices(offset, limit, filter);
    return { total, indices, events: indices.map((i) => this.event(i)) };
  }

  /** Like `query`, without materialising the events. */
  indices(offset: number, limit: number, filter?: TraceFilter): { total: number; indices: number[] } {
    const m = this.matches(filter);
    const indices: number[] = [];
    offset = Math.max(0, Math.floor(offset));
    limit = Math.max(0, Math.floor(limit));
    if (offset < m.total && limit > 0) {
      if (m.filter.all) {
        const end = Math.min(m.lo + offset + limit, m.scannedTo);
        for (let i = m.lo + offset; i < end; i++) indices.push(i);
      } else {
        const mark = offset >>> PAGE_MARK_SHIFT;
        let skip = offset - (mark << PAGE_MARK_SHIFT);
        this.scan(m.filter, m.marks[mark], m.scannedTo, (i) => {
          if (skip > 0) {
            skip--;
            return true;
          }
          indices.push(i);
          return indices.length < limit;
        });
      }
    }
    return { total: m.total, indices };
  }

  /** Every event, as objects (what `lab.trace()` returns). */
  toJSON(): TraceEvent[] {
    const out: TraceEvent[] = new Array(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.event(i);
    return out;
  }

  /** Matching events as objects. */
  events(filter?: TraceFilter): TraceEvent[] {
    const out: TraceEvent[] = [];
    this.forEachMatch(filter, (i) => out.push(this.event(i)));
    return out;
  }

  /** Call `fn` with the index of every event matching `filter`, in order. */
  forEachMatch(filter: TraceFilter | undefined, fn: (index: number) => void): void {
    const m = this.matches(filter);
    this.scan(m.filter, m.lo, m.scannedTo, (i) => {
      fn(i);
      return true;
    });
  }

  /**
   * CSV of the matching events: `index,step,kind,name` and one column per field name that
   * any of them has. Yields pieces of text so a long trace can be written without one giant string.
   */
  csv(filter?: TraceFilter, rowsPerPiece?: number): Generator<string> {
    return traceCSV(this, filter, rowsPerPiece);
  }

  toCSV(filter?: TraceFilter): string {
    return [...this.csv(filter)].join('');
  }

  // ─────────────────────────── determinism, memory, replay ───────────────────────────

  /**
   * A 64-bit hash (16 hex digits) of the whole log: ids, steps, argument codes and units, and
   * the string table. The same emits (and `str()` calls) give the same digest.
   */
  digest(): string {
    const h = new Hash64();
    h.word(this.len);
    for (let k = 0; k < this.chunks.length; k++) {
      const ch = this.chunks[k];
      const n = k === this.chunks.length - 1 ? this.fill : CHUNK;
      const used = k === this.chunks.length - 1 ? this.unitFill : ch.used;
      h.number(ch.baseStep);
      h.units(ch.ids, n);
      h.units(ch.steps, n);
      h.words(ch.heads, n);
      h.units(ch.units, used);
    }
    for (const [i, s] of this.stepOverflow) {
      h.word(i);
      h.number(s);
    }
    h.word(this.strTable.length);
    for (const s of this.strTable) h.string(s);
    return h.hex();
  }

  /** Memory held by the log's columns and string table, in bytes (strings estimated). */
  bytes(): number {
    let n = 0;
    for (const ch of [...this.chunks, ...this.spare])
      n += ch.ids.byteLength + ch.steps.byteLength + ch.heads.byteLength + ch.units.byteLength + 48;
    n += this.stepOverflow.size * 40;
    for (const s of this.strTable) n += 2 * s.length + 64;
    return n;
  }

  /**
   * Replay from event `index` on, until `endReplay`: emits are checked against the recorded events
   * instead of appended, throwing `TraceDivergenceError` on a difference or past the log's end; a
   * call the time limit cut off is stopped again where it was (`TraceCutError`).
   */
  replayFrom(index: number): void {
    this.cursor = Math.max(0, Math.min(this.len, Math.floor(index)));
    this.replay = true;
  }

  /**
   * The index the next emitted event takes — while replaying, the recorded event the replay has
   * reached. Engine code that looks back at what it emitted in this call starts from here, not
   * from `length` (the whole log while replaying).
   */
  get position(): number {
    return this.replay ? this.cursor : this.len;
  }

  /** True while emits are being checked against recorded events. */
  get replaying(): boolean {
    return this.replay;
  }

  /** Stop checking emits against the log (the next emit appends). */
  endReplay(): void {
    this.replay = false;
  }

  /** Drop the events from `length` on (the string table is kept: ids handed out stay valid). */
  truncate(length: number): void {
    length = Math.max(0, Math.floor(length));
    if (length >= this.len) return;
    const keep = length === 0 ? 0 : ((length - 1) >>> CHUNK_SHIFT) + 1;
    for (const ch of this.chunks.splice(keep)) if (ch.ids.length === CHUNK) this.spare.push(ch);
    if (keep === 0) {
      this.fill = this.capacity = CHUNK;
      this.unitFill = 0;
      this.ids = this.steps = new Uint16Array(0);
      this.heads = new Uint32Array(0);
      this.units = new Uint16Array(0);
    } else {
      const ch = this.chunks[keep - 1];
      this.fill = length - ((keep - 1) << CHUNK_SHIFT);
      this.unitFill = this.fill === CHUNK ? ch.used : ch.heads[this.fill] >>> CODE_BITS;
      this.reopen(ch);
    }
    for (const i of this.stepOverflow.keys()) if (i >= length) this.stepOverflow.delete(i);
    this.len = length;
    this.replay = false;
    if (this.cutAt > length) this.cutAt = -1;
    this.matchCache = undefined;
  }

  /**
   * Forget every event and string (listeners stay). The chunks' memory is kept for the next run
   * unless `releaseMemory`: touching fresh memory costs more than filling it.
   */
  clear(releaseMemory = false): void {
    this.truncate(0);
    if (releaseMemory) this.spare = [];
    this.strTable.length = 0;
    this.stringIds.clear();
    this.stepOverflow.clear();
    this.step = 0;
  }

  /**
   * `clear()`, handing the chunks to the next trace of this process that grows: for a lab that is
   * done (its session replaced), so the next run does not pay for fresh memory.
   */
  release(): void {
    this.clear();
    for (const ch of this.spare.splice(0)) if (released.length < RELEASED_MAX) released.push(ch);
  }

  // ─────────────────────────── internals ───────────────────────────

  private chunkAt(index: number): Chunk {
    if (!(index >= 0 && index < this.len))
      throw new RangeError(`trace index ${index} out of range 0..${this.len - 1}`);
    return this.chunks[index >>> CHUNK_SHIFT];
  }

  /** Make room for one more event; returns its index in the last chunk. */
  private grow(): number {
    if (this.capacity < CHUNK) {
      const cap = this.capacity * 2;
      const ch = this.chunks[this.chunks.length - 1];
      ch.ids = grown(this.ids, new Uint16Array(cap));
      ch.steps = grown(this.steps, new Uint16Array(cap));
      ch.heads = grown(this.heads, new Uint32Array(cap));
      this.reopen(ch);
      return this.fill;
    }
    const last = this.chunks[this.chunks.length - 1];
    if (last) {
      last.used = this.unitFill;
      // A full chunk keeps only the arena it uses, unless the waste is small.
      if (last.units.length - this.unitFill > last.units.length >>> 3)
        last.units = last.units.slice(0, this.unitFill);
    }
    // The first chunk starts small (most labs are short); later ones start full size, with an
    // arena sized from the previous chunk's use so it rarely grows or needs trimming.
    const cap = this.chunks.length === 0 ? FIRST_CAPACITY : CHUNK;
    const arena = last ? Math.ceil(last.used * 1.03) + 64 * MAX_EVENT_UNITS : cap * 4;
    let ch = this.spare.pop() ?? released.pop();
    if (ch) {
      ch.baseStep = this.step;
      ch.used = 0;
      // Its arena fits, near enough: emit grows it if not (a new one would be fresh memory).
      if (ch.units.length < arena >>> 1) ch.units = new Uint16Array(arena);
    } else {
      ch = new Chunk(
        new Uint16Array(cap),
        new Uint16Array(cap),
        new Uint32Array(cap),
        new Uint16Array(arena),
        this.step,
      );
    }
    this.chunks.push(ch);
    this.fill = 0;
    this.unitFill = 0;
    this.reopen(ch);
    return 0;
  }

  private growUnits(): void {
    const ch = this.chunks[this.chunks.length - 1];
    const size = Math.max(this.units.length + (this.units.length >>> 1), this.unitFill + MAX_EVENT_UNITS);
    ch.units = grown(this.units, new Uint16Array(size));
    this.units = ch.units;
  }

  private reopen(ch: Chunk): void {
    this.ids = ch.ids;
    this.steps = ch.steps;
    this.heads = ch.heads;
    this.units = ch.units;
    this.baseStep = ch.baseStep;
    this.capacity = ch.ids.length;
  }

  private verify(
    ev: EventDef,
    a: number,
    b: number,
    c: number,
    d: number,
    e: number,
    f: number,
    g: number,
  ): void {
    // Time travel replays thousands of steps per seek: read the recorded event in one pass over
    // its chunk (id, step, then the arguments in order) rather than field by field through arg().
    const index = this.cursor;
    if (index >= this.len)
      throw new TraceDivergenceError(index, `${ev.name}: the replay goes on past the recorded events`);
    const ch = this.chunks[index >>> CHUNK_SHIFT];
    const j = index & CHUNK_MASK;
    const id = ch.ids[j];
    if (id !== ev.id) throw new TraceDivergenceError(index, `expected ${eventById(id).name}, got ${ev.name}`);
    const delta = ch.steps[j];
    const step = delta === STEP_ESCAPE ? this.stepOverflow.get(index)! : ch.baseStep + delta;
    if (step !== this.step)
      throw new TraceDivergenceError(index, `${ev.name} at step ${this.step}, recorded at ${step}`);
    const h = ch.heads[j];
    const units = ch.units;
    let w = h >>> CODE_BITS;
    const n = ev.fields.length;
    for (let k = 0; k < n; k++) {
      const code = (h >>> (2 * k)) & 3;
      const want = getArg(units, w, code);
      w += (1 << code) >>> 1; // ARG_UNITS[code]
      const got = k === 0 ? a : k === 1 ? b : k === 2 ? c : k === 3 ? d : k === 4 ? e : k === 5 ? f : g;
      if (got !== want && !(got !== got && want !== want))
        throw new TraceDivergenceError(index, `${ev.name}.${ev.fields[k].name} = ${got}, recorded ${want}`);
    }
    this.cursor++;
    this.notify(ev.id, index);
    if (this.cursor === this.cutAt) throw new TraceCutError(index);
  }

  /** The cached match state of `filter`, brought up to date with the log. */
  private matches(filter: TraceFilter | undefined): MatchCache {
    const key = filterKey(filter, this);
    let m = this.matchCache;
    if (m === undefined || m.key !== key) {
      const compiled = compileFilter(filter, this);
      const lo = this.indexOfStep(compiled.fromStep);
      m = { key, filter: compiled, lo, scannedTo: lo, total: 0, marks: [lo] };
      this.matchCache = m;
    }
    const hi = m.filter.toStep === Infinity ? this.len : this.indexOfStep(m.filter.toStep + 1);
    if (hi > m.scannedTo) {
      if (m.filter.all) {
        m.total += hi - m.scannedTo;
      } else {
        // marks[0] is `lo` (a scan from there finds match 0); marks[k] for k ≥ 1 is pushed when
        // match k·256 is found.
        const marks = m.marks;
        let total = m.total;
        const markMask = (1 << PAGE_MARK_SHIFT) - 1;
        this.scan(m.filter, m.scannedTo, hi, (i) => {
          if ((total & markMask) === 0 && total !== 0) marks.push(i);
          total++;
          return true;
        });
        m.total = total;
      }
      m.scannedTo = hi;
    }
    return m;
  }

  /** Visit matches in [from, to) in order while `visit` returns true. */
  private scan(cf: CompiledFilter, from: number, to: number, visit: (index: number) => boolean): void {
    const table = cf.table;
    for (let i = from; i < to;) {
      const ch = this.chunks[i >>> CHUNK_SHIFT];
      const base = i & ~CHUNK_MASK;
      const end = Math.min(to - base, CHUNK);
      const ids = ch.ids;
      for (let j = i - base; j < end; j++) {
        const t = table[ids[j]];
        if (t === REJECT || t === undefined) continue;
        const index = base + j;
        if (t !== ACCEPT && !cf.row(index, ids[j])) continue;
        if (!visit(index)) return;
      }
      i = base + end;
    }
  }
}

Object.defineProperty(Trace.prototype, STATIC, { value: true });

function grown<A extends Uint16Array | Uint32Array>(from: A, to: A): A {
  to.set(from);
  return to;
}
