/**
 * The VT-d hardware model behind intel-iommu: context entries (one per device), domain IDs, the
 * IOTLB tagged by DID, and the Queued Invalidation interface whose descriptors act on that IOTLB.
 * Defaults follow QEMU's emulated unit (hw/i386/intel_iommu.c), since that is where caching mode lives.
 */
import { raise_check } from '../../core/checks.ts';
import type { Device } from '../../core/device.ts';
import { hex } from '../../core/format.ts';
import type { IommuDriver } from '../../core/driver.ts';
import { DMA_ABORT, DMA_BYPASS, IommuDevice, type WalkOut } from '../../core/iommu-device.ts';
import type { Machine } from '../../core/machine.ts';
import { WalkResult } from '../../pgtable/types.ts';
import type { DmarDomain } from './domain.ts';
import { ev } from './trace-events.ts';

export interface IntelIommuOptions {
  /** Adjusted guest address width in bits: 39, 48 or 57 → 3, 4 or 5 second-level table levels. */
  agaw: number;
  /** CAP.CM: the unit may cache not-present entries, so software flushes on non-present → present. */
  caching_mode: boolean;
  /** CAP.SLLPS as a count: 0 none, 1 = 2 MiB, 2 = 2 MiB and 1 GiB. */
  superpages: number;
  /**
   * Scalable mode with first- and second-stage support: before v6.13 DMA domains are first-stage
   * and UNMANAGED ones second-stage (first_level_by_default(type)); from v6.13 every paging domain
   * is first-stage. First-stage tables have 4 or 5 levels, so agaw 39 is refused.
   */
  scalable: boolean;
  /** CAP.ND: 2^(4 + 2·ND) domain IDs. */
  nd: number;
  tlb_entries: number;
}

/** CAP.MAMV of QEMU's unit (VTD_MAMV, hw/i386/intel_iommu_internal.h): the largest PSI is 2^18 pages. */
export const VTD_MAMV = 18;

/** VT-d page size (VTD_PAGE_SHIFT). */
export const VTD_PAGE_SIZE = 0x1000;

/** The PASID of requests without one (IOMMU_NO_PASID, PASID_RID2PASID before v6.7): RID_PASID. */
export const IOMMU_NO_PASID = 0;

/**
 * Domain ID of scalable-mode pass-through and first-stage-only PASID entries (FLPT_DEFAULT_DID).
 * Linux keeps DID 0 out of the allocator always (with CM, invalid entries are tagged with it) and
 * DID 1 in scalable mode — in legacy mode too in newer kernels, where identity uses it (IDA_START_DID 2).
 */
export const FLPT_DEFAULT_DID = 1;

/** A context entry as the lab models it: not present, pass-through, or translating with a DID. */
export type ContextEntry =
  | { readonly kind: 'blocked' }
  | { readonly kind: 'pt' }
  | { readonly kind: 'sl' | 'fl'; readonly domain: DmarDomain; readonly did: number };

const BLOCKED: ContextEntry = Object.freeze({ kind: 'blocked' });

const walkScratch = new WalkResult();

export class IntelIommu extends IommuDevice {
  /** Per device: the context (or scalable-mode PASID) entry in force. Absent = not present. */
  readonly context = new Map<Device, ContextEntry>();
  /** Domain IDs in use on this unit, reserved ones included (iommu->domain_ids). */
  readonly domain_ids = new Set<number>();
  /** 2^(4 + 2·ND) (cap_ndoms). */
  readonly ndoms: number;
  /** Scalable mode: devices whose context entry (pointing at their PASID table) is present. */
  readonly sm_context = new Set<Device>();
  /** Descriptors queued since the last wait descriptor. */
  pending_descs = 0;

  constructor(
    machine: Machine,
    name: string,
    driver: IommuDriver,
    readonly cfg: IntelIommuOptions,
  ) {
    super(machine, name, driver, cfg.tlb_entries);
    this.caches_not_present = cfg.caching_mode;
    this.ndoms = 2 ** (4 + 2 * cfg.nd);
    this.domain_ids.add(0);
    if (cfg.scalable || machine.profile.has('intel_did_1_reserved')) this.domain_ids.add(FLPT_DEFAULT_DID);
  }

