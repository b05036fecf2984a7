/**
 * omap-iommu (drivers/iommu/omap-iommu.c; facts §5.2): the OMAP and DRA7 remote-processor MMUs,
 * with the two-level short-descriptor tables of engine/pgtable's `omap` format.
 *
 * The page table belongs to the MMU, not to the domain. A domain is a shell until attached: attach
 * allocates one empty L1 table per MMU the client uses and points each MMU at it; map and unmap
 * loop over those MMUs (num_iommus of them), so with nothing attached map returns -EINVAL; detach
 * clears and frees the tables, so every mapping is lost. A domain takes one client device; a
 * second attach is -EINVAL. Every store and clear flushes the one TLB entry covering the address
 * (flush_iotlb_page, MMU_FLUSH_ENTRY); attach and detach flush everything (MMU_GFLUSH). There is no
 * iotlb_sync or iotlb_sync_map.
 *
 * Eras (read in the driver at v6.6 and after v6.7):
 *  - v6.6: domain_alloc(type) gives UNMANAGED domains only; no default domain, so a device starts
 *    unattached, untranslated, and leaves a domain through set_platform_dma_ops. Ops .map/.unmap
 *    map one page per call (modelled as map_pages that maps one page).
 *  - v6.7+: domain_alloc_paging(dev) (the device is not used) and a static IDENTITY domain whose
 *    attach detaches the paging domain: the default domain, as the core picks IDENTITY on 32-bit Arm.
 *    map_pages/unmap_pages still handle one page per call.
 *  - all: a second client is -EINVAL (-EBUSY only before v6.2's "iommu: Use EINVAL for incompatible
 *    device/domain in ->attach_dev"); ops->pgsize_bitmap stays the page-size source through v6.16.
 */
import { next_domain_id, register_domain, static_domain } from '../../core/alloc.ts';
import { raise_check } from '../../core/checks.ts';
import { IOMMU_DOMAIN_IDENTITY, IOMMU_DOMAIN_UNMANAGED } from '../../core/constants.ts';
import type { Device } from '../../core/device.ts';
import { IommuDomain, type DomainOps, type MappingRange } from '../../core/domain.ts';
import type { IommuDriver, IommuOps } from '../../core/driver.ts';
import { EINVAL, ENODEV, ENOMEM } from '../../core/errno.ts';
import { hex } from '../../core/format.ts';
import type { IommuIotlbGather } from '../../core/gather.ts';
import type { Machine } from '../../core/machine.ts';
import type { IommuDevice } from '../../core/iommu-device.ts';
import type { OptionTable } from '../../core/options.ts';
import type { ResvRegion } from '../../core/resv.ts';
import { pgtable_format } from '../../pgtable/formats/index.ts';
import { IoPgtable } from '../../pgtable/io-pgtable.ts';
import { OmapIommuDomain, OmapIommuSlot } from './domain.ts';
import { OmapIommu, OmapTableOwner, type OmapIommuOptions, type OmapMmu } from './omap.ts';

const DRIVER = 'omap-iommu';

/** OMAP_IOMMU_PGSIZES (omap-iommu.c): SZ_4K | SZ_64K | SZ_1M | SZ_16M. */
export const OMAP_IOMMU_PGSIZES = 0x1000 + 0x10000 + 0x100000 + 0x1000000;

const options: OptionTable<OmapIommuOptions> = {
  // omap_iommu_probe: nr_tlb_entries is 32 unless DT "ti,#tlb-entries" says 8 (nothing else is accepted).
  tlb_entries: { kind: 'int', default: 32, values: [8, 32], doc: 'TLB entries per MMU (DT ti,#tlb-entries)' },
  mmus: {
    kind: 'int',
    default: 1,
    values: [1, 2],
    doc: "MMUs the client's iommus property lists, programmed as mirrors (2: a DRA7 DSP's MMU0 and MMU1)",
  },
};

/**
 * The kernel would oops here (a NULL pointer dereference): the lab raises kernel-oops and the caller
 * returns what it would have had nothing been there, so the scenario goes on (as for virtio).
 */
function oops(m: Machine, fn: string, why: string): void {
  raise_check(m, 'kernel-oops', `${fn} dereferences a NULL pointer: ${why}`);
}

function instanceOf(dev: Device): OmapIommu {
  return dev.iommu as OmapIommu;
}

function describeLost(lost: readonly MappingRange[]): string {
  const shown = lost.slice(0, 4).map((r) => `[${hex(r.iova)}, +${hex(r.size)}) → ${hex(r.pa)}`);
  return shown.join(', ') + (lost.length > shown.length ? `, and ${lost.length - shown.length} more` : '');
}

/**
 * _omap_iommu_detach_dev: clear each MMU's table, switch the MMU off, then free the domain's own
 * L1 tables, last MMU first. A domain attached to another device, or to none, is left alone.
 */
