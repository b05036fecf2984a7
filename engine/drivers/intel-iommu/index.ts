/**
 * intel-iommu (VT-d) with second-stage tables, and first-stage ones in scalable mode (facts §5.5).
 *
 * Two lifecycles. Before v6.13 `domain_alloc(type)` makes a domain at 57 bits (5 levels, no
 * superpages, the core's 4 KiB bitmap) for no unit in particular; its first attach fits it to the
 * unit: -EINVAL if something is mapped above the unit's width, otherwise the extra levels go, the
 * aperture shrinks and superpages become usable. In scalable mode its DMA domains are first-stage
 * and UNMANAGED ones second-stage. From v6.13 `domain_alloc_paging(dev)` sizes the domain for the
 * device's unit, first-stage whenever the unit is in scalable mode, and an attach to an unlike unit
 * is refused.
 *
 * Caching mode (QEMU's virtual VT-d): the unit may cache not-present entries, so iotlb_sync_map
 * issues a page-selective invalidation for second-stage domains after every map.
 */
import { next_domain_id, register_domain, static_domain, unregister_domain } from '../../core/alloc.ts';
import { raise_check } from '../../core/checks.ts';
import {
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_READ,
  IOMMU_RESV_DIRECT,
  IOMMU_RESV_DIRECT_RELAXABLE,
  IOMMU_RESV_MSI,
  IOMMU_WRITE,
  SZ_1G,
  SZ_2M,
  SZ_4K,
  X86_MSI_END,
  X86_MSI_START,
} from '../../core/constants.ts';
import type { Device } from '../../core/device.ts';
import { IommuDomain, type DomainOps } from '../../core/domain.ts';
import type { IommuDriver, IommuOps } from '../../core/driver.ts';
import { EFAULT, EINVAL, ENOMEM, ENOSPC } from '../../core/errno.ts';
import { hex } from '../../core/format.ts';
import { iommu_iotlb_gather_add_page, type IommuIotlbGather } from '../../core/gather.ts';
import type { Machine } from '../../core/machine.ts';
import type { OptionTable } from '../../core/options.ts';
import { iommu_set_dma_strict } from '../../core/probe.ts';
import { iommu_alloc_resv_region, type ResvRegion } from '../../core/resv.ts';
import type { PgtableFormat } from '../../pgtable/format.ts';
import { pgtable_format } from '../../pgtable/formats/index.ts';
import { VTD_FS_XD } from '../../pgtable/formats/vtd-fs.ts';
import { IoPgtable } from '../../pgtable/io-pgtable.ts';
import { DmarDomain, DomainUnitInfo } from './domain.ts';
import { domain_flush_all, domain_flush_gather, domain_flush_range_np } from './flush.ts';
import { IntelIommu, type IntelIommuOptions } from './intel-iommu.ts';
import { ev } from './trace-events.ts';

const DRIVER = 'intel-iommu';

/** Width legacy domains are made with before they meet a unit (DEFAULT_DOMAIN_ADDRESS_WIDTH). */
const DEFAULT_DOMAIN_ADDRESS_WIDTH = 57;

const options: OptionTable<IntelIommuOptions> = {
  agaw: {
    kind: 'int',
    default: 48,
    values: [39, 48, 57],
    doc: "address width in bits (3, 4 or 5 levels); QEMU's aw-bits is 48 since QEMU 9.2 and 39 on older machine types",
  },
  caching_mode: {
    kind: 'bool',
    default: false,
    doc: 'CAP.CM as QEMU caching-mode=on sets it (needed for VFIO assignment): not-present entries may be cached',
  },
  superpages: {
    kind: 'int',
    default: 2,
    values: [0, 1, 2],
    bools: [0, 2],
    doc: 'CAP.SLLPS: 0 none, 1 = 2 MiB, 2 = 2 MiB and 1 GiB (QEMU reports both)',
  },
  scalable: {
    kind: 'bool',
    default: false,
    doc: 'scalable mode with first-stage tables (QEMU x-scalable-mode=on, x-flts=on): DMA domains are first-stage, and from v6.13 every paging domain; needs agaw 48 or 57',
  },
  nd: {
    kind: 'int',
    default: 6,
    min: 0,
    max: 6,
    doc: 'CAP.ND: 2^(4 + 2·ND) domain IDs; QEMU reports 16-bit DIDs (ND = 6)',
  },
  tlb_entries: { kind: 'int', default: 32, min: 1, max: 65536, doc: 'IOTLB entries' },
};