  /** Address width the unit translates (agaw_to_width(iommu->agaw), capped by MGAW: the same here). */
  get gaw(): number {
    return this.cfg.agaw;
  }

  /** Second-level table levels for the unit's AGAW (agaw_to_level). */
  get levels(): number {
    return (this.cfg.agaw - 30) / 9 + 2;
  }

  /**
   * iommu_superpage_capability(): fls(SLLPS) for second-stage tables; first-stage tables always
   * have 2 MiB pages and 1 GiB ones with FS1GP, which QEMU's scalable unit reports with 1 GiB SLLPS.
   */
  superpage_capability(first_stage: boolean): number {
    if (first_stage) return this.cfg.superpages >= 2 ? 2 : 1;
    return this.cfg.superpages;
  }

  alloc_did(): number {
    for (let did = 0; did < this.ndoms; did++) {
      if (!this.domain_ids.has(did)) {
        this.domain_ids.add(did);
        return did;
      }
    }
    return -1;
  }

  free_did(did: number): void {
    this.domain_ids.delete(did);
  }

  // ── Queued Invalidation (each descriptor acts on the IOTLB as the hardware would) ──

  /**
   * An IOTLB invalidate descriptor for 2^mask pages from `addr`: page-selective, or domain-selective
   * when the mask is above CAP.MAMV (the fallback in iommu_flush_iotlb_psi and cache_tag_flush_range).
   */
  qi_flush_iotlb_psi(did: number, addr: number, mask: number): void {
    if (mask > VTD_MAMV) {
      this.qi_iotlb_domain(did);
      return;
    }
    const t = this.machine.trace;
    t.emit(ev.iotlb_pages, t.str(this.name), did, addr, mask);
    this.pending_descs++;
    this.tlb.invalidate_range(did, addr, 2 ** mask * VTD_PAGE_SIZE);
  }

  /**
   * qi_flush_piotlb (dmar.c): a PASID-based IOTLB invalidation, what first-stage domains get.
   * npages -1 is PASID-selective (QI_GRAN_NONG_PASID); otherwise page-selective within the PASID
   * for roundup_pow_of_two(npages) pages, the address aligned down to that (a WARN_ON_ONCE when it
   * was not). No domain-selective fallback: the mask goes in as it is. The lab's IOTLB is tagged
   * by DID alone, and first-stage domains use RID_PASID only.
   */
  qi_flush_piotlb(did: number, pasid: number, addr: number, npages: number): void {
    const t = this.machine.trace;
    this.pending_descs++;
    if (npages === -1) {
      t.emit(ev.iotlb_pasid, t.str(this.name), did, pasid);
      this.tlb.invalidate_tag(did);
      return;
    }
    const mask = Math.ceil(Math.log2(npages));
    const align = 2 ** mask * VTD_PAGE_SIZE;
    const base = addr - (addr % align);
    t.emit(ev.iotlb_pasid_pages, t.str(this.name), did, base, mask, pasid);
    this.tlb.invalidate_range(did, base, align);
    if (base !== addr && addr + npages * VTD_PAGE_SIZE > base + align)
      raise_check(
        this.machine,
        'invalidation-short',
        `qi_flush_piotlb on ${this.name} WARNed: ${hex(addr)} is not aligned to the ${hex(align)} it ` +
          `invalidates, so [${hex(base + align)}, ${hex(addr + npages * VTD_PAGE_SIZE)}) stays cached`,
      );
  }

  qi_iotlb_domain(did: number): void {
    const t = this.machine.trace;
    t.emit(ev.iotlb_domain, t.str(this.name), did);
    this.pending_descs++;
    this.tlb.invalidate_tag(did);
  }

  qi_iotlb_global(): void {
    const t = this.machine.trace;
    t.emit(ev.iotlb_global, t.str(this.name));
    this.pending_descs++;
    this.tlb.invalidate_all();
  }

  qi_context_device(dev: Device, did: number): void {
    const t = this.machine.trace;
    t.emit(ev.cc_device, t.str(this.name), t.str(dev.name), did);
    this.pending_descs++;
  }

