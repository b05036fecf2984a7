import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoints.ts';
import { deepClone } from './deep-clone.ts';
import { Timeline, type TimelineSource } from './timeline.ts';

/** A toy engine state: a counter, a typed array, a map of objects, a shared reference. */
class Toy {
  counter = 0;
  mem = new Uint32Array(64);
  slots = new Map<number, { v: number }>();
  last: { v: number } | undefined;
  bump(): void {
    if (this.last) this.last.v++;
  }
}

interface Op {
  kind: number;
  a: number;
  b: number;
}

function opLog(n: number, seed: number): Op[] {
  let x = seed >>> 0 || 1;
  const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  return Array.from({ length: n }, () => ({ kind: next() % 4, a: next() % 1000, b: next() }));
}

function apply(s: Toy, op: Op): void {
  s.counter += op.a;
  s.mem[op.a % 64] ^= op.b;
  if (op.kind === 0) {
    const slot = { v: op.b };
    s.slots.set(op.a % 8, slot);
    s.last = slot;
  } else if (op.kind === 1) {
    s.bump();
  } else if (op.kind === 2) {
    s.slots.delete(op.a % 8);
  }
}

function source(ops: Op[], counters: { replayed: number; clock: number }): TimelineSource<Toy> {
  return {
    initial: () => new Toy(),
    replay(s, from, to) {
      for (let i = from; i < to; i++) apply(s, ops[i]);
      counters.replayed += to - from;
      counters.clock += (to - from) * 0.01;
    },
    clone: (s) => deepClone(s),
  };
}

function fresh(ops: Op[], n: number): Toy {
  const s = new Toy();
  for (let i = 0; i < n; i++) apply(s, ops[i]);
  return s;
}

