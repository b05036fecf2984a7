/**
 * What the host keeps of a run: the live lab for queries, and time travel — the state after any
 * step rebuilt by replaying the recorded calls on a fresh lab (user code never runs again).
 */
import type { CheckRecord } from '../core/checks.ts';
import { raise_check } from '../core/checks.ts';
import { hex } from '../core/format.ts';
import type { Machine } from '../core/machine.ts';
import type { Trace } from '../trace/trace.ts';
import { LabContext } from './lab-context.ts';

export class LabSession {
  constructor(private readonly ctx: LabContext) {}

  get steps(): number {
    return this.ctx.steps;
  }

  get machine(): Machine {
    return this.ctx.machine;
  }

  get trace(): Trace {
    return this.ctx.machine.trace;
  }

  checks(): CheckRecord[] {
    return [...this.ctx.machine.checks];
  }

  /** End-of-run rules: gathers that were filled by iommu_unmap_fast and never synced. */
  finish(): void {
    const m = this.ctx.machine;
    for (const [domain, gather] of m.pending_unsynced) {
      if (gather.end !== 0)
        raise_check(
          m,
          'unmap-without-sync',
          `iommu_unmap_fast on domain ${domain.id} gathered [${hex(gather.start)}, ${hex(gather.end)}] and no iommu_iotlb_sync followed before the run ended`,
        );
    }
    m.pending_unsynced.clear();
  }

  /** The machine after `step` steps, rebuilt from the call log on a fresh lab (events go to a scratch trace). */
  stateAt(step: number): Machine {
    const log = this.ctx.log;
    if (!log) throw new Error('this session recorded no calls');
    const target = Math.max(0, Math.min(step, log.calls.length));
    const replay = new LabContext(this.ctx.options, new (this.ctx.machine.trace.constructor as new () => Trace)(), false);
    replay.replay(log.calls, 0, target);
    return replay.machine;
  }
}
