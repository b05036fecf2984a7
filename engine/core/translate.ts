/**
 * The device side: a DMA access translated as the hardware would — the IOTLB first, then the walk
 * (or the virtio host's mappings) — with permission checks and faults recorded on the instance.
 */
import { raise_check } from './checks.ts';
import { IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from './constants.ts';
import type { Device } from './device.ts';
import { hex } from './format.ts';
import { DMA_ABORT, DMA_BYPASS, WalkOut } from './iommu-device.ts';
import { mod_pow2 } from './pgsize.ts';
import { ev } from './trace-events.ts';

export type TlbOutcome = 'hit' | 'miss' | 'stale';

export interface DmaFault {
  reason: string;
  iova: number;
  write: boolean;
}

export type DmaResult =
  { ok: true; pa: number; tlb: TlbOutcome; data?: Uint8Array } | { ok: false; fault: DmaFault };

/** One translated page of an access: where it went and how the IOTLB answered. */
class PageResult {
  pa = 0;
  /** Bytes left in the page (or leaf) from this IOVA. */
  span = 0;
  tlb: TlbOutcome = 'hit';
  fault = '';
  /** False for a fault the hardware does not record (an SMMUv3 abort STE): the access just fails. */
  recorded = true;
}

const walkOut = new WalkOut();
const pageOut = new PageResult();

function translate_one(dev: Device, iova: number, write: boolean, out: PageResult): void {
  const iommu = dev.iommu;
  const tlb = iommu.tlb;
  out.fault = '';
  out.recorded = true;
  const tag = iommu.dma_tag(dev);
  if (tag === DMA_BYPASS) {
    out.pa = iova;
    out.span = 0x1000 - mod_pow2(iova, 0x1000);
    out.tlb = 'hit';
    return;
  }
  if (tag === DMA_ABORT) {
    out.fault = iommu.dma_abort_reason(dev);
    out.recorded = iommu.dma_abort_recorded(dev, iova, write);
    return;
  }
  const need = write ? IOMMU_WRITE : IOMMU_READ;
  // Without an IOTLB (the Tegra GART) every access reads the translation afresh: always a 'miss'.
  const cached = iommu.has_iotlb;
  const i = cached ? tlb.lookup(tag, iova) : -1;
  if (i >= 0) {
    const stale = tlb.is_stale(i);
    if (stale) tlb.stats.stale_hits++;
    else tlb.stats.hits++;
    if (tlb.is_negative(i)) {
      out.fault = 'translation';
      out.tlb = stale ? 'stale' : 'hit';
      return;
    }
    const base = tlb.iova_of(i);
    out.pa = tlb.pa_of(i) + (iova - base);
    out.span = base + tlb.size_of(i) - iova;
    out.tlb = stale ? 'stale' : 'hit';
    if (refuses(tlb.prot_of(i), need)) out.fault = iommu.permission_fault;
    return;
  }
  if (cached) tlb.stats.misses++;
  out.tlb = 'miss';
  walkOut.stale = false;
  walkOut.fault = ''; // a walk that fails before naming a reason means 'translation', not the last walk's reason
  if (!iommu.dma_walk(dev, iova, walkOut)) {
    out.fault = walkOut.fault || 'translation';
    if (cached && iommu.caches_not_present) {
      const page = Math.floor(iova / 0x1000) * 0x1000;
      tlb.insert(tag, page, 0x1000, 0, 0, true);
    }
    return;
  }
  if (cached) {
    tlb.insert(tag, walkOut.iova, walkOut.size, walkOut.pa, walkOut.prot, false);
    if (walkOut.stale) tlb.mark_stale(tag, walkOut.iova, walkOut.size);
  }
  if (walkOut.stale) out.tlb = 'stale';
  out.pa = walkOut.pa + (iova - walkOut.iova);
  out.span = walkOut.iova + walkOut.size - iova;
  if (refuses(walkOut.prot, need)) out.fault = iommu.permission_fault;
}

/**
 * Whether a leaf's prot refuses an access. Device accesses are unprivileged: a PCIe request carries
 * no privilege (short of a PASID prefix saying so) and Linux leaves the SMMU's STE.PRIVCFG at "use
 * incoming", so a mapping made with IOMMU_PRIV (Arm LPAE: AP[1] clear, facts §1.1) refuses them all.
 * Formats that ignore IOMMU_PRIV never report it in a leaf's prot.
 */
const refuses = (prot: number, need: number) => (prot & (need | IOMMU_PRIV)) !== need;

/** The failed access's result; the fault goes to iommu.faults and the trace unless the hardware drops it. */
function record_fault(dev: Device, iova: number, write: boolean, reason: string, recorded = true): DmaResult {
  if (!recorded) return { ok: false, fault: { reason, iova, write } };
  const m = dev.machine;
  const fault = { reason, iova, write, device: dev.name, step: m.trace.step };
  dev.iommu.faults.push(fault);
  m.trace.emit(ev.io_page_fault, m.trace.str(dev.name), iova, write ? 1 : 0, m.trace.str(reason));
  return { ok: false, fault: { reason, iova, write } };
}

const WORST: Record<TlbOutcome, number> = { hit: 0, miss: 1, stale: 2 };

/**
 * A device access of `length` bytes at `iova`, page by page. The result's `pa` is where the first
 * byte went; `tlb` is the worst IOTLB outcome over the pages ('stale' beats 'miss' beats 'hit').
 */
export function device_dma(
  dev: Device,
  iova: number,
  length: number,
  write: boolean,
  bytes?: Uint8Array,
): DmaResult {
  const m = dev.machine;
  let done = 0;
  let firstPa = 0;
  let outcome: TlbOutcome = 'hit';
  const data = write ? undefined : new Uint8Array(length);
  do {
    const cur = iova + done;
    translate_one(dev, cur, write, pageOut);
    if (pageOut.tlb === 'stale') {
      raise_check(
        m,
        'stale-iotlb-hit',
        pageOut.fault === 'translation'
          ? `${dev.name} faulted at ${hex(cur)} on a stale not-present IOTLB entry on ${dev.iommu.name}: the table maps it now`
          : `${dev.name} ${write ? 'wrote' : 'read'} ${hex(cur)} through a stale IOTLB entry on ${dev.iommu.name}`,
      );
      note_unsynced(dev, cur);
    }
    if (pageOut.fault) return record_fault(dev, cur, write, pageOut.fault, pageOut.recorded);
    if (WORST[pageOut.tlb] > WORST[outcome]) outcome = pageOut.tlb;
    if (done === 0) firstPa = pageOut.pa;
    const n = Math.min(pageOut.span, length - done);
    if (n > 0) {
      if (write) m.mem.write(pageOut.pa, bytes!.subarray(done, done + n));
      else m.mem.read_into(pageOut.pa, data!, done, n);
    }
    done += n;
  } while (done < length);
  m.trace.emit(
    ev.dma_access,
    m.trace.str(dev.name),
    iova,
    length,
    write ? 1 : 0,
    firstPa,
    m.trace.str(outcome),
  );
  return data ? { ok: true, pa: firstPa, tlb: outcome, data } : { ok: true, pa: firstPa, tlb: outcome };
}

/** A stale hit inside a range still waiting for its iotlb_sync is the unmap-without-sync bug. */
function note_unsynced(dev: Device, iova: number): void {
  const m = dev.machine;
  const current = dev.group?.domain;
  for (const p of m.pending_unsynced) {
    if (p.domain === current && iova >= p.start && iova <= p.last)
      raise_check(
        m,
        'unmap-without-sync',
        `${dev.name} reached ${hex(iova)} after iommu_unmap_fast on domain ${p.domain.id} without iommu_iotlb_sync`,
      );
  }
}

/**
 * The hardware's translation of one access, without data movement or the lab's dma_access event:
 * the PA, or -1 when the access faults (the fault is recorded as for any access). The device-side
 * benchmarks time this path.
 */
export function device_translate(dev: Device, iova: number, write: boolean): number {
  translate_one(dev, iova, write, pageOut);
  if (pageOut.fault) {
    record_fault(dev, iova, write, pageOut.fault, pageOut.recorded);
    return -1;
  }
  return pageOut.pa;
}
