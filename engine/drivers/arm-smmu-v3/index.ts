/**
 * arm-smmu-v3 with io-pgtable-arm stage-1 tables (facts §5.4).
 *
 * Two lifecycles: before v6.9 `domain_alloc(type)` returns a domain with no table; the first attach
 * finalises it on that SMMU (ASID, table, geometry), so a map before it fails with -ENODEV and an
 * attach to another SMMU with -EINVAL. From v6.9 `domain_alloc_paging(dev)` does that work at
 * allocation, and identity/blocked are static domains.
 */
import { next_domain_id, register_domain, static_domain, unregister_domain } from '../../core/alloc.ts';
import { raise_check } from '../../core/checks.ts';
import {
  IOMMU_DOMAIN_BLOCKED,
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_DMA_FQ,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_RESV_SW_MSI,
  IOMMU_WRITE,
  MSI_IOVA_BASE,
  MSI_IOVA_LENGTH,
} from '../../core/constants.ts';
import type { Device } from '../../core/device.ts';
import { IommuDomain, type DomainOps } from '../../core/domain.ts';
import type { IommuDriver, IommuOps } from '../../core/driver.ts';
import { EBUSY, EINVAL, ENODEV, ENOMEM } from '../../core/errno.ts';
import type { IommuIotlbGather } from '../../core/gather.ts';
import type { Machine } from '../../core/machine.ts';
import type { OptionTable } from '../../core/options.ts';
import { bitmap_union } from '../../core/pgsize.ts';
import { iommu_alloc_resv_region, type ResvRegion } from '../../core/resv.ts';
import { IoPgtable } from '../../pgtable/io-pgtable.ts';
import { ArmSmmuDomain } from './domain.ts';
import { SMMU_S1 } from './s1-walk.ts';
import {
  ArmSmmuV3,
  CMDQ_OP_TLBI_NH_ASID,
  CMDQ_OP_TLBI_NH_VA,
  cd_table_per_master,
  entry_writer,
  type ArmSmmuV3Options,
} from './smmu.ts';
import { ev } from './trace-events.ts';

const DRIVER = 'arm-smmu-v3';

const options: OptionTable<ArmSmmuV3Options> = {
  // io-pgtable-arm takes 52 bits only with the 64K granule and caps the rest at 48
  // (arm_lpae_restrict_pgsizes), so with a 4K or 16K granule 52 gives a 48-bit aperture.
  ias: {
    kind: 'int',
    default: 48,
    values: [48, 52],
    doc: 'stage-1 input size in bits (52 needs VAX, and io-pgtable-arm uses it only with the 64K granule: 48 with 4K or 16K)',
  },
  // SMMU_IDR5.OAS. A 52-bit PA (io-pgtable-arm: only with the 64K granule, PA[51:48] in descriptor
  // bits 15:12, and a 4T block size) is not modelled, so 52 is refused here rather than at the first table.
  oas: {
    kind: 'int',
    default: 48,
    values: [32, 36, 40, 42, 44, 48],
    doc: 'output address size in bits (52-bit PA is not modelled)',
  },
  granule: { kind: 'int', default: 4096, values: [4096, 16384, 65536], doc: 'translation granule' },
  tlb_entries: { kind: 'int', default: 32, min: 1, max: 65536, doc: 'IOTLB entries' },
  asid_bits: { kind: 'int', default: 16, values: [8, 16], doc: 'ASID size (IDR0.ASID16)' },
};

function smmuOf(dev: Device): ArmSmmuV3 {
  return dev.iommu as ArmSmmuV3;
}

/**
 * Give a domain its table, ASID and geometry on `smmu` (arm_smmu_domain_finalise): the table
 * first, then the ASID (arm_smmu_domain_finalise_s1), whose failure frees the table again.
 */
function arm_smmu_domain_finalise(domain: ArmSmmuDomain, smmu: ArmSmmuV3): number {
  const m = domain.machine;
  const pgtbl = IoPgtable.try_alloc(
    m.mem,
    m.trace,
    SMMU_S1,
    {
      id: domain.id,
      ias: smmu.cfg.ias,
      oas: smmu.cfg.oas,
      granule: smmu.cfg.granule,
      pgsize_bitmap: smmu.pgsize_bitmap,
      split_blocks_on_partial_unmap: m.profile.has('arm_lpae_split_blocks'),
      gather_tables_on_unmap: m.profile.has('arm_lpae_gather_tables'),
      prot_none_is_einval: m.profile.has('arm_lpae_prot_none_einval'),
    },
    domain,
  );
  if (!pgtbl) return -ENOMEM;
  // xa_alloc(&arm_smmu_asid_xa, ..., XA_LIMIT(1, (1 << asid_bits) - 1)): -EBUSY when none is free.
  const asid = smmu.alloc_asid();
  if (!asid) {
    pgtbl.free();
    return -EBUSY;
  }
  domain.asid = asid;
  domain.pgtbl = pgtbl;
  domain.iommu = smmu;
  domain.pgsize_bitmap = pgtbl.cfg.pgsize_bitmap;
  // From the table's input size, which io-pgtable may have capped below the option's.
  const ias = pgtbl.cfg.ias;
  domain.geometry = { aperture_start: 0, aperture_end: 2 ** ias - 1, force_aperture: true };
  // v6.6 writes the domain's CD here; from v6.7 each master's CD is written at attach.
  if (!cd_table_per_master(m)) smmu.write_domain_cd(domain);
  m.trace.emit(ev.finalise, m.trace.str(smmu.name), domain.id, asid, ias);
  return 0;
}

