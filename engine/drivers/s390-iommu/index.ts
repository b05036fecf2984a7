/**
 * s390-iommu (zPCI) with region/segment/page tables (facts §5.7).
 *
 * One IOMMU instance per PCI function, as Linux registers one per zdev. The domain's aperture is
 * the whole root table; map_pages refuses anything outside it, any size but 4 KiB and misaligned
 * addresses (-EINVAL). The function's firmware window [start_dma, end_dma] is narrower: everything
 * outside it is reported as RESERVED and faults on the device side.
 *
 * v6.6: the IOMMU API serves VFIO only (domain_alloc(UNMANAGED)); the DMA API used the arch code,
 * which the lab does not model, so devices get no default domain. v6.7 moved the DMA API onto
 * dma-iommu: domain_alloc_paging, DEFERRED_FLUSH (not for ISM), one large flush queue when the
 * hypervisor shadows the tables, and an iotlb_sync_map that can fail. v6.13 added the static
 * blocking domain devices start on.
 */
import { next_domain_id, register_domain, static_domain, unregister_domain } from '../../core/alloc.ts';
import {
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_READ,
  IOMMU_RESV_RESERVED,
  SZ_4K,
  U64_MAX,
} from '../../core/constants.ts';
import type { Device } from '../../core/device.ts';
import type { IommuDevice } from '../../core/iommu-device.ts';
import { IommuDomain, type DomainOps } from '../../core/domain.ts';
import type { IommuDriver, IommuOps } from '../../core/driver.ts';
import { EINVAL, ENODEV, ENOMEM } from '../../core/errno.ts';
import { iommu_iotlb_gather_add_range, type IommuIotlbGather } from '../../core/gather.ts';
import type { Machine } from '../../core/machine.ts';
import type { OptionTable } from '../../core/options.ts';
import { iommu_alloc_resv_region, type ResvRegion } from '../../core/resv.ts';
import { pgtable_format } from '../../pgtable/formats/index.ts';
import { IoPgtable } from '../../pgtable/io-pgtable.ts';
import { S390Domain } from './domain.ts';
import {
  S390Iommu,
  ZPCI_TABLE_SIZE_RS,
  ZPCI_TABLE_SIZE_RT,
  type S390IommuOptions,
  type S390Origin,
} from './s390-iommu.ts';

const DRIVER = 's390-iommu';

const options: OptionTable<S390IommuOptions> = {
  start_dma: {
    kind: 'int',
    default: 0x1_0000_0000,
    doc: "first IOVA of the function's DMA window; QEMU reports 4 GiB (ZPCI_SDMA_ADDR)",
  },
  end_dma: {
    kind: 'int',
    default: Number.MAX_SAFE_INTEGER,
    doc:
      "last IOVA of the DMA window as firmware reports it (QEMU's ZPCI_EDMA_ADDR, 0x1ffffffffffffff, is beyond a safe " +
      'integer, so the default is the largest one); the driver clamps it to the root table and to the top of RAM',
  },
  tlb_refresh: {
    kind: 'bool',
    default: false,
    doc:
      'the hypervisor shadows the tables (z/VM, KVM): the function translates only what an RPCIT has shown it, so new ' +
      'entries need one and an unmap stays reachable until its RPCIT; DMA-FQ uses one large queue',
  },
  ism: {
    kind: 'bool',
    default: false,
    doc: 'an ISM function: no IOMMU_CAP_DEFERRED_FLUSH, so unmaps are strict',
  },
  rtr: {
    kind: 'bool',
    default: false,
    doc: 'relaxed translation available (zdev->rtr_avail): from v6.15 the function offers an identity domain, a passthrough IOAT',
  },
  rpcit_fail_nth: {
    kind: 'int',
    default: 0,
    min: 0,
    doc: 'fault injection: the n-th RPCIT of this function (from 1) fails with -ENOMEM, as when shadow resources run out; 0 = never',
  },
  rpcit_fail_count: {
    kind: 'int',
    default: 1,
    min: 1,
    doc: 'fault injection: how many RPCITs fail from rpcit_fail_nth on',
  },
  fail_register_ioat: {
    kind: 'bool',
    default: false,
    doc: 'fault injection: registering the I/O address translation fails (cc 3), so attach returns -EIO',
  },
  tlb_entries: { kind: 'int', default: 32, min: 1, max: 65536, doc: 'IOTLB entries' },
};