describe('Timeline', () => {
  it('seek(n) equals a fresh run stopped at n, for any order of seeks', () => {
    const ops = opLog(3000, 7);
    fc.assert(
      fc.property(
        fc.array(fc.nat(3000), { minLength: 1, maxLength: 25 }),
        fc.constantFrom(1, 16, 100),
        fc.constantFrom(3, 8, 64),
        (seeks, everySteps, maxCheckpoints) => {
          const counters = { replayed: 0, clock: 0 };
          const tl = new Timeline(source(ops, counters), { everySteps, maxCheckpoints });
          for (const n of seeks) {
            const s = tl.seek(n);
            expect(tl.step).toBe(n);
            expect(s).toEqual(fresh(ops, n));
            expect(tl.checkpoints.size).toBeLessThanOrEqual(Math.max(2, maxCheckpoints));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('learns a spacing from replay speed and keeps seeks within it after a background build', () => {
    const ops = opLog(20_000, 3);
    const counters = { replayed: 0, clock: 0 };
    // 0.01 ms per step on the fake clock: 20 ms is 2000 steps, so K = 1024.
    const tl = new Timeline(source(ops, counters), { now: () => counters.clock, targetReplayMs: 20 });
    expect(tl.seek(20_000)).toEqual(fresh(ops, 20_000));
    expect(tl.everySteps).toBe(1024);
    expect(counters.replayed).toBe(20_000);

    // A live run's end state, adopted: only the initial checkpoint exists; build the rest.
    const live = new Timeline(source(ops, counters), { now: () => counters.clock, targetReplayMs: 20 });
    live.adopt(fresh(ops, 20_000), 20_000);
    let progress = live.buildCheckpoints(20_000, 50);
    expect(progress.done).toBe(false);
    while (!progress.done) progress = live.buildCheckpoints(20_000, 50);
    expect(progress.step).toBe(20_000);

    let seed = 11;
    for (let k = 0; k < 40; k++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const n = seed % 20_001;
      const before = counters.replayed;
      expect(live.seek(n)).toEqual(fresh(ops, n));
      expect(counters.replayed - before).toBeLessThan(1024);
    }
  });

  it('invalidate drops checkpoints past the change and moves the cursor back', () => {
    const ops = opLog(500, 5);
    const counters = { replayed: 0, clock: 0 };
    const tl = new Timeline(source(ops, counters), { everySteps: 50 });
    tl.seek(500);
    expect(tl.checkpoints.steps().at(-1)).toBe(500);
    ops[300] = { kind: 0, a: 1, b: 2 };
    tl.invalidate(300);
    expect(Math.max(...tl.checkpoints.steps())).toBeLessThanOrEqual(300);
    expect(tl.step).toBeLessThanOrEqual(300);
    expect(tl.seek(450)).toEqual(fresh(ops, 450));
  });

  it('adopts a live state as the cursor without replaying', () => {
    const ops = opLog(100, 9);
    const counters = { replayed: 0, clock: 0 };
    const tl = new Timeline(source(ops, counters), { everySteps: 10 });
    tl.adopt(fresh(ops, 100), 100);
    expect(tl.seek(100)).toEqual(fresh(ops, 100));
    expect(counters.replayed).toBe(0);
    expect(tl.seek(42)).toEqual(fresh(ops, 42));
  });
});

describe('CheckpointStore', () => {
  it('thins old checkpoints evenly and keeps the first and the last', () => {
    const store = new CheckpointStore<{ n: number }>({ maxCheckpoints: 10 });
    for (let s = 0; s <= 1000; s++) store.add(s, { n: s });
    const steps = store.steps();
    expect(steps).toHaveLength(10);
    expect(steps[0]).toBe(0);
    expect(steps.at(-1)).toBe(1000);
    const gaps = steps.slice(1).map((s, i) => s - steps[i]);
    // Evenly enough: no gap more than twice the ideal 1000 / 9.
    expect(Math.max(...gaps)).toBeLessThanOrEqual((2 * 1000) / 9);
  });

  it('respects a byte budget', () => {
    const store = new CheckpointStore<Uint8Array>({ maxBytes: 10_000, sizeOf: (s) => s.byteLength });
    for (let s = 0; s < 100; s++) store.add(s * 10, new Uint8Array(1000));
    expect(store.bytes).toBeLessThanOrEqual(10_000);
    expect(store.size).toBe(10);
  });

  it('hands out copies, finds the nearest at or before a step, and drops after a step', () => {
    const store = new CheckpointStore<{ a: number[] }>({ everySteps: 5 });
    store.add(0, { a: [0] });
    store.add(10, { a: [10] });
    expect(store.shouldRecord(12)).toBe(false);
    expect(store.shouldRecord(15)).toBe(true);
    const r = store.restore(14)!;
    expect(r.step).toBe(10);
    r.state.a.push(99);
    expect(store.nearest(14)!.state.a).toEqual([10]);
    expect(store.nearest(9)!.step).toBe(0);
    store.dropAfter(9);
    expect(store.steps()).toEqual([0]);
  });

  it('keeps big buffers without their zero pages, and restores them byte for byte', () => {
    const store = new CheckpointStore<{ ram: Uint32Array; small: Uint8Array; view: Uint16Array }>();
    const ram = new Uint32Array(512 * 1024); // 2 MiB, as a simulated RAM chunk
    ram[5] = 0xdead_beef;
    ram[300_000] = 7;
    const small = Uint8Array.of(1, 2, 3);
    const state = { ram, small, view: new Uint16Array(ram.buffer, 8, 4) };
    store.add(0, state);
    // Two pages of data and a small buffer, not 2 MiB.
    expect(store.bytes).toBeLessThan(3 * 4096 + 1024);
    ram[5] = 1; // the live state moves on; the checkpoint does not
    ram[123_456] = 9;
    store.add(1, state);
    expect(store.bytes).toBeLessThan(6 * 4096 + 2048);
    for (const [step, want] of [
      [0, [0xdead_beef, 0, 7]],
      [1, [1, 9, 7]],
    ] as const) {
      const r = store.restore(step)!;
      expect([r.state.ram[5], r.state.ram[123_456], r.state.ram[300_000]]).toEqual(want);
      expect(r.state.ram.reduce((n, w) => n + (w !== 0 ? 1 : 0), 0)).toBe(want.filter((w) => w !== 0).length);
      expect(r.state.view.buffer).toBe(r.state.ram.buffer);
      expect(Array.from(r.state.small)).toEqual([1, 2, 3]);
      // A restored copy is the caller's to change; the stored one stays as it was.
      r.state.ram[5] = 42;
      expect(store.restore(step)!.state.ram[5]).toBe(want[0]);
    }
  });
});