// ── domain ops ──

const paging_ops: DomainOps = Object.freeze({
  /**
   * arm_smmu_attach_dev. Before v6.9 it first detaches the device (arm_smmu_detach_dev: an abort
   * STE), even when the attach then fails; from v6.9 nothing is written before the checks pass.
   */
  attach_dev(d: IommuDomain, dev: Device): number {
    const domain = d as ArmSmmuDomain;
    const smmu = smmuOf(dev);
    const legacy = !entry_writer(domain.machine);
    if (legacy) smmu.detach_dev(dev);
    if (!domain.pgtbl) {
      const ret = arm_smmu_domain_finalise(domain, smmu);
      if (ret) return ret;
      raise_check(
        domain.machine,
        'attach-time-finalise',
        `arm-smmu-v3 finalised domain ${domain.id} at its first attach (${dev.name} on ${smmu.name}): its table, ASID and geometry did not exist before`,
      );
    } else if (domain.iommu !== smmu) {
      return -EINVAL; // a domain belongs to one SMMU
    }
    if (legacy) smmu.attach_legacy(dev, domain);
    else smmu.attach_s1(dev, domain);
    return 0;
  },
  map_pages(d: IommuDomain, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number) {
    const domain = d as ArmSmmuDomain;
    if (!domain.pgtbl) return { ret: -ENODEV, mapped: 0 };
    return domain.pgtbl.map_pages(iova, paddr, pgsize, pgcount, prot);
  },
  unmap_pages(
    d: IommuDomain,
    iova: number,
    pgsize: number,
    pgcount: number,
    gather: IommuIotlbGather,
  ): number {
    const domain = d as ArmSmmuDomain;
    return domain.pgtbl ? domain.pgtbl.unmap_pages(iova, pgsize, pgcount, gather) : 0;
  },
  iotlb_sync(d: IommuDomain, gather: IommuIotlbGather): void {
    const domain = d as ArmSmmuDomain;
    const smmu = domain.smmu;
    if (!smmu || !gather.pgsize) return;
    // One TLBI_NH_VA per granule of the gathered range (no range invalidation modelled), then CMD_SYNC.
    const count = (gather.end - gather.start + 1) / gather.pgsize;
    smmu.cmdq_issue(CMDQ_OP_TLBI_NH_VA, domain.asid, gather.start, count, gather.pgsize);
    smmu.cmd_sync();
  },
  flush_iotlb_all(d: IommuDomain): void {
    const domain = d as ArmSmmuDomain;
    const smmu = domain.smmu;
    if (!smmu) return;
    smmu.cmdq_issue(CMDQ_OP_TLBI_NH_ASID, domain.asid);
    smmu.cmd_sync();
  },
  iova_to_phys(d: IommuDomain, iova: number): number {
    const domain = d as ArmSmmuDomain;
    return domain.pgtbl ? domain.pgtbl.iova_to_phys(iova) : 0;
  },
  free(d: IommuDomain): void {
    const domain = d as ArmSmmuDomain;
    const smmu = domain.smmu;
    if (!smmu || !domain.pgtbl) return;
    // Invalidate the ASID before it can be reused, then free the table.
    smmu.cmdq_issue(CMDQ_OP_TLBI_NH_ASID, domain.asid);
    smmu.cmd_sync();
    domain.pgtbl.free();
    domain.pgtbl = null;
    domain.cd = null; // v6.6: arm_smmu_free_cd_tables, no command
    smmu.free_asid(domain.asid);
  },
});

/**
 * Identity and blocked. Before v6.9 only identity exists, an arm_smmu_domain of stage BYPASS, one
 * per allocation, that arm_smmu_attach_dev handles: detach, bind the domain to this SMMU at its
 * first attach (-EINVAL on another), then a bypass STE. From v6.9 the static domains'
 * arm_smmu_attach_dev_identity/_blocked write the STE and clear the CD.
 */
