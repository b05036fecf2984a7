/**
 * amd-iommu (AMD-Vi) with v1 page tables (facts §5.6).
 *
 * Any power-of-two page size from 4 KiB is mapped as one leaf (replicated PTEs below the level's
 * own size — the amd-v1 format encodes them). A domain is complete at allocation (table, global
 * domain ID), so map before attach works in every era; v6.6 and v6.8 allocate through the legacy
 * domain_alloc(type), v6.16 through domain_alloc_paging with static identity and blocked domains.
 *
 * NpCache (virtual AMD IOMMUs): the IOMMU may cache non-present entries, so iotlb_sync_map flushes
 * the mapped range; without it the op returns at once. Either way the op exists in every era.
 */
import { next_domain_id, register_domain, static_domain, unregister_domain } from '../../core/alloc.ts';
import {
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_RESV_DIRECT,
  IOMMU_RESV_MSI,
  IOMMU_RESV_RESERVED,
  U64_MAX,
  X86_MSI_END,
  X86_MSI_START,
} from '../../core/constants.ts';
import type { Device } from '../../core/device.ts';
import { IommuDomain, type DomainOps } from '../../core/domain.ts';
import type { IommuDriver, IommuOps } from '../../core/driver.ts';
import { ENOMEM, ENOSPC } from '../../core/errno.ts';
import {
  iommu_iotlb_gather_add_range,
  iommu_iotlb_gather_is_disjoint,
  iommu_iotlb_sync,
  type IommuIotlbGather,
} from '../../core/gather.ts';
import type { Machine } from '../../core/machine.ts';
import type { OptionTable } from '../../core/options.ts';
import { iommu_set_dma_strict } from '../../core/probe.ts';
import { iommu_alloc_resv_region, type ResvRegion } from '../../core/resv.ts';
import { genmask } from '../../pgtable/bitmap.ts';
import { pgtable_format } from '../../pgtable/formats/index.ts';
import { IoPgtable } from '../../pgtable/io-pgtable.ts';
import { AmdIommu, type AmdIommuOptions } from './amd-iommu.ts';
import { ProtectionDomain } from './domain.ts';
import { ev } from './trace-events.ts';

const DRIVER = 'amd-iommu';

/**
 * AMD_IOMMU_PGSIZES (amd_iommu_types.h). Legacy: every size from 4 KiB except 512 GiB, a hardware
 * bug (~0xFFFUL & ~(2ULL << 38); bits above 52 cannot be held in a safe integer and are left out).
 * Newer: GENMASK_ULL(51, 12) ^ SZ_512G, nothing at or above the 52-bit physical address limit.
 */
const SZ_512G = 2 ** 39;
const AMD_IOMMU_PGSIZES_LEGACY = genmask(52, 12) - SZ_512G;
const AMD_IOMMU_PGSIZES = genmask(51, 12) - SZ_512G;

/** IOMMU_IN_ADDR_BIT_SIZE / IOMMU_OUT_ADDR_BIT_SIZE. */
const IOMMU_ADDR_BIT_SIZE = 52;
/** PAGE_MODE_3_LEVEL for a new table; increase_address_space grows it to PAGE_MODE_6_LEVEL. */
const PAGE_MODE_3_LEVEL = 3;
const PAGE_MODE_6_LEVEL = 6;
/** MAX_DOMAIN_ID: the global protection-domain ID space; ID 0 is never handed out. */
const MAX_DOMAIN_ID = 65536;
/** HyperTransport reserved window (HT_RANGE_START, HT_RANGE_END). */
const HT_RANGE_START = 0xfd_0000_0000;
const HT_RANGE_END = 0xff_ffff_ffff;

const options: OptionTable<AmdIommuOptions> = {
  np_cache: {
    kind: 'bool',
    default: false,
    doc: 'capability NpCache: non-present entries may be cached (typical of virtual AMD IOMMUs); maps are then flushed',
  },
  ht_range_ignore: {
    kind: 'bool',
    default: false,
    doc: 'EFR2 HTRangeIgnore: the HyperTransport window is not reserved (the driver honours it from v6.16)',
  },
  tlb_entries: { kind: 'int', default: 32, min: 1, max: 65536, doc: 'IOTLB entries' },
};

function unitOf(dev: Device): AmdIommu {
  return dev.iommu as AmdIommu;
}

/** amd_iommu_np_cache is one global flag: set when any IOMMU reports NpCache. */
function amd_iommu_np_cache(m: Machine): boolean {
  return m.iommus.some((i) => i instanceof AmdIommu && i.cfg.np_cache);
}

