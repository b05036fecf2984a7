import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineEvent, type EventDef, type EventKind } from './events.ts';
import type { TraceFilter } from './filter.ts';
import { CALL_KINDS, NAMES, V_NONE, V_NUMBERED, V_TEXT, fieldText } from './format.ts';
import { Trace, TraceCutError, TraceDivergenceError, type TraceEvent } from './trace.ts';

const evMap = defineEvent('tt_map', 'call', ['iova:x', 'size:x', 'prot:u']);
const evFault = defineEvent('tt_fault', 'fault', ['dev:s', 'iova:x', 'reason:i']);
const evFlag = defineEvent('tt_flag', 'tlb', ['ok:b']);
const evNone = defineEvent('tt_none', 'return', []);
const evAttach = defineEvent('tt_attach', 'call', ['device:s', 'domain:u']);
const evSix = defineEvent('tt_six', 'pte', ['a:u', 'b:u', 'c:x', 'd:i', 'e:s', 'f:b']);
const defs = [evMap, evFault, evFlag, evNone, evAttach, evSix];
const devices = ['0000:00:01.0', '0000:00:02.0', 'virtio-net', 'Has,Comma "q"'];

/** An emitted event as a test keeps it: the reference the columnar log is checked against. */
interface Emitted {
  def: EventDef;
  step: number;
  args: number[];
}

const awkwardNumbers = [
  0,
  1,
  3,
  4096,
  0xffff,
  0x10000,
  0xffffffff,
  2 ** 32,
  2 ** 48 + 5,
  Number.MAX_SAFE_INTEGER,
  -1,
  -22,
  -(2 ** 40),
  1.5,
];

const argArb = fc.oneof(
  fc.constantFrom(...awkwardNumbers),
  fc.nat(0xffff),
  fc.nat(),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: -1000, max: 0 }),
);

/** Emit `log` into a fresh trace (strings interned as the engine would). */
function record(log: { def: number; stepInc: number; args: number[] }[]): {
  trace: Trace;
  emitted: Emitted[];
} {
  const trace = new Trace();
  devices.forEach((d) => trace.str(d));
  const emitted: Emitted[] = [];
  for (const e of log) {
    trace.step += e.stepInc;
    const def = defs[e.def];
    const args = def.fields.map((f, k) =>
      f.type === 's'
        ? Math.floor(Math.abs(e.args[k])) % devices.length
        : f.type === 'b'
          ? Math.floor(Math.abs(e.args[k])) % 2
          : e.args[k],
    );
    trace.emit(def, ...(args as [number, number, number, number, number, number]));
    emitted.push({ def, step: trace.step, args });
  }
  return { trace, emitted };
}

const logArb = fc.array(
  fc.record({
    def: fc.nat(defs.length - 1),
    stepInc: fc.oneof(fc.constant(0), fc.constant(1), fc.nat(3)),
    args: fc.array(argArb, { minLength: 6, maxLength: 6 }),
  }),
  { maxLength: 300 },
);

function expected(e: Emitted, strings: readonly string[]): TraceEvent {
  const out: TraceEvent = { step: e.step, kind: e.def.kind, name: e.def.name };
  e.def.fields.forEach((f, k) => {
    const v = e.args[k];
    out[f.name] = f.type === 's' ? strings[v] : f.type === 'b' ? v !== 0 : v === 0 ? 0 : v;
  });
  return out;
}