function unitOf(dev: Device): S390Iommu {
  return dev.iommu as S390Iommu;
}

/** The last IOVA a root of this type can translate (max_tbl_size). */
function max_tbl_size(origin: S390Origin): number {
  return origin === 'rtx' ? ZPCI_TABLE_SIZE_RT - 1 : origin === 'rsx' ? ZPCI_TABLE_SIZE_RS - 1 : U64_MAX;
}

/**
 * The window the driver settles on: start_dma page-aligned, the size the least of the top of RAM
 * (s390_iommu_aperture = high_memory), what a region-third table covers past start_dma, and the
 * firmware's window; end_dma moves to its end. Every era does it before any IOMMU domain: before
 * v6.7 zpci_dma_init_device (arch/s390/pci/pci_dma.c, called from zpci_bus_prepare_device when the
 * function is set up) clamps zdev->end_dma this way; from v6.7 zpci_init_iommu does. v6.16 would
 * take a region-second or -first root for a window past 2^42 (s390_domain_alloc_paging); the lab's
 * s390 table format has the region-third root only, so such a window is clipped as before — with
 * the lab's RAM (top at 5 GiB) Linux picks RTX anyway.
 */
function settle_window(m: Machine, unit: S390Iommu): S390Origin {
  const start = unit.cfg.start_dma;
  const end = unit.cfg.end_dma;
  const start_dma = Math.ceil(start / SZ_4K) * SZ_4K;
  const ram_top = m.mem.ram_base + m.mem.ram_size;
  const size = Math.min(ram_top, ZPCI_TABLE_SIZE_RT - start_dma, end - start_dma + 1);
  unit.start_dma = start_dma;
  unit.end_dma = start_dma + size - 1;
  return 'rtx';
}

// ── domain ops ──

function detach_from_domain(dev: Device): void {
  const unit = unitOf(dev);
  const ioat = unit.ioat.get(dev);
  unit.unregister_ioat(dev);
  if (ioat?.kind === 'paging') {
    const list = ioat.domain.zdevs;
    list.splice(list.indexOf(dev), 1);
  }
}