function pgsizes(m: Machine): number {
  return m.profile.has('amd_pgsizes_genmask') ? AMD_IOMMU_PGSIZES : AMD_IOMMU_PGSIZES_LEGACY;
}

// ── domain IDs (amd_iommu_pd_alloc_bitmap, shared by every IOMMU) ──

function pd_ids(m: Machine): Set<number> {
  const g = m.globals(DRIVER);
  return (g.pd_ids ??= new Set<number>()) as Set<number>;
}

function pdom_id_alloc(m: Machine): number {
  const ids = pd_ids(m);
  for (let id = 1; id < MAX_DOMAIN_ID; id++) {
    if (!ids.has(id)) {
      ids.add(id);
      return id;
    }
  }
  return 0;
}

// ── attach / detach ──

/** Flush the whole domain on every IOMMU it is on and wait (amd_iommu_domain_flush_all + complete). */
function domain_flush_all(domain: ProtectionDomain): void {
  for (const unit of domain.units.keys()) {
    unit.inv_iommu_pages_all(domain.pd_id);
    unit.completion_wait();
  }
}

/**
 * Flush [iova, iova+size) on every IOMMU the domain is on, then wait (amd_iommu_domain_flush_pages
 * and the completion). Under NpCache the range goes out in naturally aligned pieces: the IOMMU is
 * a hypervisor's, and a flush of an unaligned range would make it re-read PTEs that did not change.
 */
function domain_flush_pages(domain: ProtectionDomain, iova: number, size: number): void {
  const pieces = amd_iommu_np_cache(domain.machine) ? aligned_pieces(iova, size) : [[iova, size]];
  for (const [start, len] of pieces)
    for (const unit of domain.units.keys()) unit.inv_iommu_pages(domain.pd_id, start, len);
  for (const unit of domain.units.keys()) unit.completion_wait();
}

/** [iova, size) as pieces each the largest power of two that the address's alignment and the size left allow. */
function aligned_pieces(iova: number, size: number): [number, number][] {
  const pieces: [number, number][] = [];
  while (size > 0) {
    let piece = 2 ** Math.floor(Math.log2(size));
    if (piece > size) piece /= 2;
    while (iova !== 0 && iova % piece !== 0) piece /= 2;
    pieces.push([iova, piece]);
    iova += piece;
    size -= piece;
  }
  return pieces;
}

/** detach_device: clear the DTE, flush the old domain, then drop the reference (in that order). */
function detach_device(dev: Device): void {
  const unit = unitOf(dev);
  const dte = unit.dte.get(dev);
  if (!dte) return;
  unit.set_dte(dev, { kind: 'blocked' });
  if (dte.kind !== 'v1') {
    unit.completion_wait();
    return;
  }
  const domain = dte.domain;
  domain.dev_list.splice(domain.dev_list.indexOf(dev), 1);
  domain_flush_all(domain);
  const n = (domain.units.get(unit) ?? 1) - 1;
  if (n > 0) domain.units.set(unit, n);
  else domain.units.delete(unit);
}

