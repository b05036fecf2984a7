/**
 * tegra-gart (drivers/iommu/tegra-gart.c as it was at v6.6, removed in v6.7 by "iommu/tegra-gart:
 * Remove tegra-gart"; facts §5.3).
 *
 * UNMANAGED domains only, so no default domain: a device starts unattached and leaves a domain
 * through set_platform_dma_ops. A domain has no table: map and unmap write the one global GART
 * whatever the attachment state, detach clears nothing, and every domain sees (and can unmap)
 * every other's entries. One domain is active at a time; attaching another while it has devices
 * is -EINVAL. 4 KiB pages only: a wrong size or an IOVA outside the aperture is -EINVAL for map, 0
 * for unmap, and (phys_addr_t)-EINVAL for iova_to_phys. prot is ignored (the GART has no
 * permission bits). The sync ops only read a register back.
 *
 * The ops are the legacy single-page .map/.unmap, modelled as map_pages/unmap_pages that handle
 * one page per call, as the v6.6 core's __iommu_map_pages drove them.
 */
import { raise_check } from '../../core/checks.ts';
import { next_domain_id, register_domain } from '../../core/alloc.ts';
import { IOMMU_DOMAIN_UNMANAGED } from '../../core/constants.ts';
import type { Device } from '../../core/device.ts';
import type { DomainOps, IommuDomain } from '../../core/domain.ts';
import type { IommuDriver, IommuOps } from '../../core/driver.ts';
import { EINVAL } from '../../core/errno.ts';
import { hex } from '../../core/format.ts';
import type { IommuIotlbGather } from '../../core/gather.ts';
import type { Machine } from '../../core/machine.ts';
import type { OptionTable } from '../../core/options.ts';
import type { ResvRegion } from '../../core/resv.ts';
import { TegraGartDomain } from './domain.ts';
import {
  GART_ENTRY_PHYS_ADDR_VALID,
  GART_PAGE_MASK,
  GART_PAGE_SIZE,
  GartHandle,
  TegraGart,
  type TegraGartOptions,
} from './gart.ts';
import { ev } from './trace-events.ts';

const DRIVER = 'tegra-gart';

/** GART_IOMMU_PGSIZES: GART_PAGE_SIZE only. */
export const GART_IOMMU_PGSIZES = GART_PAGE_SIZE;

/**
 * iova_to_phys outside the aperture returns (phys_addr_t)-EINVAL. Tegra20's Cortex-A9 has no LPAE,
 * so phys_addr_t is 32 bits wide there and the caller gets 0xffffffea: a plausible-looking
 * physical address, which is what the lab returns too.
 */
export const GART_PHYS_EINVAL = 0x1_0000_0000 - EINVAL;

const options: OptionTable<TegraGartOptions> = {
  // Tegra20 DT (nvidia,tegra20-mc-gart): reg = <0x7000f000 0x400>, <0x58000000 0x02000000>.
  aperture_start: {
    kind: 'int',
    default: 0x5800_0000,
    min: 0,
    max: 0xffff_f000,
    doc: "GART aperture base (the MC's second DT reg entry)",
  },
  aperture_size: {
    kind: 'int',
    default: 0x200_0000,
    min: GART_PAGE_SIZE,
    max: 0x8000_0000,
    doc: 'GART aperture size in bytes (a multiple of 4 KiB)',
  },
  gart_debug: {
    kind: 'bool',
    default: false,
    doc: 'module parameter gart_debug: map refuses a VALID entry and unmap an invalid one (-EINVAL inside the driver)',
  },
  tlb_entries: {
    kind: 'int',
    default: 1,
    min: 1,
    doc: 'ignored: the GART has no IOTLB (its entries are memory-controller registers, read on every access)',
  },
};

/** The instance whose probe set gart_handle: the one GART of the machine, and the iommu_device domains name. */
function first_instance(machine: Machine): TegraGart {
  const g = machine.globals(DRIVER).first as TegraGart | undefined;
  if (!g) throw new Error('tegra-gart: no GART on this machine (gart_handle is NULL)');
  return g;
}

