/**
 * The depot's delayed work, from v6.7 (iova.c iova_depot_work_func, "iommu/iova: Manage the depot
 * list size"; facts §4.2). The depot became an unbounded list, so a burst of frees can park any
 * number of magazines there; the first push after the work last ran arms it, and each run gives
 * one magazine back to the rbtree and re-arms while the depot holds more than num_online_cpus()
 * of them. The runs are timers on the simulated clock, fired by lab.advance_time like the
 * flush-queue timer.
 */
import type { IommuDomain } from '../core/domain.ts';
import type { Machine, Timer } from '../core/machine.ts';
import type { IommuDmaCookie } from './cookie.ts';

/** iova.c IOVA_DEPOT_DELAY: msecs_to_jiffies(100). */
export const IOVA_DEPOT_DELAY = 100;

/**
 * rcache->work of the rcache of order `log` (ranges of 2^log granules): a class instance in
 * machine.timers, so it clones with the state.
 */
export class IovaDepotWork implements Timer {
  constructor(
    readonly due_ms: number,
    readonly domain: IommuDomain,
    readonly log: number,
  ) {}

  fire(_machine: Machine): void {
    const cookie = this.domain.dma_cookie as IommuDmaCookie | null;
    // A freed domain took its rcaches with it (free_iova_rcaches cancels the work).
    if (this.domain.freed || !cookie) return;
    cookie.iovad.iova_depot_work_func(this.log);
  }
}