describe('Trace storage', () => {
  it('reads back every argument exactly, whatever its size or sign', () => {
    fc.assert(
      fc.property(logArb, (log) => {
        const { trace, emitted } = record(log);
        expect(trace.length).toBe(emitted.length);
        emitted.forEach((e, i) => {
          expect(trace.idAt(i)).toBe(e.def.id);
          expect(trace.stepAt(i)).toBe(e.step);
          e.def.fields.forEach((_f, k) => expect(trace.arg(i, k)).toBe(e.args[k]));
          expect(trace.event(i)).toEqual(expected(e, trace.strings));
        });
        expect(trace.toJSON()).toEqual(emitted.map((e) => expected(e, trace.strings)));
      }),
      { numRuns: 200 },
    );
  });

  it('fills missing arguments with 0, ignores extra ones, and keeps -0 as 0', () => {
    const trace = new Trace();
    trace.emit(evMap, 0x1000);
    trace.emit(evNone, 1, 2, 3);
    trace.emit(evMap, -0, 0x2000, 3, 99, 99, 99);
    expect(trace.event(0)).toEqual({ step: 0, kind: 'call', name: 'tt_map', iova: 0x1000, size: 0, prot: 0 });
    expect(trace.event(1)).toEqual({ step: 0, kind: 'return', name: 'tt_none' });
    expect(Object.is(trace.arg(2, 0), 0)).toBe(true);
    expect(trace.arg(2, 1)).toBe(0x2000);
    expect(trace.arg(2, 5)).toBe(0);
    expect(() => trace.arg(3, 0)).toThrow(RangeError);
  });

  it('keeps order, steps and arguments across chunk boundaries and step jumps', () => {
    const trace = new Trace();
    const n = 200_000;
    let seed = 1;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const steps: number[] = [];
    for (let i = 0; i < n; i++) {
      // Mostly small increments, sometimes a jump past 16 bits of delta.
      trace.step += i % 50_000 === 49_999 ? 70_000 : rand() % 3 === 0 ? 1 : 0;
      steps.push(trace.step);
      trace.emit(evMap, i * 4096, rand() % 2 ? 4096 : 2 ** 33 + i, i % 8);
    }
    expect(trace.length).toBe(n);
    for (let i = 0; i < n; i += 997) {
      expect(trace.stepAt(i)).toBe(steps[i]);
      expect(trace.arg(i, 0)).toBe(i * 4096);
      expect(trace.arg(i, 2)).toBe(i % 8);
    }
    expect(trace.lastStep).toBe(steps[n - 1]);
    for (const s of [0, 1, steps[1234], steps[n - 1], steps[n - 1] + 1, steps[60_000] + 1]) {
      const want = steps.findIndex((x) => x >= s);
      expect(trace.indexOfStep(s)).toBe(want === -1 ? n : want);
    }
  });

  it('stays under 24 bytes per event for 3-field events', () => {
    const trace = new Trace();
    const n = 300_000;
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) trace.step++;
      trace.emit(evMap, 0x1_0000_0000 + i * 4096, 4096, 3);
    }
    expect(trace.bytes() / n).toBeLessThanOrEqual(24);
  });
});