function unitOf(dev: Device): IntelIommu {
  return dev.iommu as IntelIommu;
}

/** SLLPS bits for a superpage count (domain->iommu_superpage): 1 → 2 MiB, 2 → 2 MiB | 1 GiB. */
function sllps_bits(superpage: number): number {
  return superpage >= 2 ? 3 : superpage;
}

/** domain_super_pgsize_bitmap(). */
function super_pgsize_bitmap(superpage: number): number {
  return superpage >= 2 ? SZ_2M + SZ_1G : superpage === 1 ? SZ_2M : 0;
}

function aperture_end(gaw: number, first_stage: boolean): number {
  // First-stage input must be canonical, so bit gaw-1 is not usable (paging_domain_alloc).
  return Math.min(2 ** (first_stage ? gaw - 1 : gaw) - 1, Number.MAX_SAFE_INTEGER);
}

/**
 * The entry format the domain's tables are written in: IA-32e first-stage entries (P, R/W, U/S, A,
 * D, XD before v6.11) for use_first_level, second-stage ones (R, W, SNP) otherwise.
 */
function table_format(domain: DmarDomain): PgtableFormat {
  if (!domain.use_first_level) return pgtable_format('vtd-sl');
  return domain.machine.profile.has('intel_fl_xd') ? VTD_FS_XD : pgtable_format('vtd-fs');
}

function alloc_table(domain: DmarDomain): boolean {
  const m = domain.machine;
  domain.pgtbl = IoPgtable.try_alloc(
    m.mem,
    m.trace,
    table_format(domain),
    { ias: domain.gaw, oas: 52, sllps: sllps_bits(domain.iommu_superpage), id: domain.id },
    domain,
  );
  return domain.pgtbl !== null;
}

/**
 * domain_update_iommu_cap for a table that already holds mappings: from now on map_pages may build
 * the superpages `sllps` allows. The format derives which levels may hold leaves from its
 * configuration, so the derivation is run again and its answer put in place.
 */
function enable_superpages(pgtbl: IoPgtable, sllps: number): void {
  const cfg = { ...pgtbl.cfg, pgsize_bitmap: 0, sllps };
  const geo = pgtbl.fmt.setup(cfg);
  pgtbl.leaf_mask.set(geo.leaf_mask.slice(0, pgtbl.leaf_mask.length));
  pgtbl.cfg.sllps = sllps;
  pgtbl.cfg.pgsize_bitmap = geo.pgsize_bitmap;
}

/**
 * The IOMMU_* bits intel_iommu_map puts in a PTE. IOMMU_CACHE never sets SNP (that follows the
 * domain's force_snooping, which scripts cannot ask for). Before WO permissions were restored,
 * __domain_mapping set bit 0 on every PTE (DMA_FL_PTE_PRESENT, which is DMA_PTE_READ), so a
 * write-only map could be read; a first-stage table cannot say write-only in any era.
 */
function pte_prot(domain: DmarDomain, prot: number): number {
  const p = prot & (IOMMU_READ | IOMMU_WRITE);
  const write_only_kept = domain.machine.profile.has('intel_write_only') && !domain.use_first_level;
  return write_only_kept ? p : p | IOMMU_READ;
}

/**
 * The superpages a legacy domain may use once attached: the least any unit offers
 * (domain_update_iommu_superpage; for a first-stage domain 2 MiB, and 1 GiB where FL1GP is set).
 */
function least_superpage(m: Machine, first_stage: boolean): number {
  let sp = 2;
  for (const iommu of m.iommus)
    if (iommu instanceof IntelIommu) sp = Math.min(sp, iommu.superpage_capability(first_stage));
  return sp;
}