const paging_ops: DomainOps = Object.freeze({
  attach_dev(d: IommuDomain, dev: Device): number {
    const domain = d as ProtectionDomain;
    const unit = unitOf(dev);
    const cur = unit.dte.get(dev);
    if (cur?.kind === 'v1' && cur.domain === domain) return 0;
    detach_device(dev);
    domain.units.set(unit, (domain.units.get(unit) ?? 0) + 1);
    domain.dev_list.push(dev);
    domain.iommu ??= unit;
    unit.set_dte(dev, { kind: 'v1', domain });
    unit.completion_wait();
    return 0;
  },
  /**
   * iommu_v1_map_pages: a map that freed a table or cleared a large PTE in its way ('updated')
   * flushes before it returns: the whole domain with PDE in older kernels
   * (amd_iommu_domain_flush_tlb_pde), the range mapped in newer ones. A leaf over a leaf is not
   * flushed.
   */
  map_pages(d: IommuDomain, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number) {
    const domain = d as ProtectionDomain;
    if (!domain.pgtbl) return { ret: -ENOMEM, mapped: 0 };
    domain.tables_dropped = false;
    const r = domain.pgtbl.map_pages(iova, paddr, pgsize, pgcount, prot);
    if (domain.tables_dropped) {
      if (domain.machine.profile.has('amd_flush_map_range'))
        domain_flush_pages(domain, iova, pgsize * pgcount);
      else domain_flush_all(domain);
    }
    return r;
  },
  unmap_pages(
    d: IommuDomain,
    iova: number,
    pgsize: number,
    pgcount: number,
    gather: IommuIotlbGather,
  ): number {
    const domain = d as ProtectionDomain;
    if (!domain.pgtbl) return 0;
    const r = domain.pgtbl.unmap_pages(iova, pgsize, pgcount, gather);
    if (r) amd_iommu_iotlb_gather_add_page(domain, gather, iova, r);
    return r;
  },
  /**
   * amd_iommu_iotlb_sync has no empty-gather check: after an unmap that unmapped nothing, start is
   * ULONG_MAX and end 0, and the range wraps into one that build_inv_address widens to every page.
   * (Under NpCache the aligned-pieces loop makes that two one-page flushes, at the last page of the
   * 64-bit space and at 0; the lab, whose addresses end at 2^53, flushes every page there too.)
   */
  iotlb_sync(d: IommuDomain, gather: IommuIotlbGather): void {
    const domain = d as ProtectionDomain;
    if (!gather.end) domain_flush_all(domain);
    else domain_flush_pages(domain, gather.start, gather.end - gather.start + 1);
  },
  flush_iotlb_all(d: IommuDomain): void {
    domain_flush_all(d as ProtectionDomain);
  },
  /** A no-op unless the IOMMUs cache non-present entries (amd_iommu_iotlb_sync_map). */
  iotlb_sync_map(d: IommuDomain, iova: number, size: number): number {
    const domain = d as ProtectionDomain;
    if (!amd_iommu_np_cache(domain.machine)) return 0;
    domain_flush_pages(domain, iova, size);
    return 0;
  },
  iova_to_phys(d: IommuDomain, iova: number): number {
    const domain = d as ProtectionDomain;
    return domain.pgtbl ? domain.pgtbl.iova_to_phys(iova) : 0;
  },
  free(d: IommuDomain): void {
    const domain = d as ProtectionDomain;
    domain.pgtbl?.free();
    domain.pgtbl = null;
    pd_ids(domain.machine).delete(domain.pd_id);
    domain.machine.trace.emit(ev.pd_id_free, domain.id, domain.pd_id);
  },
});

/**
 * amd_iommu_iotlb_gather_add_page: one flush may cover any range, so ranges are merged even with
 * gaps between them, except under NpCache, where a hypervisor pays for every page flushed and a
 * gap flushes what was gathered first.
 */
function amd_iommu_iotlb_gather_add_page(
  domain: ProtectionDomain,
  gather: IommuIotlbGather,
  iova: number,
  size: number,
): void {
  if (gather.queued) return;
  if (amd_iommu_np_cache(domain.machine) && iommu_iotlb_gather_is_disjoint(gather, iova, size))
    iommu_iotlb_sync(domain, gather);
  iommu_iotlb_gather_add_range(gather, iova, size);
}

/** Pass-through: DTE with mode 0 under the domain's ID. */
const identity_ops: DomainOps = Object.freeze({
  attach_dev(d: IommuDomain, dev: Device): number {
    const unit = unitOf(dev);
    detach_device(dev);
    unit.set_dte(dev, { kind: 'pt', domid: (d as ProtectionDomain).pd_id });
    unit.completion_wait();
    return 0;
  },
  free(d: IommuDomain): void {
    const domain = d as ProtectionDomain;
    pd_ids(domain.machine).delete(domain.pd_id);
    domain.machine.trace.emit(ev.pd_id_free, domain.id, domain.pd_id);
  },
});

const blocked_ops: DomainOps = Object.freeze({
  attach_dev(_d: IommuDomain, dev: Device): number {
    detach_device(dev);
    return 0;
  },
});

function new_domain(m: Machine, type: number, ops: DomainOps): ProtectionDomain | null {
  const pd_id = pdom_id_alloc(m);
  if (!pd_id) return null;
  const domain = new ProtectionDomain(m, next_domain_id(m), type, amd_iommu, ops, pd_id);
  register_domain(m, domain);
  m.trace.emit(ev.pd_id_alloc, domain.id, pd_id);
  return domain;
}