describe('Trace digest', () => {
  it('is equal for equal emits and differs when an argument, step, event or string differs', () => {
    fc.assert(
      fc.property(
        logArb.filter((l) => l.length > 0),
        fc.nat(),
        fc.nat(3),
        (log, pick, how) => {
          const a = record(log).trace.digest();
          expect(record(log).trace.digest()).toBe(a);
          const changed = log.map((e) => ({ ...e, args: [...e.args] }));
          const e = changed[pick % changed.length];
          if (how === 0) e.stepInc += 1;
          else if (how === 1) e.def = (e.def + 1) % defs.length;
          else {
            // Change an argument that the event has (an `s`/`b` one to another value).
            const def = defs[e.def];
            if (!def.fields.length) e.stepInc += 1;
            else if (def.fields[0].type === 's' || def.fields[0].type === 'b')
              e.args[0] = Math.abs(e.args[0]) + 1;
            else e.args[0] = e.args[0] === 7 ? 8 : 7;
          }
          expect(record(changed).trace.digest()).not.toBe(a);
        },
      ),
      { numRuns: 200 },
    );
    const t1 = new Trace();
    const t2 = new Trace();
    t2.str('extra');
    expect(t2.digest()).not.toBe(t1.digest());
  });

  it('after truncate and the same emits again, equals an untruncated run', () => {
    const run = (cut: number | undefined) => {
      const t = new Trace();
      const dev = t.str('dev0');
      for (let i = 0; i < 100_000; i++) {
        if (cut !== undefined && i === cut) {
          t.truncate(cut - 1000);
          t.step = t.stepAt(cut - 1001);
          for (let j = cut - 1000; j < cut; j++) {
            if (j % 7 === 0) t.step++;
            t.emit(evFault, dev, j * 8, -j);
          }
        }
        if (i % 7 === 0) t.step++;
        t.emit(evFault, dev, i * 8, -i);
      }
      return t.digest();
    };
    const whole = run(undefined);
    expect(run(40_000)).toBe(whole);
    expect(run(32_768 + 1000)).toBe(whole);
    expect(run(65_536 + 1000)).toBe(whole);
  });

  it("of a trace written into a released trace's chunks equals one written into fresh memory", () => {
    const emitMany = (t: Trace, n: number, big: boolean) => {
      const dev = t.str(big ? 'old' : 'dev0');
      for (let i = 0; i < n; i++) {
        if (i % 5 === 0) t.step++;
        if (big) t.emit(evSix, 2 ** 40 + i, -i, 2 ** 50, -(2 ** 33), dev, 1);
        else t.emit(evFault, dev, i * 8, -i);
      }
    };
    const old = new Trace();
    emitMany(old, 120_000, true);
    old.release();
    expect(old.length).toBe(0);
    const reused = new Trace(); // takes the released chunks
    emitMany(reused, 100_000, false);
    const fresh = new Trace(); // the pool is empty again
    emitMany(fresh, 100_000, false);
    expect(reused.digest()).toBe(fresh.digest());
    expect(reused.event(99_999)).toEqual(fresh.event(99_999));
  });
});

/** The filter semantics written plainly, over the reference log. */
function refMatches(e: Emitted, f: TraceFilter, strings: readonly string[]): boolean {
  if (f.kinds && !f.kinds.includes(e.def.kind)) return false;
  if (f.names && !f.names.includes(e.def.name)) return false;
  if (f.nameContains !== undefined && !e.def.name.toLowerCase().includes(f.nameContains.toLowerCase()))
    return false;
  if (f.fromStep !== undefined && e.step < f.fromStep) return false;
  if (f.toStep !== undefined && e.step > f.toStep) return false;
  for (const [key, want] of Object.entries(f.fields ?? {})) {
    const alternatives = key.split('|');
    const ok = e.def.fields.some((fd, k) => {
      if (!alternatives.includes(fd.name)) return false;
      const raw = e.args[k];
      if (fd.type === 's') return strings[raw] === String(want);
      const w =
        typeof want === 'boolean'
          ? want
            ? 1
            : 0
          : typeof want === 'number'
            ? want
            : want.trim() === ''
              ? NaN
              : Number(want);
      return raw === w;
    });
    if (!ok) return false;
  }
  for (const [key, want] of Object.entries(f.fieldsContain ?? {})) {
    const alternatives = key.split('|');
    const text = want.trim().toLowerCase();
    const ok = e.def.fields.some(
      (fd, k) =>
        alternatives.includes(fd.name) && fieldText(fd.type, e.args[k], strings).toLowerCase().includes(text),
    );
    if (!ok) return false;
  }
  const t = f.text?.trim().toLowerCase();
  if (t) {
    const shown = e.def.fields.map((fd, k) => [
      fd.name.toLowerCase(),
      fieldText(fd.type, e.args[k], strings).toLowerCase(),
    ]);
    const hit = t.includes('=')
      ? shown.some(([n, v]) => `${n}=${v}`.includes(t))
      : shown.some(([n, v]) => n.includes(t) || v.includes(t));
    if (!e.def.name.toLowerCase().includes(t) && !hit) return false;
  }
  return true;
}