const paging_ops: DomainOps = Object.freeze({
  attach_dev(d: IommuDomain, dev: Device): number {
    const domain = d as S390Domain;
    const unit = unitOf(dev);
    if (domain.geometry.aperture_start > unit.end_dma || domain.geometry.aperture_end < unit.start_dma)
      return -EINVAL;
    // From v6.13 through the blocking domain, before by hand: the old IOAT goes first, so a failed
    // registration leaves DMA blocked.
    detach_from_domain(dev);
    const ret = unit.register_ioat(dev, { kind: 'paging', domain });
    if (ret) return ret;
    domain.zdevs.push(dev);
    domain.iommu ??= unit;
    return 0;
  },
  map_pages(d: IommuDomain, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number) {
    const domain = d as S390Domain;
    if (!domain.pgtbl) return { ret: -ENOMEM, mapped: 0 };
    const size = pgsize * pgcount;
    if (pgsize !== SZ_4K) return { ret: -EINVAL, mapped: 0 };
    if (iova < domain.geometry.aperture_start || iova + size - 1 > domain.geometry.aperture_end)
      return { ret: -EINVAL, mapped: 0 };
    if (iova % pgsize || paddr % pgsize) return { ret: -EINVAL, mapped: 0 };
    // Until the v6.7 rework a mapping had to be readable. After it any prot goes: zPCI entries have
    // no read-disable bit, so a valid entry is readable, and without WRITE it is PROTECTED.
    if (!(prot & IOMMU_READ)) {
      if (!domain.machine.profile.has('s390_dma_iommu')) return { ret: -EINVAL, mapped: 0 };
      prot |= IOMMU_READ;
    }
    const r = domain.pgtbl.map_pages(iova, paddr, pgsize, pgcount, prot);
    // s390_iommu_validate_trans undoes a partial map, and *mapped is set only on success.
    return r.ret ? { ret: r.ret, mapped: 0 } : { ret: 0, mapped: size };
  },
  unmap_pages(
    d: IommuDomain,
    iova: number,
    pgsize: number,
    pgcount: number,
    gather: IommuIotlbGather,
  ): number {
    const domain = d as S390Domain;
    if (!domain.pgtbl) return 0;
    const size = pgsize * pgcount;
    if (iova < domain.geometry.aperture_start || iova + size - 1 > domain.geometry.aperture_end) return 0;
    // Every page of the range is invalidated whether it was mapped or not, and the size reported;
    // only a table allocation failing on the way reports 0.
    if (!domain.pgtbl.unmap_pages(iova, pgsize, pgcount, gather)) return 0;
    iommu_iotlb_gather_add_range(gather, iova, size);
    return size;
  },
  iotlb_sync(d: IommuDomain, gather: IommuIotlbGather): void {
    const domain = d as S390Domain;
    if (!gather.end) return;
    for (const dev of domain.zdevs)
      unitOf(dev).refresh_trans(dev, domain.id, gather.start, gather.end - gather.start + 1);
  },
  flush_iotlb_all(d: IommuDomain): void {
    const domain = d as S390Domain;
    for (const dev of domain.zdevs) unitOf(dev).refresh_all(dev, domain.id);
  },
  /**
   * Only a shadowing hypervisor needs new entries refreshed. When its resources run out (-ENOMEM)
   * a refresh of the whole window lets it drop what was invalidated; only if that fails too is the
   * error returned (from v6.7, when iotlb_sync_map returns an int, the core then unmaps the range).
   */
  iotlb_sync_map(d: IommuDomain, iova: number, size: number): number {
    const domain = d as S390Domain;
    const can_fail = domain.machine.profile.has('s390_dma_iommu');
    let ret = 0;
    for (const dev of domain.zdevs) {
      const unit = unitOf(dev);
      if (!unit.cfg.tlb_refresh) continue;
      ret = unit.refresh_trans(dev, domain.id, iova, size);
      if (!can_fail) {
        ret = 0;
        continue;
      }
      if (ret === -ENOMEM) {
        ret = unit.refresh_all(dev, domain.id);
        if (ret) break;
      }
    }
    return ret;
  },
  iova_to_phys(d: IommuDomain, iova: number): number {
    const domain = d as S390Domain;
    if (!domain.pgtbl || iova < domain.geometry.aperture_start || iova > domain.geometry.aperture_end)
      return 0;
    return domain.pgtbl.iova_to_phys(iova);
  },
  free(d: IommuDomain): void {
    const domain = d as S390Domain;
    domain.pgtbl?.free();
    domain.pgtbl = null;
  },
});

const blocked_ops: DomainOps = Object.freeze({
  attach_dev(_d: IommuDomain, dev: Device): number {
    detach_from_domain(dev);
    return 0;
  },
});

/** s390_attach_dev_identity: through the blocking domain, then a passthrough IOAT (iota 0). */
const identity_ops: DomainOps = Object.freeze({
  attach_dev(_d: IommuDomain, dev: Device): number {
    detach_from_domain(dev);
    return unitOf(dev).register_ioat(dev, { kind: 'identity' });
  },
});

function identity_domain(m: Machine): IommuDomain {
  return static_domain(
    m,
    s390_iommu,
    'identity_domain',
    () => new IommuDomain(m, next_domain_id(m), IOMMU_DOMAIN_IDENTITY, s390_iommu, identity_ops, null),
  );
}

function blocked_domain(m: Machine): IommuDomain {
  return static_domain(
    m,
    s390_iommu,
    'blocked_domain',
    () => new IommuDomain(m, next_domain_id(m), IOMMU_DOMAIN_BLOCKED, s390_iommu, blocked_ops, null),
  );
}

/** s390_domain_alloc(_paging): the root table exists from the start, so maps work before attach. */
function new_paging_domain(m: Machine, type: number, origin: S390Origin): S390Domain | null {
  const domain = new S390Domain(m, next_domain_id(m), type, s390_iommu, paging_ops);
  register_domain(m, domain);
  domain.origin = origin;
  domain.pgtbl = IoPgtable.try_alloc(m.mem, m.trace, pgtable_format('s390'), { id: domain.id }, domain);
  if (!domain.pgtbl) {
    unregister_domain(domain);
    return null;
  }
  domain.pgsize_bitmap = SZ_4K;
  domain.geometry = { aperture_start: 0, aperture_end: max_tbl_size(origin), force_aperture: true };
  return domain;
}

/**
 * RESERVED below start_dma and above end_dma up to what the root table covers
 * (s390_iommu_get_resv_regions). From v6.15 the upper one is there only while the function is on a
 * paging domain: blocked or identity, it has no table to bound.
 */