  /** pasid_cache_invalidation_with_pasid (pasid.c): a PASID-selective-within-domain PASID-cache invalidation. */
  qi_pasid_cache(did: number, pasid: number): void {
    const t = this.machine.trace;
    t.emit(ev.pc_pasid, t.str(this.name), did, pasid);
    this.pending_descs++;
  }

  /** The wait descriptor: the driver's sync point for everything queued before it. */
  qi_wait(): void {
    const t = this.machine.trace;
    t.emit(ev.wait, t.str(this.name), this.pending_descs);
    this.pending_descs = 0;
  }

  // Linux's context and PASID-entry flushes each build one descriptor and hand it to
  // qi_submit_sync(iommu, &desc, 1, 0), which appends its own wait descriptor and polls it: a
  // flush of the context cache followed by one of the IOTLB is two submissions, two waits.

  /** iommu->flush.flush_context = qi_flush_context (dmar.c), device-selective: one submission. */
  private flush_context(dev: Device, did: number): void {
    this.qi_context_device(dev, did);
    this.qi_wait();
  }

  /** iommu->flush.flush_iotlb = qi_flush_iotlb (dmar.c) with DMA_TLB_DSI_FLUSH: one submission. */
  private flush_iotlb_dsi(did: number): void {
    this.qi_iotlb_domain(did);
    this.qi_wait();
  }

  /** pasid_cache_invalidation_with_pasid (pasid.c): one submission. */
  private flush_pasid_cache(did: number, pasid: number): void {
    this.qi_pasid_cache(did, pasid);
    this.qi_wait();
  }

  /** qi_flush_piotlb(iommu, did, pasid, 0, -1, 0) (dmar.c), PASID-selective: one submission. */
  private flush_piotlb_pasid(did: number, pasid: number): void {
    this.qi_flush_piotlb(did, pasid, 0, -1);
    this.qi_wait();
  }

  // ── context entries ──

  /**
   * Make `dev`'s context entry `entry` (its RID_PASID entry in scalable mode: write_pasid_entry).
   * Tearing down a present entry flushes the context cache and the old DID's IOTLB
   * (domain_context_clear_one; intel_context_flush_present, later _no_pasid, in newer kernels); making
   * one present under caching mode flushes too, since a not-present context may have been cached
   * under DID 0 (domain_context_mapping_one). Each flush is its own submission with its own wait.
   */
  write_context(dev: Device, entry: ContextEntry): void {
    if (this.cfg.scalable) {
      this.write_pasid_entry(dev, entry);
      return;
    }
    const old = this.context.get(dev) ?? BLOCKED;
    const t = this.machine.trace;
    if (old.kind !== 'blocked') {
      const oldDid = old.kind === 'pt' ? 0 : old.did;
      this.context.delete(dev);
      t.emit(ev.context, t.str(this.name), t.str(dev.name), t.str('blocked'), 0, 0);
      this.flush_context(dev, oldDid);
      if (old.kind !== 'pt') this.flush_iotlb_dsi(oldDid);
    }
    if (entry.kind === 'blocked') return;
    this.context.set(dev, entry);
    const did = entry.kind === 'pt' ? 0 : entry.did;
    const levels = entry.kind === 'pt' ? 0 : entry.domain.levels;
    t.emit(ev.context, t.str(this.name), t.str(dev.name), t.str(entry.kind), did, levels);
    if (this.cfg.caching_mode) {
      this.flush_context(dev, 0);
      if (entry.kind !== 'pt') this.flush_iotlb_dsi(did);
    }
    // Without CM a not-present → present change needs only a write-buffer flush, and QEMU's unit
    // does not report RWBF, so nothing is issued.
  }