function static_ops(kind: 'bypass' | 'abort'): DomainOps {
  return Object.freeze({
    attach_dev(d: IommuDomain, dev: Device): number {
      const smmu = smmuOf(dev);
      if (entry_writer(d.machine)) {
        smmu.attach_ste(dev, kind);
        return 0;
      }
      smmu.detach_dev(dev);
      if (!d.iommu) d.iommu = smmu;
      else if (d.iommu !== smmu) return -EINVAL;
      smmu.attach_legacy(dev, d, kind);
      return 0;
    },
  });
}
const identity_ops = static_ops('bypass');
const blocked_ops = static_ops('abort');

/** An identity or blocked domain of this driver (no table, no ASID). */
function new_bypass_or_abort_domain(machine: Machine, type: number): IommuDomain {
  const ops = type === IOMMU_DOMAIN_IDENTITY ? identity_ops : blocked_ops;
  return new IommuDomain(machine, next_domain_id(machine), type, arm_smmu_v3, ops, null);
}

function smmu_static_domain(machine: Machine, type: number): IommuDomain {
  const key = type === IOMMU_DOMAIN_IDENTITY ? 'identity_domain' : 'blocked_domain';
  return static_domain(machine, arm_smmu_v3, key, () => new_bypass_or_abort_domain(machine, type));
}

/** Before v6.9 arm_smmu_domain_alloc(IOMMU_DOMAIN_IDENTITY) kzalloc()s a domain for each caller. */
function legacy_identity_domain(machine: Machine): IommuDomain {
  const d = new_bypass_or_abort_domain(machine, IOMMU_DOMAIN_IDENTITY);
  register_domain(machine, d);
  return d;
}

function new_paging_domain(machine: Machine, type: number): ArmSmmuDomain {
  const d = new ArmSmmuDomain(machine, next_domain_id(machine), type, arm_smmu_v3, paging_ops, null);
  register_domain(machine, d);
  return d;
}

function get_resv_regions(dev: Device): ResvRegion[] {
  // The software MSI window first, then what firmware describes (iommu_dma_get_resv_regions).
  return [
    iommu_alloc_resv_region(
      MSI_IOVA_BASE,
      MSI_IOVA_LENGTH,
      IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO,
      IOMMU_RESV_SW_MSI,
    ),
    ...dev.fw_resv,
  ];
}

const common_ops = {
  probe_device: (): number => 0,
  get_resv_regions,
  deferred_flush: (): boolean => true,
};

/** v6.9+: domains are complete at allocation; identity and blocked are static. */
const modern_ops: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc_paging(dev: Device) {
    const domain = new_paging_domain(dev.machine, IOMMU_DOMAIN_UNMANAGED);
    const ret = arm_smmu_domain_finalise(domain, smmuOf(dev));
    if (ret) unregister_domain(domain);
    return ret || domain;
  },
  identity_domain: (m: Machine) => smmu_static_domain(m, IOMMU_DOMAIN_IDENTITY),
  blocked_domain: (m: Machine) => smmu_static_domain(m, IOMMU_DOMAIN_BLOCKED),
});

/** Before v6.9: domain_alloc(type) with no device; finalise at the first attach. */
const legacy_ops: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc(m: Machine, type: number): IommuDomain | null {
    if (type === IOMMU_DOMAIN_IDENTITY) return legacy_identity_domain(m);
    // arm_smmu_domain_alloc: a type other than UNMANAGED, DMA (DMA_FQ) or IDENTITY is NULL (SVA
    // domains are not modelled), BLOCKED included.
    if (type !== IOMMU_DOMAIN_UNMANAGED && type !== IOMMU_DOMAIN_DMA && type !== IOMMU_DOMAIN_DMA_FQ)
      return null;
    return new_paging_domain(m, type);
  },
});

export const arm_smmu_v3: IommuDriver<ArmSmmuV3Options> = {
  name: DRIVER,
  options,
  arch: 'arm64',
  create(machine: Machine, name: string, opts: ArmSmmuV3Options) {
    const smmu = new ArmSmmuV3(machine, name, arm_smmu_v3, opts);
    // arm_smmu_ops.pgsize_bitmap accumulates every probed SMMU's sizes (a global before v6.9).
    const g = machine.globals(DRIVER);
    g.pgsize_bitmap = bitmap_union((g.pgsize_bitmap as number | undefined) ?? 0, smmu.pgsize_bitmap);
    return smmu;
  },
  ops: (m: Machine) => (m.profile.has('arm_smmu_v3_paging') ? modern_ops : legacy_ops),
  global_pgsize_bitmap: (m: Machine) => (m.globals(DRIVER).pgsize_bitmap as number | undefined) ?? 0,
  default_domain_ops: paging_ops,
};
