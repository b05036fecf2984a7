/**
 * The zPCI hardware model behind s390-iommu: per function, the I/O address translation (IOAT)
 * registered with firmware and its DMA window, and RPCIT, the instruction that refreshes the
 * IOTLB — and, under z/VM or KVM, the hypervisor's shadow of the guest tables (facts §5.7).
 *
 * With `tlb_refresh` the function translates through the hypervisor's shadow of the guest tables,
 * not through the tables themselves (QEMU's s390_translate_iommu looks only in the table RPCIT
 * fills): a page is reachable once an RPCIT covered it while it was mapped, and stays reachable
 * after the guest unmaps it until an RPCIT covers it again (a stale translation). Registering an
 * IOAT starts with an empty shadow and deregistering drops it; registration itself refreshes
 * nothing, so a domain that already has mappings is unreachable until its next RPCIT.
 */
import { SZ_4K } from '../../core/constants.ts';
import type { Device } from '../../core/device.ts';
import type { IommuDriver } from '../../core/driver.ts';
import { EIO, ENOMEM } from '../../core/errno.ts';
import { DMA_ABORT, DMA_BYPASS, IommuDevice, type WalkOut } from '../../core/iommu-device.ts';
import type { Machine } from '../../core/machine.ts';
import { WalkResult } from '../../pgtable/types.ts';
import type { S390Domain } from './domain.ts';
import { ev } from './trace-events.ts';

export interface S390IommuOptions {
  /** First IOVA of the function's DMA window (CLP query: sdma). */
  start_dma: number;
  /** Last IOVA of the DMA window (CLP query: edma), before the driver clamps it. */
  end_dma: number;
  /** The hypervisor shadows the tables (z/VM, KVM): new entries need RPCIT (zdev->tlb_refresh). */
  tlb_refresh: boolean;
  /** An ISM function (PCI_FUNC_TYPE_ISM): no deferred flush, so strict unmaps. */
  ism: boolean;
  /** Relaxed translation available (zdev->rtr_avail): an identity domain from v6.15. */
  rtr: boolean;
  /** Lab knob: the n-th RPCIT of this function (counting from 1) and the next ones fail with -ENOMEM; 0 = never. */
  rpcit_fail_nth: number;
  /** Lab knob: how many RPCITs fail from rpcit_fail_nth on. */
  rpcit_fail_count: number;
  /** Lab knob: registering an IOAT fails (cc 3), so attach returns -EIO. */
  fail_register_ioat: boolean;
  tlb_entries: number;
}

/** What the function translates with: a paging domain's table, or identity (no table). Absent = no IOAT. */
export type Ioat = { readonly kind: 'paging'; readonly domain: S390Domain } | { readonly kind: 'identity' };

/** The root table type (origin_type): region-third, -second or -first. */
export type S390Origin = 'rtx' | 'rsx' | 'rfx';

/** ZPCI_TABLE_SIZE_RT: a region-third root covers 2^42 bytes (2048 × 2048 × 256 × 4 KiB). */
export const ZPCI_TABLE_SIZE_RT = 2 ** 42;
/** ZPCI_TABLE_SIZE_RS: a region-second root covers 2^53 bytes. */
export const ZPCI_TABLE_SIZE_RS = 2 ** 53;

const walkScratch = new WalkResult();

/** A page of a function's shadow: what the guest table said at the last RPCIT that covered it. */
interface ShadowPte {
  readonly pa: number;
  readonly prot: number;
}

export class S390Iommu extends IommuDevice {
  /** Per function (device): the IOAT registered now. */
  readonly ioat = new Map<Device, Ioat>();
  /** The DMA window after the driver's clamping (zdev->start_dma, zdev->end_dma). */
  start_dma: number;
  end_dma: number;
  /** The root table a paging domain for this function gets (settled with the window). */
  origin: S390Origin = 'rtx';
  /** RPCITs issued so far (the failure knob counts them). */
  rpcits = 0;
  /** With tlb_refresh, per function on a paging IOAT: its shadow, page IOVA → translation. */
  readonly shadow = new Map<Device, Map<number, ShadowPte>>();

  constructor(
    machine: Machine,
    name: string,
    driver: IommuDriver,
    readonly cfg: S390IommuOptions,
  ) {
    super(machine, name, driver, cfg.tlb_entries);
    this.caches_not_present = cfg.tlb_refresh;
    this.start_dma = cfg.start_dma;
    this.end_dma = cfg.end_dma;
  }

  /** Bytes of the DMA window. */
  get window(): number {
    return this.end_dma - this.start_dma + 1;
  }

  /**
   * RPCIT over [addr, addr+size) for `dev` (zpci_refresh_trans): 0, or -ENOMEM when the hypervisor
   * runs out of shadow resources (cc 1, status 16) — here when the failure knob says so.
   */
  refresh_trans(dev: Device, tag: number, addr: number, size: number): number {
    const n = ++this.rpcits;
    const nth = this.cfg.rpcit_fail_nth;
    const ret = nth > 0 && n >= nth && n < nth + this.cfg.rpcit_fail_count ? -ENOMEM : 0;
    const t = this.machine.trace;
    t.emit(ev.rpcit, t.str(dev.name), addr, size, ret);
    this.reshadow(dev, addr, size, ret === 0);
    if (!ret) this.tlb.invalidate_range(tag, addr, size);
    return ret;
  }