const filterArb: fc.Arbitrary<TraceFilter> = fc.record(
  {
    kinds: fc.subarray<EventKind>(['call', 'return', 'pte', 'tlb', 'fault']),
    names: fc.subarray(defs.map((d) => d.name)),
    nameContains: fc.constantFrom('map', 'TT_', 'att', 'zzz'),
    fromStep: fc.nat(40),
    toStep: fc.nat(80),
    text: fc.constantFrom(
      '0x1000',
      '4096',
      '0000:00',
      'virtio',
      'dev',
      'ok=true',
      'iova=0x',
      '-22',
      'comma',
      'true',
      'six',
      '1.5',
      ' ',
    ),
    fields: fc.oneof(
      fc.constant({ device: '0000:00:02.0' }),
      fc.constant({ 'dev|device': 'virtio-net' }),
      fc.constant({ domain: 3 }),
      fc.constant({ domain: '0x3' }),
      fc.constant({ prot: 3, size: 4096 }),
      fc.constant({ ok: true }),
      fc.constant({ nothing: 1 }),
    ),
    fieldsContain: fc.oneof(
      fc.constant({ device: '0000:00' }),
      fc.constant({ device: 'VIRTIO' }),
      fc.constant({ 'dev|device': '2.0' }),
      fc.constant({ device: ' ' }),
      fc.constant({ device: 'comma "' }),
      fc.constant({ iova: '0x1' }),
      fc.constant({ ok: 'tru', domain: '3' }),
      fc.constant({ nothing: 'x' }),
    ),
  },
  { requiredKeys: [] },
);

describe('Trace windows', () => {
  it('count, slice and query agree with a plain filter over the events', () => {
    fc.assert(
      fc.property(logArb, filterArb, fc.nat(400), fc.nat(50), (log, filter, offset, limit) => {
        const { trace, emitted } = record(log);
        const want = emitted
          .map((e, i) => [e, i] as const)
          .filter(([e]) => refMatches(e, filter, trace.strings));
        expect(trace.count(filter)).toBe(want.length);
        const page = want.slice(offset, offset + limit);
        const q = trace.query(offset, limit, filter);
        expect(q.total).toBe(want.length);
        expect(q.indices).toEqual(page.map(([, i]) => i));
        expect(q.events).toEqual(page.map(([e]) => expected(e, trace.strings)));
        expect(trace.slice(offset, limit, filter)).toEqual(q.events);
      }),
      { numRuns: 500 },
    );
  });

  it('pages deep into a long log, and stays right as the log grows', () => {
    const trace = new Trace();
    const dev = [trace.str('a'), trace.str('b')];
    const filter: TraceFilter = { fields: { dev: 'b' } };
    const all: number[] = [];
    const grow = (n: number) => {
      for (let i = 0; i < n; i++) {
        const index = trace.length;
        const d = index % 3 === 0 ? 1 : 0;
        trace.emit(evFault, dev[d], index, 0);
        if (d === 1) all.push(index);
      }
    };
    grow(100_000);
    for (const offset of [0, 255, 256, 257, 10_000, all.length - 5]) {
      expect(trace.indices(offset, 10, filter).indices).toEqual(all.slice(offset, offset + 10));
    }
    grow(50_000);
    expect(trace.count(filter)).toBe(all.length);
    for (const offset of [0, 33_333, 40_000, all.length - 1, all.length]) {
      expect(trace.indices(offset, 7, filter).indices).toEqual(all.slice(offset, offset + 7));
    }
    expect(trace.indices(0, 5, { fromStep: 1 }).total).toBe(0);
    expect(trace.indices(10, 3).indices).toEqual([10, 11, 12]);
  });

  it("finds a device by part of its name, in any case, as the Trace panel's device box asks", () => {
    const trace = new Trace();
    const names = ['nic0', 'nic1', 'NVMe0', 'gpu'].map((n) => trace.str(n));
    for (let i = 0; i < 400; i++) {
      trace.step = i;
      trace.emit(evAttach, names[i % 4], i);
      trace.emit(evMap, 0x1000 * i, 0x1000, 3);
    }
    expect(trace.count({ fields: { device: 'nic' } })).toBe(0); // exact, as before
    expect(trace.count({ fieldsContain: { device: 'nic' } })).toBe(200);
    expect(trace.count({ fieldsContain: { device: 'NIC1' } })).toBe(100);
    expect(trace.count({ fieldsContain: { device: 'me' } })).toBe(100);
    expect(trace.count({ fieldsContain: { device: 'n' } })).toBe(300);
    expect(trace.count({ fieldsContain: { device: 'nothere' } })).toBe(0);
    // Events without a device field are not the device's.
    expect(trace.count({ fieldsContain: { device: '' } })).toBe(400);
    expect(trace.query(0, 3, { fieldsContain: { device: 'nic1' } }).indices).toEqual([2, 10, 18]);
    expect(trace.count({ fieldsContain: { device: 'nic' }, fields: { domain: 4 } })).toBe(1);
  });

  it('exports CSV with one column per field name and quotes where needed', () => {
    const trace = new Trace();
    trace.step = 1;
    trace.emit(evAttach, trace.str('Has,Comma "q"'), 3);
    trace.step = 2;
    trace.emit(evMap, 0x1000, 0x2000, 3);
    trace.emit(evFlag, 1);
    expect(trace.toCSV()).toBe(
      'index,step,kind,name,iova,size,prot,ok,device,domain\n' +
        '0,1,call,tt_attach,,,,,"Has,Comma ""q""",3\n' +
        '1,2,call,tt_map,0x1000,0x2000,3,,,\n' +
        '2,2,tlb,tt_flag,,,,true,,\n',
    );
    expect(trace.toCSV({ kinds: ['tlb'] })).toBe('index,step,kind,name,ok\n2,2,tlb,tt_flag,true\n');
    expect(trace.format(1)).toBe('tt_map iova=0x1000 size=0x2000 prot=3');
  });
});