function gartOf(domain: IommuDomain): GartHandle {
  return (domain as TegraGartDomain).gart;
}

function gart_iommu_attach_dev(domain: IommuDomain, dev: Device): number {
  const gart = gartOf(domain);
  if (gart.active_domain && gart.active_domain !== domain) return -EINVAL;
  if (dev.priv !== domain) {
    const takeover = gart.active_domain === null;
    dev.priv = domain;
    gart.active_domain = domain;
    gart.active_devices++;
    if (takeover) note_inherited(gart, domain);
  }
  return 0;
}

/**
 * Nothing was cleared when the last domain's devices left, so a domain that becomes active inherits
 * every entry still in the GART: the previous domain's mappings are now whoever's is attached.
 */
function note_inherited(gart: GartHandle, domain: IommuDomain): void {
  const prev = gart.last_active;
  gart.last_active = domain;
  if (!prev || prev === domain) return;
  const left = gart.table.mappings();
  if (!left.length) return;
  const first = left[0];
  raise_check(
    gart.machine,
    'mappings-lost-on-detach',
    `tegra-gart: domain ${domain.id} became the active domain with ${left.length} range${left.length === 1 ? '' : 's'} of entries still in the global GART from before (first: [${hex(first.iova)}, +${hex(first.size)}) → ${hex(first.pa)}); domain ${prev.id}'s mappings were never its own: detach cleared nothing, and they now translate for domain ${domain.id}, which can read and unmap them`,
  );
}

const domain_ops: DomainOps = Object.freeze({
  attach_dev: gart_iommu_attach_dev,

  /** gart_iommu_map: one 4 KiB page into the global GART, attached or not; prot is ignored. */
  map_pages(d: IommuDomain, iova: number, paddr: number, pgsize: number, _pgcount: number, prot: number) {
    const gart = gartOf(d);
    if (gart.iova_range_invalid(iova, pgsize)) return { ret: -EINVAL, mapped: 0 };
    // "Page entry is in-use" (only with gart_debug).
    if (gart.gart_debug && gart.read_pte(iova) & GART_ENTRY_PHYS_ADDR_VALID)
      return { ret: -EINVAL, mapped: 0 };
    // GART_ENTRY_PHYS_ADDR_VALID | pa, pa cast to a 32-bit unsigned long as the driver does.
    const ret = gart.set_pte_valid(d, iova, paddr, prot);
    return { ret, mapped: ret ? 0 : GART_PAGE_SIZE };
  },

  /** gart_iommu_unmap: clear one entry; 4 KiB even where nothing was mapped (unless gart_debug). */
  unmap_pages(
    d: IommuDomain,
    iova: number,
    pgsize: number,
    _pgcount: number,
    _gather: IommuIotlbGather,
  ): number {
    const gart = gartOf(d);
    if (gart.iova_range_invalid(iova, pgsize)) return 0;
    if (gart.gart_debug && !(gart.read_pte(iova) & GART_ENTRY_PHYS_ADDR_VALID)) return 0; // "Page entry is invalid"
    gart.clear_pte(d, iova);
    return pgsize;
  },

  /** gart_iommu_iova_to_phys: the entry's address bits, valid or not, through whichever domain. */
  iova_to_phys(d: IommuDomain, iova: number): number {
    const gart = gartOf(d);
    // The range check takes the IOVA as given, so an offset into the aperture's last page fails it.
    if (gart.iova_range_invalid(iova, GART_PAGE_SIZE)) return GART_PHYS_EINVAL;
    // The page address only: the driver drops the offset within the page.
    return (gart.read_pte(Math.floor(iova / GART_PAGE_SIZE) * GART_PAGE_SIZE) & GART_PAGE_MASK) >>> 0;
  },

  /** gart_iommu_sync_map: FLUSH_GART_REGS, a read-back; v6.6's core ignores the (void) result. */
  iotlb_sync_map(d: IommuDomain): number {
    gartOf(d).flush_regs();
    return 0;
  },

  /** gart_iommu_sync: the same read-back for the gathered range. */
  iotlb_sync(d: IommuDomain): void {
    gartOf(d).flush_regs();
  },

  /** gart_iommu_domain_free: WARN_ON(the active domain) and free it anyway; the GART stays pointed at it. */
  free(d: IommuDomain): void {
    const gart = gartOf(d);
    if (gart.active_domain === d) {
      const t = d.machine.trace;
      t.emit(ev.warn, t.str(`gart_iommu_domain_free: domain ${d.id} is the active domain`));
    }
  },
});