  /**
   * Bring the function's shadow over [addr, addr+size) in line with its table, as the hypervisor
   * does for an RPCIT (QEMU's rpcit_service_call): pages the table no longer maps leave the shadow;
   * mapped pages enter it or are updated — unless the hypervisor is out of resources (`may_add`
   * false), when only the removals happen.
   */
  private reshadow(dev: Device, addr: number, size: number, may_add: boolean): void {
    const pages = this.shadow.get(dev);
    const ioat = this.ioat.get(dev);
    const pgtbl = ioat?.kind === 'paging' ? ioat.domain.pgtbl : null;
    if (!pages || !pgtbl) return;
    const first = Math.max(addr, this.start_dma);
    const last = Math.min(addr + size - 1, this.end_dma);
    if (first > last) return;
    const in_range = (iova: number) => iova >= first && iova <= last;
    const drop_if_unmapped = (iova: number) => {
      if (!(may_add && pgtbl.walk(iova, walkScratch))) pages.delete(iova);
    };
    const first_page = first - (first % SZ_4K);
    // Whichever is shorter: the pages of the range, or the pages the shadow holds.
    if ((last - first_page) / SZ_4K < pages.size) {
      for (let iova = first_page; iova <= last; iova += SZ_4K) if (pages.has(iova)) drop_if_unmapped(iova);
    } else {
      for (const iova of pages.keys()) if (in_range(iova)) drop_if_unmapped(iova);
    }
    if (!may_add) return;
    for (const leaf of pgtbl.leaves(first_page)) {
      if (leaf.iova > last) break;
      for (let off = 0; off < leaf.size; off += SZ_4K)
        if (in_range(leaf.iova + off)) pages.set(leaf.iova + off, { pa: leaf.pa + off, prot: leaf.prot });
    }
  }

  /** RPCIT over the whole DMA window (zpci_refresh_all). */
  refresh_all(dev: Device, tag: number): number {
    return this.refresh_trans(dev, tag, this.start_dma, this.window);
  }

  /** Register the IOAT for [start_dma, end_dma] (zpci_register_ioat): 0, or -EIO for a nonzero cc. */
  register_ioat(dev: Device, ioat: Ioat): number {
    const cc = this.cfg.fail_register_ioat ? 3 : 0;
    const table = ioat.kind === 'paging' ? (ioat.domain.pgtbl?.root ?? 0) : 0;
    const t = this.machine.trace;
    t.emit(ev.register_ioat, t.str(dev.name), this.start_dma, this.end_dma, table, cc);
    if (cc) return -EIO;
    this.ioat.set(dev, ioat);
    if (this.cfg.tlb_refresh && ioat.kind === 'paging') this.shadow.set(dev, new Map());
    return 0;
  }

  /**
   * Deregister the IOAT (zpci_unregister_ioat): DMA is blocked, and the function's cached
   * translations go with it, as QEMU's s390_pci_iommu_disable empties the IOTLB. Linux relies on
   * it: s390_iommu_iotlb_sync RPCITs only the functions attached now, so an unmap on a domain a
   * function has left is never refreshed for it. Entries are tagged by domain, so the drop is of
   * the domain's tag (with one function per instance, everything this function cached).
   */
  unregister_ioat(dev: Device): void {
    const ioat = this.ioat.get(dev);
    if (!ioat) return;
    this.ioat.delete(dev);
    this.shadow.delete(dev);
    const t = this.machine.trace;
    t.emit(ev.unregister_ioat, t.str(dev.name));
    if (ioat.kind === 'paging') this.tlb.invalidate_tag(ioat.domain.id);
  }

  // ── the device side ──

  override dma_tag(dev: Device): number {
    const ioat = this.ioat.get(dev);
    if (!ioat) return DMA_ABORT;
    if (ioat.kind === 'identity') return DMA_BYPASS;
    return ioat.domain.id;
  }

  override dma_abort_reason(): string {
    return 'no-ioat';
  }

  override dma_walk(dev: Device, iova: number, out: WalkOut): boolean {
    const ioat = this.ioat.get(dev);
    if (!ioat || ioat.kind !== 'paging' || !ioat.domain.pgtbl) return false;
    // Firmware translates only the registered window; anything outside is an address error.
    if (iova < this.start_dma || iova > this.end_dma) {
      out.fault = 'out-of-dma-window';
      return false;
    }
    out.fault = '';
    const pgtbl = ioat.domain.pgtbl;
    const pages = this.shadow.get(dev);
    if (!pages) return pgtbl.walk(iova, walkScratch) && out.from(walkScratch);
    const page = iova - (iova % SZ_4K);
    const pte = pages.get(page);
    if (!pte) return false;
    out.iova = page;
    out.pa = pte.pa;
    out.size = SZ_4K;
    out.prot = pte.prot;
    // The guest unmapped or remapped the page since the last RPCIT over it.
    out.stale =
      !pgtbl.walk(page, walkScratch) || walkScratch.pa_base !== pte.pa || walkScratch.prot !== pte.prot;
    return true;
  }
}