/** protection_domain_alloc for paging: a 3-level v1 table that grows on demand. */
function v1_domain(m: Machine, type: number): ProtectionDomain | number {
  const domain = new_domain(m, type, paging_ops);
  if (!domain) return -ENOSPC;
  domain.pgtbl = IoPgtable.try_alloc(
    m.mem,
    m.trace,
    pgtable_format('amd-v1'),
    {
      pgsize_bitmap: pgsizes(m),
      ias: IOMMU_ADDR_BIT_SIZE,
      oas: IOMMU_ADDR_BIT_SIZE,
      levels: PAGE_MODE_3_LEVEL,
      max_levels: PAGE_MODE_6_LEVEL,
      id: domain.id,
    },
    domain,
  );
  if (!domain.pgtbl) {
    unregister_domain(domain);
    pd_ids(m).delete(domain.pd_id);
    return -ENOMEM;
  }
  // The era's AMD_IOMMU_PGSIZES, as the driver reports it (the table maps up to 2^51 either way).
  domain.pgsize_bitmap = pgsizes(m);
  // dma_max_address() for v1 tables: the whole 64-bit space, as the lab's largest safe integer.
  domain.geometry = { aperture_start: 0, aperture_end: U64_MAX, force_aperture: true };
  return domain;
}

function amd_static_domain(m: Machine, type: number): IommuDomain {
  const identity = type === IOMMU_DOMAIN_IDENTITY;
  return static_domain(m, amd_iommu, identity ? 'identity_domain' : 'blocked_domain', () =>
    identity
      ? new_domain(m, type, identity_ops)!
      : new IommuDomain(m, next_domain_id(m), type, amd_iommu, blocked_ops, null),
  );
}

/**
 * IVMD unity maps (the device's firmware DIRECT regions), the MSI window, and the HyperTransport
 * range unless the IOMMU reports HTRangeIgnore and the driver knows the bit (amd_iommu_get_resv_regions).
 */
function get_resv_regions(dev: Device): ResvRegion[] {
  const unit = unitOf(dev);
  const regions = [
    ...dev.fw_resv,
    iommu_alloc_resv_region(X86_MSI_START, X86_MSI_END - X86_MSI_START + 1, 0, IOMMU_RESV_MSI),
  ];
  const ignore = unit.cfg.ht_range_ignore && dev.machine.profile.has('amd_ht_range_ignore');
  if (!ignore)
    regions.push(
      iommu_alloc_resv_region(HT_RANGE_START, HT_RANGE_END - HT_RANGE_START + 1, 0, IOMMU_RESV_RESERVED),
    );
  return regions;
}

const common_ops = {
  probe_device: (): number => 0,
  get_resv_regions,
  deferred_flush: (): boolean => true,
};

/** v6.6 and v6.8: domain_alloc(type); no blocked domain (the core then uses an empty paging domain). */
const legacy_ops: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc(m: Machine, type: number): IommuDomain | null {
    if (type === IOMMU_DOMAIN_IDENTITY) return new_domain(m, type, identity_ops);
    // protection_domain_alloc knows IDENTITY, DMA and UNMANAGED; anything else (BLOCKED too) is NULL.
    if (type !== IOMMU_DOMAIN_DMA && type !== IOMMU_DOMAIN_UNMANAGED) return null;
    const r = v1_domain(m, type);
    return typeof r === 'number' ? null : r;
  },
});

/** v6.16: domain_alloc_paging(_flags) and static identity/blocked domains. */
const modern_ops: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc_paging: (dev: Device) => v1_domain(dev.machine, IOMMU_DOMAIN_UNMANAGED),
  identity_domain: (m: Machine) => amd_static_domain(m, IOMMU_DOMAIN_IDENTITY),
  blocked_domain: (m: Machine) => amd_static_domain(m, IOMMU_DOMAIN_BLOCKED),
});

export const amd_iommu: IommuDriver<AmdIommuOptions> = {
  name: DRIVER,
  options,
  arch: 'x86',
  // amd_iommu_get_resv_regions: IVMD unity maps are DIRECT, exclusion ranges RESERVED.
  fw_resv_types: { types: [IOMMU_RESV_DIRECT, IOMMU_RESV_RESERVED], source: "the IVRS table's IVMD entries" },
  create(machine: Machine, name: string, opts: AmdIommuOptions) {
    // iommu_init_pci: an IOMMU that caches not-present entries is a virtualised one.
    if (opts.np_cache) iommu_set_dma_strict(machine, DRIVER, 'Using strict mode due to virtualization');
    return new AmdIommu(machine, name, amd_iommu, opts);
  },
  ops: (m: Machine) => (m.profile.has('amd_paging') ? modern_ops : legacy_ops),
  // amd_iommu_ops.pgsize_bitmap until v6.12 set it, domains carry their own since.
  global_pgsize_bitmap: (m: Machine) => pgsizes(m),
  default_domain_ops: paging_ops,
};