describe('Trace call events', () => {
  const evCall = defineEvent('tt_call', 'call', ['fn:c', 'a0:v', 'a1:v', 'a2:v']);

  it("reads a call's values as numbers, texts or nothing, in events, rows, CSV and filters", () => {
    const trace = new Trace();
    trace.step = 1;
    const domain = trace.str('domain');
    const fn = trace.str('iommu_attach_device');
    const kinds = (V_NUMBERED << 0) | (V_TEXT << 2) | (V_NONE << 4);
    trace.emit(evCall, fn * CALL_KINDS + kinds, 2 * NAMES + domain, trace.str('device nic0'), 0);
    trace.step = 2;
    trace.emit(evCall, trace.str('iommu_map') * CALL_KINDS, 0, 0x10000, -22);
    expect(trace.event(0)).toEqual({
      step: 1,
      kind: 'call',
      name: 'tt_call',
      fn: 'iommu_attach_device',
      a0: 'domain 2',
      a1: 'device nic0',
    });
    expect(trace.event(1)).toMatchObject({ fn: 'iommu_map', a0: 0, a1: 0x10000, a2: -22 });
    expect(trace.format(0)).toBe('tt_call fn=iommu_attach_device a0=domain 2 a1=device nic0');
    expect(trace.toCSV()).toBe(
      'index,step,kind,name,fn,a0,a1,a2\n' +
        '0,1,call,tt_call,iommu_attach_device,domain 2,device nic0,\n' +
        '1,2,call,tt_call,iommu_map,0x0,0x10000,-22\n',
    );
    expect(trace.count({ fields: { fn: 'iommu_map' } })).toBe(1);
    expect(trace.count({ fields: { a0: 'domain 2' } })).toBe(1);
    expect(trace.count({ fields: { a1: 'device nic0' } })).toBe(1);
    // What stands for a text or a name is no number the script passed, nor the other way round.
    expect(trace.count({ fields: { a0: 2 * NAMES + domain } })).toBe(0);
    expect(trace.count({ fields: { a1: fn + 1 } })).toBe(0);
    expect(trace.count({ fields: { a0: 0 } })).toBe(1);
    expect(trace.count({ text: 'nic0' })).toBe(1);
    expect(trace.count({ text: 'domain 2' })).toBe(1);
    expect(trace.count({ text: 'attach' })).toBe(1);
    expect(trace.count({ text: 'a1=0x10000' })).toBe(1);
  });
});