/**
 * first_level_by_default(type) before v6.13: only when every unit is in scalable mode (with first-
 * and second-stage support, as the lab's scalable unit has), and then for every type but
 * UNMANAGED ("iommu/vt-d: Use second level for GPA->HPA translation", v5.16): DMA and DMA-FQ
 * domains are first-stage, VFIO's UNMANAGED ones second-stage. v6.13 made it per unit and dropped
 * the type ("Remove the 'type' input of first_level_by_default"): paging_domain_alloc.
 */
function first_level_by_default(m: Machine, type: number): boolean {
  const units = m.iommus.filter((u) => u instanceof IntelIommu);
  if (!units.length || units.some((u) => !u.cfg.scalable)) return false;
  return type !== IOMMU_DOMAIN_UNMANAGED;
}

/**
 * prepare_domain_attach_device (before v6.13): a legacy domain takes the unit's width. Mappings above
 * it refuse the attach; otherwise the top levels the unit cannot walk go (the table entry 0 points
 * to becomes the root, the old top page is freed) and superpages start.
 */
function prepare_domain_attach_device(domain: DmarDomain, unit: IntelIommu): number {
  const addr_width = unit.gaw;
  if (domain.max_addr > 2 ** addr_width) return -EINVAL;
  const m = domain.machine;
  const before = { gaw: domain.gaw, bitmap: domain.pgsize_bitmap };
  domain.gaw = addr_width;
  domain.levels = Math.min(domain.levels, unit.levels);
  domain.pgtbl?.knock_out_top(domain.levels);
  const sp = least_superpage(m, domain.use_first_level);
  if (domain.pgtbl && sp !== domain.iommu_superpage) {
    domain.iommu_superpage = sp;
    enable_superpages(domain.pgtbl, sllps_bits(sp));
  }
  domain.pgsize_bitmap = SZ_4K + super_pgsize_bitmap(domain.iommu_superpage);
  // domain_update_iommu_cap: a first-stage domain leaves out bit gaw-1 (canonical addresses).
  domain.geometry = {
    aperture_start: 0,
    aperture_end: aperture_end(domain.gaw, domain.use_first_level),
    force_aperture: true,
  };
  if (before.gaw !== domain.gaw || before.bitmap !== domain.pgsize_bitmap) {
    m.trace.emit(ev.trim, domain.id, domain.gaw, domain.levels, domain.iommu_superpage);
    raise_check(
      m,
      'attach-time-finalise',
      `intel-iommu fitted legacy domain ${domain.id} to ${unit.name} at attach: ${before.gaw} → ${domain.gaw} bits, ` +
        `page sizes set only now (superpages ${domain.iommu_superpage})`,
    );
  }
  return 0;
}

/** paging_domain_compatible (v6.13+): the domain was sized for one unit and must fit this one. */
function paging_domain_compatible(domain: DmarDomain, unit: IntelIommu): number {
  if (domain.iommu_superpage !== unit.superpage_capability(domain.use_first_level)) return -EINVAL;
  if (domain.use_first_level && !unit.cfg.scalable) return -EINVAL;
  if (domain.gaw > unit.gaw || domain.levels > unit.levels) return -EINVAL;
  return 0;
}

/** domain_detach_iommu: one device fewer on `unit`; the DID goes back with the last one. */
function domain_detach_iommu(domain: DmarDomain, unit: IntelIommu): void {
  const info = domain.units.get(unit);
  if (!info || --info.refcnt > 0) return;
  domain.units.delete(unit);
  unit.free_did(info.did);
  const t = domain.machine.trace;
  t.emit(ev.did_free, t.str(unit.name), domain.id, info.did);
}

/** device_block_translation: the device's entry goes (with its flushes) and it leaves its domain. */
function device_block_translation(dev: Device): void {
  const unit = unitOf(dev);
  const ce = unit.context.get(dev);
  if (!ce) return;
  unit.write_context(dev, { kind: 'blocked' });
  if (ce.kind === 'sl' || ce.kind === 'fl') domain_detach_iommu(ce.domain, unit);
}

