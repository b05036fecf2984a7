/**
 * struct viommu_domain and struct viommu_endpoint: the guest driver's per-domain and per-device
 * state (facts §5.1 "Linux guest driver"). The domain's interval tree is the guest's copy of its
 * mappings; the host keeps its own, and the two are compared for the Domains panel.
 */
import { IOMMU_MMIO, IOMMU_READ, IOMMU_WRITE } from '../../core/constants.ts';
import { IommuDomain, type DomainOps, type MappingRange } from '../../core/domain.ts';
import type { IommuDriver } from '../../core/driver.ts';
import type { Machine } from '../../core/machine.ts';
import type { ResvRegion } from '../../core/resv.ts';
import { VIRTIO_IOMMU_MAP_F_MMIO, VIRTIO_IOMMU_MAP_F_READ, VIRTIO_IOMMU_MAP_F_WRITE } from './constants.ts';
import { IntervalList } from './interval-list.ts';
import type { VirtioIommu } from './viommu.ts';

/** IOMMU_READ/WRITE/MMIO → VIRTIO_IOMMU_MAP_F_* (viommu_map_pages). */
export function prot_to_map_flags(prot: number): number {
  return (
    (prot & IOMMU_READ ? VIRTIO_IOMMU_MAP_F_READ : 0) |
    (prot & IOMMU_WRITE ? VIRTIO_IOMMU_MAP_F_WRITE : 0) |
    (prot & IOMMU_MMIO ? VIRTIO_IOMMU_MAP_F_MMIO : 0)
  );
}

export function map_flags_to_prot(flags: number): number {
  return (
    (flags & VIRTIO_IOMMU_MAP_F_READ ? IOMMU_READ : 0) |
    (flags & VIRTIO_IOMMU_MAP_F_WRITE ? IOMMU_WRITE : 0) |
    (flags & VIRTIO_IOMMU_MAP_F_MMIO ? IOMMU_MMIO : 0)
  );
}

/** struct viommu_endpoint (dev_iommu_priv). */
export class ViommuEndpoint {
  /** The domain the device is attached to, as the driver believes. */
  vdomain: ViommuDomain | null = null;
  /** The regions PROBE reported, sorted by start (viommu_add_resv_mem). */
  readonly resv_regions: ResvRegion[] = [];
  constructor(
    /** The fwspec ID: the endpoint ID in every request. */
    readonly id: number,
  ) {}
}

export class ViommuDomain extends IommuDomain {
  /** vdomain->id: the domain ID the host knows (not the lab's domain id). */
  vid = 0;
  /** Flags map_pages accepts: 0 until finalised, so a map before the first attach fails (legacy). */
  map_flags = 0;
  /** The guest's interval tree: one node per map_pages call. */
  readonly tree = new IntervalList();
  nr_endpoints = 0;
  /** Legacy identity domain on a device with BYPASS_CONFIG: attached with ATTACH_F_BYPASS. */
  bypass = false;

  constructor(
    machine: Machine,
    id: number,
    type: number,
    owner: IommuDriver,
    ops: DomainOps,
    viommu: VirtioIommu | null,
  ) {
    super(machine, id, type, owner, ops, viommu);
  }

  /** vdomain->viommu: null until finalised (legacy), and for the static identity domain. */
  get viommu(): VirtioIommu | null {
    return this.iommu as VirtioIommu | null;
  }

  override mappings(): MappingRange[] {
    const t = this.tree;
    const out: MappingRange[] = [];
    for (let i = 0; i < t.length; i++) {
      const size = t.size_of(i);
      out.push({ iova: t.start[i], pa: t.phys[i], size, prot: map_flags_to_prot(t.flags[i]), pgsize: size });
    }
    return out;
  }

  /** A finalised domain's map_flags are the device's: a flag outside them (MMIO without the feature) is refused attached or not. */
  override refuses_prot(prot: number): boolean {
    return this.viommu !== null && (prot_to_map_flags(prot) & ~this.map_flags) !== 0;
  }

  override describe(): Record<string, string | number | boolean> {
    const viommu = this.viommu;
    const out: Record<string, string | number | boolean> = {
      finalised: viommu !== null,
      tree_nodes: this.tree.length,
      nr_endpoints: this.nr_endpoints,
    };
    if (!viommu) return out;
    out.viommu = viommu.name;
    out.virtio_domain = this.vid;
    if (this.bypass) out.bypass = true;
    const host = viommu.host.domains.get(this.vid);
    out.host_mappings = host ? host.mappings.length : 0;
    // While endpoints are attached the host should hold exactly the tree; a lost MAP or UNMAP status shows here.
    if (this.nr_endpoints > 0 && host) out.in_sync_with_host = same_nodes(this.tree, host.mappings);
    return out;
  }
}

function same_nodes(a: IntervalList, b: IntervalList): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (
      a.start[i] !== b.start[i] ||
      a.last[i] !== b.last[i] ||
      a.phys[i] !== b.phys[i] ||
      a.flags[i] !== b.flags[i]
    )
      return false;
  return true;
}
