import { describe, expect, it } from 'vitest';
import { AutosaveTimer, type Clock } from './autosave-timer.ts';

/** A clock that moves only when told to, running timers in order. */
class StepClock implements Clock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown) => void this.timers.delete(h as number);
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, x]) => x.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

function setup() {
  const clock = new StepClock();
  const saves: number[] = [];
  const timer = new AutosaveTimer(() => saves.push(clock.t), { quietMs: 1000, maxDelayMs: 3000 }, clock);
  return { clock, saves, timer };
}

describe('AutosaveTimer', () => {
  it('saves a quiet moment after the last change', () => {
    const { clock, saves, timer } = setup();
    timer.changed();
    clock.advance(500);
    timer.changed();
    clock.advance(999);
    expect(saves).toEqual([]);
    clock.advance(1);
    expect(saves).toEqual([1500]);
    expect(timer.pending).toBe(false);
    clock.advance(10_000);
    expect(saves).toEqual([1500]);
  });

  it('saves at least every maxDelayMs while changes keep coming', () => {
    const { clock, saves, timer } = setup();
    for (let i = 0; i < 100; i++) {
      timer.changed();
      clock.advance(200);
    }
    // Changes every 200 ms for 20 s: saved every 3 s, never waiting for a quiet moment.
    expect(saves.slice(0, 3)).toEqual([3000, 6000, 9000]);
    expect(saves.every((t, i) => i === 0 || t - saves[i - 1]! <= 3000)).toBe(true);
  });

  it('flush saves at once when something waits, and only then; cancel drops it', () => {
    const { clock, saves, timer } = setup();
    timer.flush();
    expect(saves).toEqual([]);
    timer.changed();
    timer.flush();
    expect(saves).toEqual([0]);
    clock.advance(5000);
    expect(saves).toEqual([0]);
    timer.changed();
    timer.cancel();
    clock.advance(5000);
    expect(saves).toEqual([0]);
  });
});