describe('Trace listeners and replay', () => {
  it('calls listeners per event and for all events, until disposed', () => {
    const trace = new Trace();
    const seen: string[] = [];
    const sub = trace.on(evMap, (t, i) => seen.push(`map@${i}:${t.arg(i, 0)}`));
    const any = trace.onAny((t, i) => seen.push(`any@${i}`));
    trace.emit(evMap, 5);
    trace.emit(evFlag, 1);
    sub.dispose();
    trace.emit(evMap, 6);
    any.dispose();
    trace.emit(evMap, 7);
    expect(seen).toEqual(['map@0:5', 'any@0', 'any@1', 'any@2']);
  });

  it('lets a listener emit (a check reporting on the event it saw)', () => {
    const trace = new Trace();
    trace.on(evFault, (t) => t.emit(evFlag, 0));
    trace.emit(evFault, trace.str('d'), 0x1000, -14);
    expect(trace.toJSON().map((e) => e.name)).toEqual(['tt_fault', 'tt_flag']);
  });

  it('checks replayed emits against the log, calls listeners with recorded indices, and never appends', () => {
    const trace = new Trace();
    const dev = trace.str('d0');
    for (let i = 0; i < 10; i++) {
      trace.step = i + 1;
      trace.emit(evFault, dev, i * 0x1000, -i);
    }
    const before = trace.digest();
    const seen: number[] = [];
    trace.on(evFault, (_t, i) => seen.push(i));
    trace.replayFrom(trace.indexOfStep(5));
    expect(trace.replaying).toBe(true);
    for (let i = 4; i < 10; i++) {
      trace.step = i + 1;
      expect(trace.position).toBe(i);
      trace.emit(evFault, dev, i * 0x1000, -i);
    }
    expect(trace.digest()).toBe(before);
    expect(seen).toEqual([4, 5, 6, 7, 8, 9]);
    // Past the recorded events a replay has diverged: it must not grow the log.
    trace.step = 11;
    expect(() => trace.emit(evFault, dev, 0xa000, -10)).toThrow(/past the recorded events/);
    trace.endReplay();
    expect(trace.position).toBe(10);
    trace.emit(evFault, dev, 0xa000, -10);
    expect(trace.length).toBe(11);

    trace.replayFrom(3);
    trace.step = 4;
    expect(() => trace.emit(evFault, dev, 0x3000, -4)).toThrow(TraceDivergenceError);
    expect(() => trace.emit(evMap, 0x3000)).toThrow(/expected tt_fault, got tt_map/);
    trace.endReplay();
    expect(trace.length).toBe(11);
  });

  it('a call its tick stopped is stopped again at the same event when replayed', () => {
    const trace = new Trace();
    trace.step = 1;
    let n = 0;
    trace.setTick(() => {
      if (++n === 2) throw new Error('time limit');
    });
    const emitMany = () => {
      for (let i = 0; i < 10_000; i++) trace.emit(evMap, i);
    };
    expect(emitMany).toThrow('time limit');
    const cut = trace.length;
    trace.setTick(null);
    trace.replayFrom(0);
    expect(emitMany).toThrow(TraceCutError);
    expect(trace.position).toBe(cut);
    trace.endReplay();
    expect(trace.length).toBe(cut);
  });
});
