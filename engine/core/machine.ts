import { PhysMem } from '../mem/phys-mem.ts';
import { Trace } from '../trace/trace.ts';
import type { CheckId, CheckRecord } from './checks.ts';
import type { Device } from './device.ts';
import type { IommuDomain } from './domain.ts';
import type { IommuIotlbGather } from './gather.ts';
import type { IommuGroup } from './group.ts';
import type { IommuDevice } from './iommu-device.ts';
import { KernelProfile, type KernelName } from './kernel-profile.ts';

/** Something that runs at a simulated time: a flush-queue timer. An object, so state stays cloneable. */
export interface Timer {
  readonly due_ms: number;
  fire(machine: Machine): void;
}

/**
 * The simulated machine: everything a run changes. It holds plain data only (no closures), so a
 * checkpoint is a deep clone of it.
 */
/** [start, last] unmapped by iommu_unmap_fast calls on `domain` with one gather, not synced yet. */
/** What iommu_unmap_fast left in one gather for one domain (a gather may be used for several). */
export interface PendingUnmap {
  gather: IommuIotlbGather;
  domain: IommuDomain;
  start: number;
  last: number;
}

export class Machine {
  /** Changes only through lab.kernel() before any hardware exists. */
  profile: KernelProfile;
  readonly mem: PhysMem;
  /** Not part of checkpoints: the log is shared by every replay of the same run. */
  trace: Trace;
  readonly iommus: IommuDevice[] = [];
  readonly devices: Device[] = [];
  readonly groups: IommuGroup[] = [];
  /** Live domains (allocated, not freed), in allocation order. */
  readonly domains: IommuDomain[] = [];
  /** Every domain ever allocated, by id (freed ones too: a script may still hold their handles). */
  readonly domain_by_id = new Map<number, IommuDomain>();
  /** Objects the script layer made and names by key (gathers), so replays find them again. */
  readonly script_objects = new Map<string, object>();
  /** Per-driver globals (struct iommu_ops fields a driver may write, static domains). */
  readonly driver_globals = new Map<string, Record<string, unknown>>();
  readonly checks: CheckRecord[] = [];
  readonly disabled_checks = new Set<CheckId>();
  readonly timers: Timer[] = [];
  /**
   * What each gather given to iommu_unmap_fast has unmapped and no iommu_iotlb_sync has completed
   * yet (the unmap-without-sync check): the core's own record, as drivers fill gathers their way
   * (virtio-iommu queues UNMAPs and leaves the gather empty).
   */
  readonly pending_unsynced: PendingUnmap[] = [];

  /** What iommu_unmap_fast left in `gather` for `domain` and no sync has completed, or -1. */
  pending_unmap(gather: IommuIotlbGather, domain: IommuDomain): number {
    return this.pending_unsynced.findIndex((p) => p.gather === gather && p.domain === domain);
  }
  /** The lab's own look at a domain (a check's diagnosis) is under way: it raises no check itself. */
  diagnosing = false;
  /** prot of the iommu_map in progress: the checks that watch map_pages read it. */
  map_prot = 0;
  next_domain_id = 1;
  next_group_id = 0;
  clock_ms = 0;
  /** mulberry32 state for lab.random(): the seed itself, so every 32-bit seed is its own sequence. */
  rng_state = 0;
  /** iommu.strict= / iommu_set_dma_strict(): null means the Kconfig default for the driver's arch. */
  iommu_strict: boolean | null = null;
  /** The driver that called iommu_set_dma_strict(), whose word beats any wish for a lazy domain. */
  dma_strict_forced_by: string | null = null;
  /** iommu.passthrough=1 */
  iommu_passthrough = false;
  /** iommu.forcedac=1, or a driver that sets iommu_dma_forcedac (s390 from v6.7): no 32-bit IOVA first. */
  iommu_dma_forcedac = false;

  constructor(kernel: KernelName, trace = new Trace()) {
    this.profile = new KernelProfile(kernel);
    this.mem = new PhysMem();
    this.trace = trace;
  }

  globals(driver: string): Record<string, unknown> {
    let g = this.driver_globals.get(driver);
    if (!g) this.driver_globals.set(driver, (g = {}));
    return g;
  }

  seed(n: number): void {
    this.rng_state = n >>> 0;
  }

  /**
   * mulberry32: a counter stepped by an odd constant and mixed on the way out, so the state is one
   * number and any 32-bit value (0 included) is a valid seed with its own sequence; xorshift has no
   * zero state and had to map seed 0 onto another seed's sequence.
   */
  random(): number {
    const s = (this.rng_state = (this.rng_state + 0x6d2b79f5) >>> 0);
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** Move simulated time and fire the timers that come due, in due order. */
  advance_time(ms: number): void {
    const until = this.clock_ms + ms;
    for (;;) {
      let next = -1;
      for (let i = 0; i < this.timers.length; i++)
        if (this.timers[i].due_ms <= until && (next < 0 || this.timers[i].due_ms < this.timers[next].due_ms))
          next = i;
      if (next < 0) break;
      const [timer] = this.timers.splice(next, 1);
      this.clock_ms = Math.max(this.clock_ms, timer.due_ms);
      timer.fire(this);
    }
    this.clock_ms = until;
  }
}