/** domain_attach_iommu + the context mapping: a DID on the unit (the first device there takes it). */
function dmar_domain_attach_device(domain: DmarDomain, dev: Device): number {
  const unit = unitOf(dev);
  let info = domain.units.get(unit);
  if (info) {
    info.refcnt++;
  } else {
    const did = unit.alloc_did();
    if (did < 0) return -ENOSPC;
    info = new DomainUnitInfo(did, 1);
    domain.units.set(unit, info);
    const t = domain.machine.trace;
    t.emit(ev.did_alloc, t.str(unit.name), domain.id, did);
  }
  domain.iommu ??= unit;
  unit.write_context(dev, { kind: domain.use_first_level ? 'fl' : 'sl', domain, did: info.did });
  return 0;
}

/**
 * domain_unmap's WARN_ON(!domain_pfn_supported(domain, last_pfn)): the range intel_iommu_unmap
 * grew to `size` from `iova` (`asked` bytes asked for) ends beyond what the table's levels reach.
 */
function warn_unmap_beyond_width(domain: DmarDomain, iova: number, asked: number, size: number): void {
  const width = 12 + 9 * domain.levels;
  const grown =
    size > asked
      ? `${DRIVER} grew it to +${hex(size)} (the size of the level where its walk stopped), which ends`
      : 'it ends';
  raise_check(
    domain.machine,
    'out-of-aperture-unmap',
    `unmap [${hex(iova)}, +${hex(asked)}) on domain ${domain.id}: ${grown} beyond the domain's ${width}-bit ` +
      `width, so domain_unmap WARNs and clears nothing, yet ${DRIVER} reports ${hex(size)} bytes unmapped`,
  );
}

// ── domain ops ──

const paging_ops: DomainOps = Object.freeze({
  attach_dev(d: IommuDomain, dev: Device): number {
    const domain = d as DmarDomain;
    const unit = unitOf(dev);
    // The old entry goes first: if the checks below refuse, the device is left blocked.
    device_block_translation(dev);
    const ret = domain.legacy
      ? prepare_domain_attach_device(domain, unit)
      : paging_domain_compatible(domain, unit);
    if (ret) return ret;
    return dmar_domain_attach_device(domain, dev);
  },
  map_pages(d: IommuDomain, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number) {
    const domain = d as DmarDomain;
    if (!domain.pgtbl) return { ret: -ENOMEM, mapped: 0 };
    if ((pgsize !== SZ_4K && pgsize !== SZ_2M && pgsize !== SZ_1G) || iova % pgsize || paddr % pgsize)
      return { ret: -EINVAL, mapped: 0 };
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return { ret: -EINVAL, mapped: 0 };
    const end = iova + pgsize * pgcount;
    if (domain.max_addr < end) {
      // "iommu width is not sufficient for the mapped address" (intel_iommu_map)
      if (2 ** domain.gaw < end) return { ret: -EFAULT, mapped: 0 };
      domain.max_addr = end;
    }
    domain.mapping_until = end;
    const r = domain.pgtbl.map_pages(iova, paddr, pgsize, pgcount, pte_prot(domain, prot));
    domain.mapping_until = 0;
    // intel_iommu_map_pages reports the size only when the whole call succeeded.
    return r.ret ? { ret: r.ret, mapped: 0 } : r;
  },
  unmap_pages(
    d: IommuDomain,
    iova: number,
    pgsize: number,
    pgcount: number,
    gather: IommuIotlbGather,
  ): number {
    const domain = d as DmarDomain;
    // intel_iommu_unmap: pfn_to_dma_pte finds no entry beyond the width and the unmap returns 0 (a
    // BUG_ON until "iommu/vt-d: Remove BUG_ON on checking valid pfn range", v6.4). The lab keeps a
    // trimmed legacy domain's 57-bit table, so the width is checked here.
    if (!domain.pgtbl || !domain.pfn_supported(iova)) return 0;
    // intel_iommu_unmap grows the size to the level where pfn_to_dma_pte stopped (a leaf, or a
    // not-present entry), then domain_unmap clears what the grown range covers.
    const size = domain.pgtbl.unmap_pages(iova, pgsize, pgcount, gather);
    if (!size) return 0;
    // The grown range ends beyond the width: domain_unmap WARNs and clears nothing, and the grown
    // size is still returned and gathered (v6.6 to v6.16 alike).
    if (!domain.pfn_supported(iova + size - 1)) warn_unmap_beyond_width(domain, iova, pgsize * pgcount, size);
    if (domain.max_addr === iova + size) domain.max_addr = iova;
    // A flush queue invalidates the whole domain later, so nothing is gathered then.
    if (!gather.queued) iommu_iotlb_gather_add_page(domain, gather, iova, size);
    return size;
  },
  iotlb_sync(d: IommuDomain, gather: IommuIotlbGather): void {
    domain_flush_gather(d as DmarDomain, gather);
  },
  flush_iotlb_all(d: IommuDomain): void {
    domain_flush_all(d as DmarDomain);
  },
  /**
   * A map changed entries from not present to present: flushed only where caching mode may have
   * cached them, and only for second-stage tables (flush.ts).
   */
  iotlb_sync_map(d: IommuDomain, iova: number, size: number): number {
    domain_flush_range_np(d as DmarDomain, iova, size);
    return 0;
  },
  iova_to_phys(d: IommuDomain, iova: number): number {
    const domain = d as DmarDomain;
    // intel_iommu_iova_to_phys: pfn_to_dma_pte gives nothing beyond the width.
    return domain.pgtbl && domain.pfn_supported(iova) ? domain.pgtbl.iova_to_phys(iova) : 0;
  },
  free(d: IommuDomain): void {
    const domain = d as DmarDomain;
    domain.pgtbl?.free();
    domain.pgtbl = null;
  },
});