const ops: IommuOps = Object.freeze({
  probe_device: (): number => 0,
  // No get_resv_regions op: the core reports no regions for the GART's devices.
  get_resv_regions: (): ResvRegion[] => [],
  /** gart_iommu_domain_alloc: UNMANAGED only, with the GART's aperture. */
  domain_alloc(m: Machine, type: number): IommuDomain | null {
    if (type !== IOMMU_DOMAIN_UNMANAGED) return null;
    const inst = first_instance(m);
    const gart = inst.gart;
    const d = new TegraGartDomain(m, next_domain_id(m), type, tegra_gart, domain_ops, inst);
    d.geometry = { aperture_start: gart.iovmm_base, aperture_end: gart.iovmm_end - 1, force_aperture: true };
    register_domain(m, d);
    return d;
  },
  /** gart_iommu_set_platform_dma: the device leaves; the last one out makes no domain active. */
  set_platform_dma_ops(dev: Device): void {
    const gart = (dev.iommu as TegraGart).gart;
    const domain = dev.group?.domain ?? null;
    if (dev.priv === domain) {
      dev.priv = null;
      if (--gart.active_devices === 0) gart.active_domain = null;
    }
  },
});

// Frozen, so time-travel checkpoints share it: domains made after a restore must name the same owner
// as the instances restored with it (the v6.8+ owner check compares them).
export const tegra_gart: IommuDriver<TegraGartOptions> = Object.freeze({
  name: DRIVER,
  options,
  arch: 'arm',
  ignores_fw_resv: 'has no get_resv_regions',
  check_available(machine: Machine): void {
    machine.profile.require('tegra_gart', 'the tegra-gart driver');
  },
  create(machine: Machine, name: string, opts: TegraGartOptions): TegraGart {
    if (opts.aperture_start % GART_PAGE_SIZE || opts.aperture_size % GART_PAGE_SIZE)
      throw new RangeError('tegra-gart aperture_start and aperture_size must be multiples of 4 KiB');
    if (opts.aperture_start + opts.aperture_size > 0x1_0000_0000)
      throw new RangeError(
        'tegra-gart: the aperture must end at or below 4 GiB (a 32-bit memory controller)',
      );
    const g = machine.globals(DRIVER);
    let gart = g.gart_handle as GartHandle | undefined;
    if (!gart) {
      gart = new GartHandle(machine, name, opts);
      g.gart_handle = gart;
    } else if (
      gart.iovmm_base !== opts.aperture_start ||
      gart.iovmm_end !== opts.aperture_start + opts.aperture_size ||
      gart.gart_debug !== opts.gart_debug
    ) {
      // Every op goes through the one global, so a second instance cannot bring its own aperture.
      throw new Error(
        `tegra-gart: every instance shares the machine's one GART (gart_handle: aperture [0x${gart.iovmm_base.toString(16)}, 0x${gart.iovmm_end.toString(16)}), gart_debug ${gart.gart_debug}); give '${name}' the same options`,
      );
    }
    const inst = new TegraGart(machine, name, tegra_gart, opts, gart);
    g.first ??= inst;
    return inst;
  },
  ops: () => ops,
  global_pgsize_bitmap: () => GART_IOMMU_PGSIZES,
  default_domain_ops: domain_ops,
});
