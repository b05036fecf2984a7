/**
 * The Tegra20 GART (Graphics Address Relocation Table) hardware model (facts §5.3).
 *
 * The GART lives in the memory controller, so every memory client's accesses pass through it,
 * attached or not: an access inside the aperture is remapped page by page through the GART's
 * entries, an access outside it goes to memory untranslated ("really an IDENTITY domain with a
 * translation aperture", the removal commit says). An access to an aperture page whose entry is
 * not VALID is reported by the MC as INVALID_GART_PAGE.
 *
 * There is one GART per machine: the driver keeps it in a single global, gart_handle ("unique for
 * a system"), and every op uses that, whichever instance or domain it was called for. The lab
 * does the same: every 'tegra-gart' instance of a machine shares one GartHandle. Its entries are
 * registers written through an address/data pair; the lab keeps them in a flat table of
 * engine/pgtable's `gart` format so the panels can show them. Nothing caches them: the driver
 * never invalidates anything and its sync ops only read GART_CONFIG back to push posted writes
 * out, so the instances have no IOTLB (has_iotlb = false).
 */
import type { Device } from '../../core/device.ts';
import type { IommuDomain } from '../../core/domain.ts';
import type { IommuDriver } from '../../core/driver.ts';
import { IommuDevice, type WalkOut } from '../../core/iommu-device.ts';
import type { Machine } from '../../core/machine.ts';
import { IOMMU_READ, IOMMU_WRITE } from '../../core/constants.ts';
import { pgtable_format } from '../../pgtable/formats/index.ts';
import { IoPgtable } from '../../pgtable/io-pgtable.ts';
import { ev } from './trace-events.ts';

export interface TegraGartOptions {
  aperture_start: number;
  aperture_size: number;
  gart_debug: boolean;
  tlb_entries: number;
}

// tegra-gart.c
/** GART_ENTRY_PHYS_ADDR_VALID: BIT(31) */
export const GART_ENTRY_PHYS_ADDR_VALID = 0x8000_0000;
/** GART_PAGE_SIZE: 1 << GART_PAGE_SHIFT (12) */
export const GART_PAGE_SIZE = 0x1000;
/** GART_PAGE_MASK: GENMASK(30, GART_PAGE_SHIFT) */
export const GART_PAGE_MASK = 0x7fff_f000;

/** DMA through the GART is never tagged: there is no cache to tag. */
const GART_TAG = 0;

/** struct gart_device: the one GART of the machine (gart_handle). */
export class GartHandle {
  /** iovmm_base / iovmm_end: the aperture, end exclusive (from the MC's second DT reg entry). */
  readonly iovmm_base: number;
  readonly iovmm_end: number;
  /** The GART's entries, one per aperture page. */
  readonly table: IoPgtable;
  /** active_domain / active_devices: the one domain devices are attached to now, and how many. */
  active_domain: IommuDomain | null = null;
  active_devices = 0;
  /** The lab's own record: the domain active before, to say whose entries a newcomer inherits. */
  last_active: IommuDomain | null = null;
  /** The gart_debug module parameter: map refuses a VALID entry, unmap an invalid one. */
  readonly gart_debug: boolean;

  constructor(
    readonly machine: Machine,
    /** The name trace events give it: the instance that probed it. */
    readonly name: string,
    cfg: TegraGartOptions,
  ) {
    this.iovmm_base = cfg.aperture_start;
    this.iovmm_end = cfg.aperture_start + cfg.aperture_size;
    this.gart_debug = cfg.gart_debug;
    this.table = new IoPgtable(
      machine.mem,
      machine.trace,
      pgtable_format('gart'),
      { id: 0, aperture_start: cfg.aperture_start, aperture_size: cfg.aperture_size },
      null,
    );
    // do_gart_setup(gart, NULL): the table comes zeroed, and GART_CONFIG = 1 turns translation on.
    const t = machine.trace;
    t.emit(ev.setup, t.str(name), this.iovmm_base, cfg.aperture_size);
  }

  /** gart_iova_range_invalid */
  iova_range_invalid(iova: number, bytes: number): boolean {
    return iova < this.iovmm_base || bytes !== GART_PAGE_SIZE || iova + bytes > this.iovmm_end;
  }

  /**
   * The one table is written on behalf of whichever domain maps or unmaps: its page-table events
   * (and the checks that read them, map-over-existing) name that domain, not the table.
   */
  private writing_for(domain: IommuDomain): IoPgtable {
    this.table.cfg.id = domain.id;
    return this.table;
  }

  /**
   * gart_set_pte(iova, VALID | pa): the address/data register pair in hardware, the table's
   * format here (which keeps address bits 30:12, as the entry does). Returns 0 or -errno.
   */
  set_pte_valid(domain: IommuDomain, iova: number, pa: number, prot: number): number {
    const r = this.writing_for(domain).map_pages(iova, pa, GART_PAGE_SIZE, 1, prot);
    const t = this.machine.trace;
    t.emit(ev.set_pte, t.str(this.name), iova, this.read_pte(iova));
    return r.ret;
  }

  /** gart_set_pte(iova, 0) */
  clear_pte(domain: IommuDomain, iova: number): void {
    this.writing_for(domain).unmap_pages(iova, GART_PAGE_SIZE, 1, null);
    const t = this.machine.trace;
    t.emit(ev.set_pte, t.str(this.name), iova, 0);
  }

  /** gart_read_pte */
  read_pte(iova: number): number {
    return this.table.read_lo(this.table.root, (iova - this.iovmm_base) / GART_PAGE_SIZE);
  }

  /** FLUSH_GART_REGS */
  flush_regs(): void {
    const t = this.machine.trace;
    t.emit(ev.flush_regs, t.str(this.name));
  }

  /** Valid entries now: what every domain sees. */
  valid_entries(): number {
    let n = 0;
    for (let iova = this.iovmm_base; iova < this.iovmm_end; iova += GART_PAGE_SIZE)
      if (this.read_pte(iova) & GART_ENTRY_PHYS_ADDR_VALID) n++;
    return n;
  }
}

/** A 'tegra-gart' instance: an iommu_device over the machine's one GART. */
export class TegraGart extends IommuDevice {
  constructor(
    machine: Machine,
    name: string,
    driver: IommuDriver,
    cfg: TegraGartOptions,
    readonly gart: GartHandle,
  ) {
    super(machine, name, driver, cfg.tlb_entries);
    this.has_iotlb = false;
  }

  /** Every client goes through the memory controller, attached to a domain or not. */
  override dma_tag(_dev: Device): number {
    return GART_TAG;
  }

  override dma_walk(_dev: Device, iova: number, out: WalkOut): boolean {
    const gart = this.gart;
    out.fault = '';
    const page = Math.floor(iova / GART_PAGE_SIZE) * GART_PAGE_SIZE;
    // The GART has no permission bits: what it translates, it translates for reads and writes.
    out.prot = IOMMU_READ | IOMMU_WRITE;
    out.iova = page;
    out.size = GART_PAGE_SIZE;
    if (iova < gart.iovmm_base || iova >= gart.iovmm_end) {
      out.pa = page; // outside the aperture: untranslated
      return true;
    }
    const pte = gart.read_pte(page);
    if (!(pte & GART_ENTRY_PHYS_ADDR_VALID)) {
      out.fault = 'invalid-gart-page'; // MC_INT_INVALID_GART_PAGE
      return false;
    }
    out.pa = (pte & GART_PAGE_MASK) >>> 0;
    return true;
  }
}