const identity_ops: DomainOps = Object.freeze({
  attach_dev(_d: IommuDomain, dev: Device): number {
    device_block_translation(dev);
    unitOf(dev).write_context(dev, { kind: 'pt' });
    return 0;
  },
});

const blocked_ops: DomainOps = Object.freeze({
  attach_dev(_d: IommuDomain, dev: Device): number {
    device_block_translation(dev);
    return 0;
  },
});

function intel_static_domain(m: Machine, type: number): IommuDomain {
  const identity = type === IOMMU_DOMAIN_IDENTITY;
  return static_domain(
    m,
    intel_iommu,
    identity ? 'identity_domain' : 'blocked_domain',
    () =>
      new IommuDomain(m, next_domain_id(m), type, intel_iommu, identity ? identity_ops : blocked_ops, null),
  );
}

/** The legacy DMA/UNMANAGED domain: 57 bits, no unit, bitmap left 0 for the core to fill (md_domain_init). */
function legacy_paging_domain(m: Machine, type: number): IommuDomain | null {
  const domain = new DmarDomain(
    m,
    next_domain_id(m),
    type,
    intel_iommu,
    paging_ops,
    null,
    DEFAULT_DOMAIN_ADDRESS_WIDTH,
    true,
  );
  domain.use_first_level = first_level_by_default(m, type);
  register_domain(m, domain);
  if (!alloc_table(domain)) {
    unregister_domain(domain);
    return null;
  }
  domain.geometry = {
    aperture_start: 0,
    aperture_end: aperture_end(domain.gaw, false),
    force_aperture: true,
  };
  return domain;
}

/** paging_domain_alloc (v6.13+): everything from the device's unit, first-stage in scalable mode. */
function paging_domain_alloc(dev: Device): DmarDomain | number {
  const unit = unitOf(dev);
  const m = dev.machine;
  const first_stage = unit.cfg.scalable;
  const domain = new DmarDomain(
    m,
    next_domain_id(m),
    IOMMU_DOMAIN_UNMANAGED,
    intel_iommu,
    paging_ops,
    unit,
    unit.gaw,
    false,
  );
  domain.use_first_level = first_stage;
  domain.iommu_superpage = unit.superpage_capability(first_stage);
  domain.pgsize_bitmap = SZ_4K + super_pgsize_bitmap(domain.iommu_superpage);
  domain.geometry = {
    aperture_start: 0,
    aperture_end: aperture_end(domain.gaw, first_stage),
    force_aperture: true,
  };
  register_domain(m, domain);
  if (!alloc_table(domain)) {
    unregister_domain(domain);
    return -ENOMEM;
  }
  return domain;
}

