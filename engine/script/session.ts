/**
 * What the host keeps of a run: the live lab for queries, and time travel — the state after any
 * step rebuilt by replaying the recorded calls on a fresh lab, helped by checkpoints (user code
 * never runs again). While a replay runs, the shared trace checks the replayed events against the
 * recorded ones instead of appending them, so a replay that diverged would be caught at once.
 */
import { install_watchers } from '../checks/watchers.ts';
import type { CheckRecord } from '../core/checks.ts';
import { raise_check } from '../core/checks.ts';
import { hex } from '../core/format.ts';
import type { Machine } from '../core/machine.ts';
import { deepClone } from '../trace/deep-clone.ts';
import { Timeline } from '../trace/timeline.ts';
import { TraceDivergenceError, type Trace } from '../trace/trace.ts';
import { CallResultLog, type CallSite } from './call-results.ts';
import { LabContext } from './lab-context.ts';
import { panelQuery } from './panels.ts';
import type { CallResult } from './result.ts';

/** Checkpoints a session may keep (the store's byte budget applies as well). */
const MAX_CHECKPOINTS = 4096;
/** Replay time between checkpoints (BENCH.md asks ≤ 50 ms for a whole seek). */
const TARGET_REPLAY_MS = 8;

export class LabSession {
  /** The machine the trace's listeners (check watchers) act on now: the live one, or a replay's. */
  private active: Machine;
  private timeline: Timeline<Machine> | null = null;
  /** The machine panels show after seek(); null means the live one (the end of the run). */
  private view: Machine | null = null;
  private viewStep = -1;
  private disposed = false;
  /** Where the events of the run's end (finish) begin: no call makes them, so no replay does. */
  private finishedAt: number | null = null;

  constructor(private readonly ctx: LabContext) {
    this.active = ctx.machine;
    install_watchers(() => this.active);
  }

  get steps(): number {
    return this.ctx.steps;
  }

  /** The machine at the end of the run. */
  get machine(): Machine {
    return this.ctx.machine;
  }

  /** The machine panels show: the one at the step seek() chose. */
  get shown(): Machine {
    return this.view ?? this.ctx.machine;
  }

  get currentStep(): number {
    return this.view ? this.viewStep : this.ctx.steps;
  }

  get trace(): Trace {
    return this.ctx.machine.trace;
  }

  checks(): CheckRecord[] {
    return [...this.ctx.machine.checks];
  }

  /** `poll` is called every few thousand events the run records (the runner's time limit); null stops it. */
  setInterrupt(poll: (() => void) | null): void {
    this.ctx.machine.trace.setTick(poll);
  }

  /** The run has ended: a call from script code that still runs (after an await) is refused. */
  endScript(): void {
    this.ctx.scriptEnded = true;
  }

  /** Once `steps` calls are done, `atLimit` runs (and throws) before the next call changes anything. */
  setStepLimit(steps: number, atLimit: () => void): void {
    this.ctx.stepLimit = steps;
    this.ctx.atStepLimit = atLimit;
  }

  /** Record each API call and its result from here on, placed by `site` (a matrix cell compares them). */
  recordCallResults(site: CallSite): void {
    this.ctx.results = new CallResultLog(this.ctx.handles, site);
  }

  /** What recordCallResults recorded; undefined when it was not asked for. */
  callResults(): CallResult[] | undefined {
    return this.ctx.results?.calls;
  }

  /** End-of-run rules: gathers filled by iommu_unmap_fast and never synced. */
  finish(): void {
    const m = this.ctx.machine;
    this.finishedAt = m.trace.length;
    for (const p of m.pending_unsynced)
      raise_check(
        m,
        'unmap-without-sync',
        `iommu_unmap_fast on domain ${p.domain.id} unmapped [${hex(p.start)}, ${hex(p.last)}] and no iommu_iotlb_sync followed before the run ended`,
      );
    m.pending_unsynced.length = 0;
  }

  /** Show the state after `step` steps (time travel); the end of the run shows the live lab. */
  seek(step: number): Machine {
    this.check_live();
    const target = Math.max(0, Math.min(Math.floor(step), this.ctx.steps));
    if (target === this.ctx.steps) {
      this.view = null;
      return this.ctx.machine;
    }
    this.view = this.getTimeline().seek(target);
    this.viewStep = target;
    return this.view;
  }

  /** Prepare checkpoints for later seeks, for about `budgetMs` (call again while not done). */
  buildCheckpoints(budgetMs: number): boolean {
    return this.getTimeline().buildCheckpoints(this.ctx.steps, budgetMs).done;
  }

  /** A panel's data at the shown step. */
  query(panel: string, args?: Record<string, unknown>): unknown {
    this.check_live();
    return panelQuery(this.shown, panel, { step: this.currentStep, ...args });
  }

  /**
   * The lab is done (a newer run replaced it): its trace, call log and simulated RAM go to the
   * next lab of this process, which then writes into memory already touched instead of paying
   * the page faults of fresh memory. Nothing may use this session afterwards.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.timeline = null;
    this.view = null;
    this.ctx.machine.trace.release();
    this.ctx.log?.release();
    this.ctx.machine.mem.release();
  }

  private check_live(): void {
    if (this.disposed) throw new Error('this lab was disposed: a newer run replaced it');
  }

  /** The machine after `step` steps, rebuilt from scratch by replaying the call log (no checkpoints). */
  stateAt(step: number): Machine {
    const m = this.fresh();
    this.replay(m, 0, step);
    return m;
  }

  private fresh(): Machine {
    return LabContext.newMachine(this.ctx.options, this.ctx.machine.trace);
  }

  private replay(machine: Machine, from: number, to: number): void {
    const log = this.ctx.log;
    if (!log) throw new Error('this session recorded no calls');
    const t = machine.trace;
    const prev = this.active;
    this.active = machine;
    t.replayFrom(from === 0 ? 0 : t.indexOfStep(from + 1));
    try {
      new LabContext(this.ctx.options, t, false, machine, from).replay(log, from, to);
      // A call that stopped earlier than it did when recorded emits nothing to compare: catch it here.
      const end = to >= this.ctx.steps && this.finishedAt !== null ? this.finishedAt : t.indexOfStep(to + 1);
      if (t.position !== end)
        throw new TraceDivergenceError(
          t.position,
          `the replay of steps ${from + 1}–${to} emitted ${end - t.position} fewer events than were recorded`,
        );
    } finally {
      t.endReplay();
      this.active = prev;
    }
  }

  private getTimeline(): Timeline<Machine> {
    this.timeline ??= new Timeline<Machine>(
      {
        initial: () => this.fresh(),
        replay: (m, from, to) => this.replay(m, from, to),
        clone: (m, copy) => deepClone(m, undefined, copy),
      },
      // A checkpoint holds only the pages the machine uses (tens of KiB for a small lab), so the
      // byte budget, not a count, is what should limit them: a long run keeps its spacing short,
      // and a seek replays a few milliseconds' worth of steps after restoring one.
      { maxCheckpoints: MAX_CHECKPOINTS, targetReplayMs: TARGET_REPLAY_MS },
    );
    return this.timeline;
  }
}