function omap_iommu_detach_dev(domain: OmapIommuDomain, dev: Device): void {
  if (!domain.dev || domain.dev !== dev) return; // dev_err: "domain has no attached device" / "invalid attached device"
  const lost: MappingRange[] = [];
  for (let i = domain.iommus.length - 1; i >= 0; i--) {
    const slot = domain.iommus[i];
    const mmu = slot.iommu_dev;
    if (!mmu) continue;
    const gone = mmu.clear_entry_all(domain.id);
    if (i === 0) lost.push(...gone);
    mmu.detach();
    mmu.domain = null;
    slot.iommu_dev = null;
  }
  omap_iommu_detach_fini(domain);
  domain.dev = null;
  domain.iommu = null;
  if (lost.length)
    raise_check(
      domain.machine,
      'mappings-lost-on-detach',
      `omap-iommu: detaching ${dev.name} cleared and freed the MMU tables of domain ${domain.id}: ${lost.length} mapping${lost.length === 1 ? '' : 's'} lost (${describeLost(lost)}); the domain is empty again and maps fail until the next attach`,
    );
}

/** omap_iommu_detach_fini: free the domain's L1 tables (kfree) and forget the MMUs. */
function omap_iommu_detach_fini(domain: OmapIommuDomain): void {
  // The L2 tables hang off whichever table the MMU walked and were freed with it; a table the
  // domain allocated but that another attach replaced is freed whole here.
  for (const slot of domain.iommus) if (slot.pgtable.root) slot.pgtable.free();
  domain.iommus = [];
}

/** omap_iommu_attach_init: one zeroed L1 table per MMU the client uses. */
function omap_iommu_attach_init(dev: Device, domain: OmapIommuDomain): number {
  const inst = instanceOf(dev);
  if (!inst.mmus.length) return -ENODEV;
  const m = domain.machine;
  for (const mmu of inst.mmus) {
    const owner = new OmapTableOwner(mmu);
    const pt = IoPgtable.try_alloc(
      m.mem,
      m.trace,
      pgtable_format('omap'),
      { id: domain.id, ias: 32, oas: 32 },
      owner,
    );
    if (!pt) return -ENOMEM;
    owner.pt = pt;
    domain.iommus.push(new OmapIommuSlot(null, pt));
  }
  return 0;
}

function omap_iommu_attach_dev(d: IommuDomain, dev: Device): number {
  const domain = d as OmapIommuDomain;
  // Only a single client device can be attached to a domain.
  if (domain.dev) return -EINVAL;
  let ret = omap_iommu_attach_init(dev, domain);
  if (ret) {
    omap_iommu_detach_fini(domain);
    return ret;
  }
  const mmus = instanceOf(dev).mmus;
  domain.iommus.forEach((slot, i) => {
    const mmu: OmapMmu = mmus[i];
    // omap_iommu_attach re-points MMU_TTB whatever the MMU was doing: a domain already attached
    // through this MMU keeps thinking so, and its maps now land in this domain's table.
    mmu.attach(slot.pgtable, domain);
    mmu.domain = domain;
    slot.iommu_dev = mmu;
  });
  domain.dev = dev;
  domain.iommu = instanceOf(dev);
  ret = 0;
  return ret;
}

const paging_ops: DomainOps = Object.freeze({
  attach_dev: omap_iommu_attach_dev,

  /** omap_iommu_map: one page, stored through every attached MMU; undone on the others if one fails. */
  map_pages(d: IommuDomain, iova: number, paddr: number, pgsize: number, _pgcount: number, prot: number) {
    const domain = d as OmapIommuDomain;
    // bytes_to_iopgsz: only the four MMU page sizes exist.
    if (![0x1000, 0x10000, 0x100000, 0x1000000].includes(pgsize)) return { ret: -EINVAL, mapped: 0 };
    // ret starts as -EINVAL and the loop runs num_iommus times: with nothing attached, that is the answer.
    let ret = -EINVAL;
    let i = 0;
    for (; i < domain.iommus.length; i++) {
      const mmu = domain.iommus[i].iommu_dev;
      if (!mmu?.iopgd) {
        const why = `${mmu?.name ?? 'an MMU'} has no table: another domain's detach took it`;
        oops(d.machine, 'omap_iopgtable_store_entry', why);
        return { ret: -EINVAL, mapped: 0 };
      }
      mmu.flush_iotlb_page(iova);
      ret = mmu.iopgd.map_pages(iova, paddr, pgsize, 1, prot).ret;
      if (ret) break;
    }
    if (ret) {
      while (i--) clear_entry(domain.iommus[i].iommu_dev!, iova, pgsize);
      return { ret, mapped: 0 };
    }
    return { ret: 0, mapped: pgsize };
  },

  /** omap_iommu_unmap: clear the leaf at iova through every MMU; 0 if any MMU had nothing there. */
  unmap_pages(
    d: IommuDomain,
    iova: number,
    pgsize: number,
    _pgcount: number,
    _gather: IommuIotlbGather,
  ): number {
    const domain = d as OmapIommuDomain;
    let bytes = 0;
    let error = false;
    for (const slot of domain.iommus) {
      const mmu = slot.iommu_dev;
      if (!mmu?.iopgd) {
        const why = `${mmu?.name ?? 'an MMU'} has no table: another domain's detach took it`;
        oops(d.machine, 'iopgtable_clear_entry', why);
        return 0;
      }
      bytes = clear_entry(mmu, iova, pgsize);
      if (!bytes) error = true;
    }
    return error ? 0 : bytes;
  },

  iova_to_phys(d: IommuDomain, iova: number): number {
    const domain = d as OmapIommuDomain;
    // The lookup uses the first MMU only, through omap_domain->iommus, which is NULL until attach.
    const mmu = domain.iommus[0]?.iommu_dev;
    if (!mmu?.iopgd) {
      const why = mmu
        ? `${mmu.name} has no table: another domain's detach took it`
        : `domain ${domain.id} is not attached: omap_domain->iommus is NULL`;
      oops(d.machine, 'omap_iommu_iova_to_phys', why);
      return 0;
    }
    return mmu.iopgd.iova_to_phys(iova);
  },

  /** omap_iommu_domain_free: a domain still attached is detached first. */
  free(d: IommuDomain): void {
    const domain = d as OmapIommuDomain;
    if (domain.dev) omap_iommu_detach_dev(domain, domain.dev);
  },
});

