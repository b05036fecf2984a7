/**
 * The lazy-unmap flush queue of dma-iommu (facts §4.3). An unmapped IOVA waits here, tagged with
 * the flush count at the time, until an IOTLB flush that started after it has finished; only then
 * is it freed, so a device can still hit its stale IOTLB entry meanwhile but the address is never
 * handed out again before the flush. A full ring flushes at once; a timer armed by the first
 * entry flushes whatever is queued when it fires.
 */
import type { IommuDomain } from '../core/domain.ts';
import type { Machine, Timer } from '../core/machine.ts';
import { iommu_flush_iotlb_all } from '../core/unmap.ts';
import { PAGE_SIZE } from '../mem/phys-mem.ts';
import type { IommuDmaCookie } from './cookie.ts';
import { ev } from './trace-events.ts';

/** Per-CPU queue: entries and timeout in ms (dma-iommu.c IOVA_DEFAULT_FQ_SIZE, IOVA_DEFAULT_FQ_TIMEOUT). */
export const IOVA_DEFAULT_FQ_SIZE = 256;
export const IOVA_DEFAULT_FQ_TIMEOUT = 10;
/** One shared queue for IOMMUs whose flush is costly, s390's shadow tables (IOVA_SINGLE_FQ_SIZE, _TIMEOUT). */
export const IOVA_SINGLE_FQ_SIZE = 32768;
export const IOVA_SINGLE_FQ_TIMEOUT = 1000;

/** struct iova_fq_entry */
export class IovaFqEntry {
  constructor(
    readonly iova_pfn: number,
    readonly pages: number,
    /** fq_flush_start_cnt when queued: freed once fq_flush_finish_cnt has passed it. */
    readonly counter: number,
    /** Page-table pages the unmap released, freed only after the flush. */
    readonly freelist: number[],
  ) {}
}

/**
 * struct iova_fq. Linux's ring keeps one slot empty to tell full from empty, so it holds
 * size − 1 entries; the array here holds the same entries, oldest first.
 */
export class IovaFq {
  readonly entries: IovaFqEntry[] = [];
  constructor(readonly size: number) {}

  full(): boolean {
    return this.entries.length >= this.size - 1;
  }
}

/** The queue's timer (cookie->fq_timer): a class instance in machine.timers, so it clones with the state. */
export class FqTimer implements Timer {
  constructor(
    readonly due_ms: number,
    readonly domain: IommuDomain,
  ) {}

  fire(_machine: Machine): void {
    const cookie = this.domain.dma_cookie as IommuDmaCookie | null;
    // A freed domain took its queue with it (iommu_dma_free_fq deletes the timer).
    if (this.domain.freed || !cookie?.fq) return;
    fq_flush_timeout(this.domain, cookie);
  }
}

/** fq_flush_iotlb: bracket a full IOTLB flush with the start and finish counters. */
function fq_flush_iotlb(domain: IommuDomain, cookie: IommuDmaCookie): void {
  cookie.fq_flush_start_cnt++;
  iommu_flush_iotlb_all(domain);
  cookie.fq_flush_finish_cnt++;
}

/** fq_ring_free: release, oldest first, every entry a finished flush covers. Returns how many. */
function fq_ring_free(domain: IommuDomain, cookie: IommuDmaCookie): number {
  const fq = cookie.fq!;
  const m = domain.machine;
  let freed = 0;
  while (fq.entries.length && fq.entries[0].counter < cookie.fq_flush_finish_cnt) {
    const e = fq.entries.shift()!;
    put_pages_list(m, e.freelist);
    const to = cookie.iovad.free_iova_fast(e.iova_pfn, e.pages);
    m.trace.emit(
      ev.iova_free,
      domain.id,
      e.iova_pfn * cookie.iovad.granule,
      e.pages * cookie.iovad.granule,
      m.trace.str(to),
    );
    freed++;
  }
  return freed;
}

/** Free page-table pages once no walk can reach them (iommu_put_pages_list). */
function put_pages_list(machine: Machine, freelist: number[]): void {
  for (const pa of freelist) if (machine.mem.is_allocated(pa)) machine.mem.free_pages(pa, PAGE_SIZE);
  freelist.length = 0;
}

/**
 * queue_iova: defer freeing [pfn, pfn + pages) until after the next IOTLB flush. Entries already
 * covered by a finished flush are released first; a ring still full then flushes now.
 */
export function queue_iova(
  domain: IommuDomain,
  cookie: IommuDmaCookie,
  pfn: number,
  pages: number,
  freelist: number[],
): void {
  const fq = cookie.fq!;
  const m = domain.machine;
  fq_ring_free(domain, cookie);
  if (fq.full()) {
    fq_flush_iotlb(domain, cookie);
    const freed = fq_ring_free(domain, cookie);
    m.trace.emit(ev.fq_flush, domain.id, m.trace.str('full'), freed);
  }
  fq.entries.push(new IovaFqEntry(pfn, pages, cookie.fq_flush_start_cnt, freelist.splice(0)));
  const node = cookie.iovad.find_iova(pfn);
  if (node) node.state = 'queued';
  const g = cookie.iovad.granule;
  m.trace.emit(ev.fq_enqueue, domain.id, pfn * g, pages * g, cookie.fq_flush_start_cnt, fq.entries.length);
  if (!cookie.fq_timer_on) {
    cookie.fq_timer_on = true;
    m.timers.push(new FqTimer(m.clock_ms + cookie.fq_timeout, domain));
  }
}

/** fq_flush_timeout: the timer fired — flush the IOTLB and drain the queue. */
export function fq_flush_timeout(domain: IommuDomain, cookie: IommuDmaCookie): void {
  cookie.fq_timer_on = false;
  fq_flush_iotlb(domain, cookie);
  const freed = fq_ring_free(domain, cookie);
  const m = domain.machine;
  m.trace.emit(ev.fq_flush, domain.id, m.trace.str('timeout'), freed);
}
