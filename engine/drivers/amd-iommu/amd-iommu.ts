/**
 * The AMD-Vi hardware model: a device table (one DTE per device), the command buffer whose
 * commands act on the IOTLB, and the NpCache capability (facts §5.6).
 */
import type { Device } from '../../core/device.ts';
import type { IommuDriver } from '../../core/driver.ts';
import { DMA_ABORT, DMA_BYPASS, IommuDevice, type WalkOut } from '../../core/iommu-device.ts';
import type { Machine } from '../../core/machine.ts';
import { WalkResult } from '../../pgtable/types.ts';
import type { ProtectionDomain } from './domain.ts';
import { ev } from './trace-events.ts';

export interface AmdIommuOptions {
  /** Capability NpCache: the IOMMU caches non-present entries (virtual AMD IOMMUs). */
  np_cache: boolean;
  /** EFR2 HTRangeIgnore: the HyperTransport range is not reserved (honoured from v6.16). */
  ht_range_ignore: boolean;
  tlb_entries: number;
}

/** A device table entry as the lab models it. Absent or 'blocked': V and TV set, no IR/IW, so DMA is refused. */
export type Dte =
  | { readonly kind: 'blocked' }
  | { readonly kind: 'pt'; readonly domid: number }
  | { readonly kind: 'v1'; readonly domain: ProtectionDomain };

const PAGE_SIZE = 0x1000;
/** Bits 63:52 of an address are sign extension: a range differing at bit 51 or above flushes everything. */
const MSB_DIFF_FLUSH_ALL = 51;

const walkScratch = new WalkResult();

export class AmdIommu extends IommuDevice {
  readonly dte = new Map<Device, Dte>();
  /** Commands queued since the last COMPLETION_WAIT. */
  pending_cmds = 0;

  constructor(
    machine: Machine,
    name: string,
    driver: IommuDriver,
    readonly cfg: AmdIommuOptions,
  ) {
    super(machine, name, driver, cfg.tlb_entries);
    this.caches_not_present = cfg.np_cache;
  }

  // ── commands ──

  /**
   * INVALIDATE_IOMMU_PAGES over [iova, iova+size) for a domain (build_inv_address): one page, or the
   * naturally aligned block up to the highest bit where start and end differ, or all pages.
   */
  inv_iommu_pages(domid: number, iova: number, size: number): void {
    const t = this.machine.trace;
    const last = iova + size - 1;
    let base = Math.floor(iova / PAGE_SIZE) * PAGE_SIZE;
    let span = PAGE_SIZE;
    if (Math.floor(last / PAGE_SIZE) !== Math.floor(iova / PAGE_SIZE)) {
      let msb = 12;
      while (Math.floor(iova / 2 ** (msb + 1)) !== Math.floor(last / 2 ** (msb + 1))) msb++;
      if (msb > MSB_DIFF_FLUSH_ALL) {
        this.inv_iommu_pages_all(domid);
        return;
      }
      span = 2 ** (msb + 1);
      base = Math.floor(iova / span) * span;
    }
    t.emit(ev.pages_inval, t.str(this.name), domid, base, span);
    this.pending_cmds++;
    this.tlb.invalidate_range(domid, base, span);
  }

  /** INVALIDATE_IOMMU_PAGES with CMD_INV_IOMMU_ALL_PAGES_ADDRESS: the whole domain. */
  inv_iommu_pages_all(domid: number): void {
    const t = this.machine.trace;
    // The address is CMD_INV_IOMMU_ALL_PAGES_ADDRESS (beyond a safe integer): shown as size 0.
    t.emit(ev.pages_inval, t.str(this.name), domid, 0, 0);
    this.pending_cmds++;
    this.tlb.invalidate_tag(domid);
  }

  inv_devtab_entry(dev: Device): void {
    const t = this.machine.trace;
    t.emit(ev.devtab_inval, t.str(this.name), t.str(dev.name));
    this.pending_cmds++;
  }

  inv_all(): void {
    const t = this.machine.trace;
    t.emit(ev.all_inval, t.str(this.name));
    this.pending_cmds++;
    this.tlb.invalidate_all();
  }

  completion_wait(): void {
    const t = this.machine.trace;
    t.emit(ev.completion_wait, t.str(this.name), this.pending_cmds);
    this.pending_cmds = 0;
  }

  /** Write a DTE, then make the IOMMU reread it (set_dte_entry + device_flush_dte). */
  set_dte(dev: Device, dte: Dte): void {
    const t = this.machine.trace;
    if (dte.kind === 'blocked') this.dte.delete(dev);
    else this.dte.set(dev, dte);
    const domid = dte.kind === 'v1' ? dte.domain.pd_id : dte.kind === 'pt' ? dte.domid : 0;
    const mode = dte.kind === 'v1' && dte.domain.pgtbl ? dte.domain.pgtbl.levels : 0;
    t.emit(ev.set_dte, t.str(this.name), t.str(dev.name), t.str(dte.kind), domid, mode);
    this.inv_devtab_entry(dev);
  }

  // ── the device side ──

  override dma_tag(dev: Device): number {
    const dte = this.dte.get(dev);
    if (!dte || dte.kind === 'blocked') return DMA_ABORT;
    if (dte.kind === 'pt') return DMA_BYPASS;
    return dte.domain.pd_id;
  }

  /**
   * A DTE with V=1, TV=0 (the blocked domain) ends the access and the IOMMU logs an IO_PAGE_FAULT
   * (AMD IOMMU spec, IO_PAGE_FAULT event types), so the fault is recorded.
   */
  override dma_abort_reason(): string {
    return 'dte-blocked';
  }

  override dma_walk(dev: Device, iova: number, out: WalkOut): boolean {
    const dte = this.dte.get(dev);
    if (!dte || dte.kind !== 'v1' || !dte.domain.pgtbl) return false;
    out.fault = '';
    if (!dte.domain.pgtbl.walk(iova, walkScratch)) return false;
    out.iova = walkScratch.iova_base;
    out.pa = walkScratch.pa_base;
    out.size = walkScratch.size;
    out.prot = walkScratch.prot;
    return true;
  }
}
