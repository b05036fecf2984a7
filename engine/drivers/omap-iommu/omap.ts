/**
 * The OMAP MMU hardware model (facts §5.2).
 *
 * A lab 'omap-iommu' instance stands for the MMUs one client's DT `iommus` property lists: one for
 * an OMAP4/5 or DRA7 IPU, two mirrored ones for a DRA7 DSP (option `mmus`). Each MMU is a struct
 * omap_iommu with its own translation table base (MMU_TTB), enable bit (MMU_CNTL.MMU_EN) and TLB;
 * the driver programs them alike. The L1 table an MMU walks is whatever the last attach handed it
 * (obj->iopgd): the table belongs to the MMU, not to a domain, which is the design the 2023 thread
 * called mistaken (facts §6).
 *
 * With MMU_EN clear the MMU does not translate: accesses pass through untranslated, the state the
 * v6.7 conversion named the identity domain ("what omap does during set_platform_dma is actually
 * putting the iommu into identity mode"). Device DMA in the lab goes through the first MMU, the
 * one omap_iommu_probe_device hands the core.
 */
import type { Device } from '../../core/device.ts';
import type { IommuDriver } from '../../core/driver.ts';
import { DMA_BYPASS, IommuDevice, type WalkOut } from '../../core/iommu-device.ts';
import type { Machine } from '../../core/machine.ts';
import { Iotlb } from '../../iotlb/iotlb.ts';
import { KIND_EMPTY, KIND_TABLE, POW2 } from '../../pgtable/format.ts';
import type { IoPgtable } from '../../pgtable/io-pgtable.ts';
import { WalkResult, type IommuFlushOps, type LeafWalker, type MappingRange } from '../../pgtable/types.ts';
import type { OmapIommuDomain } from './domain.ts';
import { ev } from './trace-events.ts';

export interface OmapIommuOptions {
  tlb_entries: number;
  mmus: number;
}

/** The OMAP MMU TLB has no address-space tag: one translation context per MMU. */
export const OMAP_TLB_TAG = 0;

/**
 * The flush callbacks of one L1 table, made for the MMU it was allocated for. Only changes to the
 * table that MMU walks now can leave its TLB out of date; the driver flushes entries itself
 * (flush_iotlb_page around every store and clear), so gathers stay empty.
 */
export class OmapTableOwner implements IommuFlushOps {
  /** Set right after the table is made (the table needs its owner first). */
  pt: IoPgtable | null = null;

  constructor(readonly mmu: OmapMmu) {}

  tlb_add_page(): void {}

  /** The MMU caches leaves only (no walk cache), so a freed L2 table needs no invalidation. */
  tlb_flush_walk(): void {}

  pte_changed(iova: number, size: number, table?: LeafWalker | null): void {
    if (this.pt && this.mmu.iopgd === this.pt) this.mmu.tlb.mark_stale(OMAP_TLB_TAG, iova, size, table);
  }
}

/** struct omap_iommu: one MMU. */
export class OmapMmu {
  /** obj->iopgd: the L1 table MMU_TTB points at; null while detached. */
  iopgd: IoPgtable | null = null;
  /** MMU_CNTL.MMU_EN */
  enabled = false;
  /** obj->domain: the domain that attached this MMU last. */
  domain: OmapIommuDomain | null = null;

  constructor(
    readonly machine: Machine,
    readonly name: string,
    readonly tlb: Iotlb,
  ) {}

  /** omap_iommu_attach: point MMU_TTB at `table`, enable translation and table walks, flush the TLB. */
  attach(table: IoPgtable, domain: OmapIommuDomain): void {
    this.iopgd = table;
    this.enabled = true;
    const t = this.machine.trace;
    t.emit(ev.enable, t.str(this.name), table.root, domain.id);
    this.flush_iotlb_all();
  }

  /** omap_iommu_detach: forget the table and switch translation off. */
  detach(): void {
    this.iopgd = null;
    this.enabled = false;
    const t = this.machine.trace;
    t.emit(ev.disable, t.str(this.name));
  }

  /**
   * flush_iotlb_page: find the first valid TLB entry covering `da` and flush it (MMU_FLUSH_ENTRY).
   * One entry only; the lab removes that entry's range for its tag.
   */
  flush_iotlb_page(da: number): void {
    const i = this.tlb.peek(OMAP_TLB_TAG, da);
    const t = this.machine.trace;
    t.emit(ev.flush_entry, t.str(this.name), da, i >= 0 ? 1 : 0);
    if (i >= 0) this.tlb.invalidate_range(OMAP_TLB_TAG, this.tlb.iova_of(i), this.tlb.size_of(i));
  }

  /** flush_iotlb_all: MMU_GFLUSH. */
  flush_iotlb_all(): void {
    const t = this.machine.trace;
    t.emit(ev.gflush, t.str(this.name));
    this.tlb.invalidate_all();
  }

  /**
   * iopgtable_clear_entry_all: zero every L1 entry of the table this MMU walks, freeing the L2
   * tables, then flush the whole TLB. Returns the mappings the table held.
   */
  clear_entry_all(domain_id: number): MappingRange[] {
    const pt = this.iopgd;
    if (!pt) return [];
    const lost = pt.mappings();
    const top = pt.levels - 1;
    const esz = POW2[pt.shift[top]];
    for (let i = 0; i < pt.entries(top); i++) {
      const lo = pt.read_lo(pt.root, i);
      const k = pt.fmt.kind(lo, pt.read_hi(pt.root, i), top);
      if (k === KIND_EMPTY) continue;
      if (k === KIND_TABLE) pt.unlink_table(pt.root, i, top, pt.iova_bias + i * esz);
      else pt.clear_entries(pt.root, i, 1, top);
    }
    const t = this.machine.trace;
    t.emit(ev.clear_all, t.str(this.name), domain_id, lost.length);
    this.flush_iotlb_all();
    return lost;
  }
}

const walkScratch = new WalkResult();

/** One 'omap-iommu' instance: the MMUs a client uses, the first of which carries its DMA. */
export class OmapIommu extends IommuDevice {
  readonly mmus: OmapMmu[] = [];

  constructor(
    machine: Machine,
    name: string,
    driver: IommuDriver,
    readonly cfg: OmapIommuOptions,
  ) {
    super(machine, name, driver, cfg.tlb_entries);
    for (let i = 0; i < cfg.mmus; i++) {
      // Each MMU has its own TLB; the first one's is the instance's (iommu.tlb for scripts).
      const mmu = i === 0 ? name : `${name}.mmu${i}`;
      const tlb = i === 0 ? this.tlb : new Iotlb(cfg.tlb_entries, machine.trace, mmu);
      this.mmus.push(new OmapMmu(machine, mmu, tlb));
    }
  }

  override dma_tag(_dev: Device): number {
    return this.mmus[0].enabled ? OMAP_TLB_TAG : DMA_BYPASS;
  }

  override dma_walk(_dev: Device, iova: number, out: WalkOut): boolean {
    const pt = this.mmus[0].iopgd;
    out.fault = '';
    if (!pt || !pt.walk(iova, walkScratch)) {
      out.fault = 'translation';
      return false;
    }
    out.iova = walkScratch.iova_base;
    out.pa = walkScratch.pa_base;
    out.size = walkScratch.size;
    out.prot = walkScratch.prot;
    return true;
  }
}