  /**
   * Scalable mode: the translation lives in the device's RID_PASID entry, so attach and detach
   * change that entry and flush the PASID cache, never the context cache (the context entry only
   * points at the PASID table and stays present once set: sm_context_setup).
   * - intel_pasid_tear_down_entry (device_block_translation): a PASID-cache invalidation for the
   *   old DID, then a PASID-selective IOTLB flush for first-stage and pass-through entries or a
   *   domain-selective one for second-stage entries.
   * - intel_pasid_setup_{first,second}_level / _pass_through end in pasid_flush_caches: with CM a
   *   PASID-cache invalidation and a PASID-selective IOTLB flush whatever the entry's type (a
   *   not-present PASID entry may have been cached); without CM only the write buffer, which
   *   QEMU's unit does not report (RWBF), so nothing is issued.
   * A pass-through PASID entry carries FLPT_DEFAULT_DID. Each invalidation is submitted on its
   * own, with its own wait descriptor.
   */
  private write_pasid_entry(dev: Device, entry: ContextEntry): void {
    const old = this.context.get(dev) ?? BLOCKED;
    const t = this.machine.trace;
    if (old.kind !== 'blocked') {
      const oldDid = old.kind === 'pt' ? FLPT_DEFAULT_DID : old.did;
      this.context.delete(dev);
      t.emit(ev.context, t.str(this.name), t.str(dev.name), t.str('blocked'), 0, 0);
      this.flush_pasid_cache(oldDid, IOMMU_NO_PASID);
      if (old.kind === 'sl') this.flush_iotlb_dsi(oldDid);
      else this.flush_piotlb_pasid(oldDid, IOMMU_NO_PASID);
    }
    if (entry.kind === 'blocked') return;
    this.context.set(dev, entry);
    const did = entry.kind === 'pt' ? FLPT_DEFAULT_DID : entry.did;
    const levels = entry.kind === 'pt' ? 0 : entry.domain.levels;
    t.emit(ev.context, t.str(this.name), t.str(dev.name), t.str(entry.kind), did, levels);
    if (this.cfg.caching_mode) {
      this.flush_pasid_cache(did, IOMMU_NO_PASID);
      this.flush_piotlb_pasid(did, IOMMU_NO_PASID);
    }
    // Before v6.9 dmar_domain_attach_device sets the context entry up after the PASID entry
    // (domain_context_mapping), the first time only.
    if (!this.machine.profile.has('intel_sm_context_at_probe')) this.sm_context_setup(dev, did);
  }

  /**
   * The scalable-mode context entry, made present once: at probe from v6.9
   * (device_pasid_table_setup), at the first attach before (domain_context_mapping_one). A
   * not-present → present change; with CM the unit may have cached the not-present entry under
   * DID 0, so a device-selective context-cache invalidation (DID 0) and a domain-selective IOTLB
   * flush follow: of DID 0 from v6.9, of the attached domain's DID before.
   */
  sm_context_setup(dev: Device, did: number): void {
    if (this.sm_context.has(dev)) return;
    this.sm_context.add(dev);
    if (!this.cfg.caching_mode) return;
    this.flush_context(dev, 0);
    this.flush_iotlb_dsi(did);
  }

  // ── the device side ──

  override dma_tag(dev: Device): number {
    const ce = this.context.get(dev);
    if (!ce || ce.kind === 'blocked') return DMA_ABORT;
    if (ce.kind === 'pt') return DMA_BYPASS;
    return ce.did;
  }

  override dma_abort_reason(): string {
    return 'context-not-present';
  }

  override dma_walk(dev: Device, iova: number, out: WalkOut): boolean {
    const ce = this.context.get(dev);
    if (!ce || (ce.kind !== 'sl' && ce.kind !== 'fl')) return false;
    // Caching mode lets the unit keep not-present second-stage entries only; a first-stage miss is
    // never cached, which is why Linux skips the flush on map for first-stage domains.
    this.caches_not_present = this.cfg.caching_mode && ce.kind === 'sl';
    const domain = ce.domain;
    if (!domain.pgtbl) return false;
    // Beyond the address width the context entry programs: VTD_FR_ADDR_BEYOND_MGAW.
    if (iova > domain.geometry.aperture_end) {
      out.fault = 'address-size';
      return false;
    }
    out.fault = '';
    if (!domain.pgtbl.walk(iova, walkScratch)) return false;
    out.iova = walkScratch.iova_base;
    out.pa = walkScratch.pa_base;
    out.size = walkScratch.size;
    out.prot = walkScratch.prot;
    return true;
  }
}