/** RMRRs (the device's firmware DIRECT regions), then the x86 interrupt window (intel_iommu_get_resv_regions). */
function get_resv_regions(dev: Device): ResvRegion[] {
  return [
    ...dev.fw_resv,
    iommu_alloc_resv_region(X86_MSI_START, X86_MSI_END - X86_MSI_START + 1, 0, IOMMU_RESV_MSI),
  ];
}

/** intel_iommu_probe_device: from v6.9 a scalable unit sets the device's context entry up here. */
function probe_device(dev: Device): number {
  const unit = unitOf(dev);
  if (unit.cfg.scalable && dev.machine.profile.has('intel_sm_context_at_probe'))
    unit.sm_context_setup(dev, 0);
  return 0;
}

const common_ops = {
  probe_device,
  get_resv_regions,
  deferred_flush: (): boolean => true,
};

/**
 * Before v6.13: bus-style domain_alloc(type); legacy domains fitted at attach. The switch of
 * intel_iommu_domain_alloc (v6.6): the blocking domain, si_domain, a paging domain for DMA and
 * UNMANAGED, and NULL for anything else (SVA domains are not modelled). DMA_FQ is not among them:
 * the core strips the FQ bit before it asks. (v6.7 moved the blocking domain to
 * ops->blocked_domain and dropped its case; the lab's v6.8 keeps v6.6's switch, and the core gets
 * the same static domain either way.)
 */
const legacy_ops: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc(m: Machine, type: number): IommuDomain | null {
    switch (type) {
      case IOMMU_DOMAIN_BLOCKED:
      case IOMMU_DOMAIN_IDENTITY:
        return intel_static_domain(m, type);
      case IOMMU_DOMAIN_DMA:
      case IOMMU_DOMAIN_UNMANAGED:
        return legacy_paging_domain(m, type);
      default:
        return null;
    }
  },
});

/** v6.13+: domain_alloc_paging(dev) and static identity/blocked domains. */
const modern_ops: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc_paging: paging_domain_alloc,
  identity_domain: (m: Machine) => intel_static_domain(m, IOMMU_DOMAIN_IDENTITY),
  blocked_domain: (m: Machine) => intel_static_domain(m, IOMMU_DOMAIN_BLOCKED),
});

export const intel_iommu: IommuDriver<IntelIommuOptions> = {
  name: DRIVER,
  options,
  arch: 'x86',
  // intel_iommu_get_resv_regions: RMRRs only (DIRECT, or DIRECT_RELAXABLE for USB and graphics).
  fw_resv_types: {
    types: [IOMMU_RESV_DIRECT, IOMMU_RESV_DIRECT_RELAXABLE],
    source: "the DMAR table's RMRRs",
  },
  create(machine: Machine, name: string, opts: IntelIommuOptions) {
    // First-stage tables are 4- or 5-level IA-32e paging: domain_setup_first_level refuses any
    // other level count with -EINVAL (and QEMU's x-flts=on takes aw-bits=48 only).
    if (opts.scalable && opts.agaw === 39)
      throw new RangeError(
        'intel-iommu options scalable: true and agaw: 39 do not go together: first-stage tables have 4 or 5 levels (agaw 48 or 57), and domain_setup_first_level refuses a 3-level one',
      );
    // intel_iommu_init: with caching mode, each lazy unmap would trap to the hypervisor anyway,
    // unless the unit uses first-stage tables (which caching mode does not shadow).
    if (opts.caching_mode && !opts.scalable)
      iommu_set_dma_strict(machine, DRIVER, 'IOMMU batching disallowed due to virtualization');
    return new IntelIommu(machine, name, intel_iommu, opts);
  },
  ops: (m: Machine) => (m.profile.has('intel_paging') ? modern_ops : legacy_ops),
  // intel_iommu_ops.pgsize_bitmap: SZ_4K; domains add their superpages themselves.
  global_pgsize_bitmap: () => SZ_4K,
  default_domain_ops: paging_ops,
};