function get_resv_regions(dev: Device): ResvRegion[] {
  const unit = unitOf(dev);
  const regions: ResvRegion[] = [];
  if (unit.start_dma) regions.push(iommu_alloc_resv_region(0, unit.start_dma, 0, IOMMU_RESV_RESERVED));
  if (dev.machine.profile.has('s390_identity') && unit.ioat.get(dev)?.kind !== 'paging') return regions;
  const max = max_tbl_size(unit.origin);
  if (unit.end_dma < max)
    regions.push(iommu_alloc_resv_region(unit.end_dma + 1, max - unit.end_dma, 0, IOMMU_RESV_RESERVED));
  return regions;
}

function probe_device(dev: Device): number {
  const unit = unitOf(dev);
  if (dev.bus !== 'pci') return -ENODEV;
  if (unit.start_dma > unit.end_dma) return -EINVAL;
  // A shadowing hypervisor makes every flush expensive: dma-iommu then uses one large queue.
  if (dev.machine.profile.has('s390_dma_iommu') && unit.cfg.tlb_refresh) dev.shadow_on_flush = true;
  return 0;
}

/** v6.6: VFIO domains only; leaving one returns the function to the arch DMA code (not modelled). */
const legacy_ops: IommuOps = Object.freeze({
  probe_device,
  get_resv_regions,
  domain_alloc(m: Machine, type: number): IommuDomain | null {
    if (type !== IOMMU_DOMAIN_UNMANAGED) return null;
    return new_paging_domain(m, type, 'rtx');
  },
  set_platform_dma_ops(dev: Device): void {
    detach_from_domain(dev);
  },
});

function paging_alloc(dev: Device) {
  const d = new_paging_domain(dev.machine, IOMMU_DOMAIN_UNMANAGED, unitOf(dev).origin);
  return d ?? -ENOMEM;
}

const deferred_flush = (dev: Device): boolean => !unitOf(dev).cfg.ism;

/** v6.7–v6.12: dma-iommu, domain_alloc_paging, no static domains. */
const dma_iommu_ops: IommuOps = Object.freeze({
  probe_device,
  get_resv_regions,
  domain_alloc_paging: paging_alloc,
  deferred_flush,
});

/** v6.13+: devices start on (and are released to) the static blocking domain. */
const blocking_ops: IommuOps = Object.freeze({
  ...dma_iommu_ops,
  blocked_domain,
});

/** v6.15+ on a function with relaxed translation (s390_iommu_rtr_ops): an identity domain too. */
const rtr_ops: IommuOps = Object.freeze({
  ...blocking_ops,
  identity_domain,
});

export const s390_iommu: IommuDriver<S390IommuOptions> = {
  name: DRIVER,
  options,
  arch: 's390',
  ignores_fw_resv: 'reports only the RESERVED regions outside its DMA window (s390_iommu_get_resv_regions)',
  create(machine: Machine, name: string, opts: S390IommuOptions) {
    if (opts.end_dma < opts.start_dma)
      throw new RangeError(
        `s390-iommu: end_dma (0x${opts.end_dma.toString(16)}) is below start_dma (0x${opts.start_dma.toString(16)}); the DMA window is [start_dma, end_dma]`,
      );
    // s390_iommu_init: zPCI has no 32-bit DMA limit to work around, so IOVAs come from the top.
    if (machine.profile.has('s390_dma_iommu')) machine.iommu_dma_forcedac = true;
    const unit = new S390Iommu(machine, name, s390_iommu, opts);
    unit.origin = settle_window(machine, unit);
    return unit;
  },
  ops: (m: Machine, iommu: IommuDevice) =>
    (iommu as S390Iommu).cfg.rtr && m.profile.has('s390_identity')
      ? rtr_ops
      : m.profile.has('s390_blocking_domain')
        ? blocking_ops
        : m.profile.has('s390_dma_iommu')
          ? dma_iommu_ops
          : legacy_ops,
  own_dma_api: (m: Machine) =>
    m.profile.has('s390_dma_iommu')
      ? null
      : "until v6.7 s390 PCI devices use the architecture's own DMA ops (arch/s390/pci/pci_dma.c, with " +
        'tables of their own), which the lab does not model: s390-iommu serves only domains a caller attaches',
  global_pgsize_bitmap: () => SZ_4K,
  default_domain_ops: paging_ops,
};