/** iopgtable_clear_entry: clear the leaf covering iova in the MMU's table, then flush its TLB entry. */
function clear_entry(mmu: OmapMmu, iova: number, pgsize: number): number {
  const bytes = mmu.iopgd!.unmap_pages(iova, pgsize, 1, null);
  mmu.flush_iotlb_page(iova);
  return bytes;
}

/** omap_iommu_identity_attach (v6.7+): leaving the paging domain is detaching it. */
const identity_ops: DomainOps = Object.freeze({
  attach_dev(identity: IommuDomain, dev: Device): number {
    const cur = dev.group?.domain ?? null;
    if (!cur || cur === identity || !(cur instanceof OmapIommuDomain)) return 0;
    omap_iommu_detach_dev(cur, dev);
    return 0;
  },
});

function identity_domain(machine: Machine): IommuDomain {
  return static_domain(
    machine,
    omap_iommu,
    'identity_domain',
    () =>
      new IommuDomain(
        machine,
        next_domain_id(machine),
        IOMMU_DOMAIN_IDENTITY,
        omap_iommu,
        identity_ops,
        null,
      ),
  );
}

function new_domain(machine: Machine): OmapIommuDomain {
  const d = new OmapIommuDomain(
    machine,
    next_domain_id(machine),
    IOMMU_DOMAIN_UNMANAGED,
    omap_iommu,
    paging_ops,
  );
  // The domain's own geometry (omap_iommu_domain_alloc*): the MMU's 32-bit input space.
  d.geometry = { aperture_start: 0, aperture_end: 0xffff_ffff, force_aperture: true };
  register_domain(machine, d);
  return d;
}

const common_ops = {
  probe_device: (): number => 0,
  // omap has no get_resv_regions op: the core reports no regions for its devices, firmware ones included.
  get_resv_regions: (): ResvRegion[] => [],
};

/** v6.6: bus-style allocation of UNMANAGED domains, no default domain, set_platform_dma_ops. */
const legacy_ops: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc(m: Machine, type: number): IommuDomain | null {
    return type === IOMMU_DOMAIN_UNMANAGED ? new_domain(m) : null;
  },
  /** omap_iommu_set_platform_dma: detach from the domain the device is on. */
  set_platform_dma_ops(dev: Device): void {
    const cur = dev.group?.domain;
    if (cur instanceof OmapIommuDomain) omap_iommu_detach_dev(cur, dev);
  },
});

/** v6.7+: domain_alloc_paging and the static identity domain. */
const modern_ops: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc_paging: (dev: Device) => new_domain(dev.machine),
  identity_domain,
});

// Frozen, so time-travel checkpoints share it: domains made after a restore must name the same owner
// as the instances restored with it (the v6.8+ owner check compares them).
export const omap_iommu: IommuDriver<OmapIommuOptions> = Object.freeze({
  name: DRIVER,
  options,
  arch: 'arm',
  ignores_fw_resv: 'has no get_resv_regions',
  // omap_iommu_device_group: every client of an MMU is in the group omap_iommu_probe made for it.
  device_group: (iommu: IommuDevice) => `omap-iommu:${iommu.name}`,
  create: (machine: Machine, name: string, opts: OmapIommuOptions) =>
    new OmapIommu(machine, name, omap_iommu, opts),
  // The identity domain and domain_alloc_paging came together in v6.7 (the default-domain series).
  ops: (m: Machine) => (m.profile.has('domain_alloc_paging') ? modern_ops : legacy_ops),
  global_pgsize_bitmap: () => OMAP_IOMMU_PGSIZES,
  default_domain_ops: paging_ops,
});
