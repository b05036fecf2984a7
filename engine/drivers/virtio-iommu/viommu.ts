/**
 * One virtio-iommu instance: the guest driver's struct viommu_dev (configuration read at probe, the
 * domain ID allocator, the request queue) and, behind the queue, QEMU's device (host.ts).
 *
 * The request machinery is the driver's (facts §5.1): add_req puts a request on the queue without
 * a kick, syncing first when the queue is full; sync_req kicks, waits until the host has processed
 * everything and reads no status; send_req_sync is add_req + sync_req for one request whose status
 * it returns as an errno. The host processes requests only when kicked, so DMA never sees a queued
 * request.
 */
import type { Device } from '../../core/device.ts';
import { ENOSPC } from '../../core/errno.ts';
import type { IommuDriver } from '../../core/driver.ts';
import { IommuDevice, DMA_ABORT, DMA_BYPASS, type WalkOut } from '../../core/iommu-device.ts';
import type { Machine } from '../../core/machine.ts';
import type { IommuDomainGeometry } from '../../core/domain.ts';
import {
  FAULT_DOMAIN,
  FAULT_MAPPING,
  FAULT_UNKNOWN,
  LINUX_FEATURES,
  REQUEST_NAMES,
  STATUS_NAMES,
  VIOMMU_PROBE_SIZE,
  VIOMMU_QUEUE_SIZE,
  VIRTIO_IOMMU_RESV_MEM_T_MSI,
  VIRTIO_IOMMU_S_OK,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_UNMAP,
  domain_tag,
  endpoint_tag,
  viommu_get_req_errno,
  type FeatureName,
} from './constants.ts';
import { ViommuDomain, type ViommuEndpoint } from './domain.ts';
import { map_flags_to_prot } from './domain.ts';
import { VirtioIommuHost, type VirtioIommuReq } from './host.ts';
import { ev } from './trace-events.ts';

/** The largest ID an IDA hands out. */
const INT_MAX = 0x7fff_ffff;

export interface VirtioIommuOptions {
  page_size_mask: number;
  input_range: [number, number];
  domain_range: [number, number];
  bypass: boolean;
  features: string[];
  /** The machine's reserved region for every endpoint: q35's MSI window (reserved-regions.ts). */
  machine_msi: boolean;
  spec_checks: boolean;
  tlb_entries: number;
}

export class VirtioIommu extends IommuDevice {
  /** The spec has no permission fault: QEMU reports VIRTIO_IOMMU_FAULT_R_MAPPING with the access's flags. */
  override permission_fault = 'mapping';
  readonly host: VirtioIommuHost;
  /** Features offered by the device and accepted by Linux. */
  readonly features: readonly FeatureName[];
  /** viommu_probe's result: 0, or the errno that kept the instance from registering with the core. */
  probe_ret = 0;

  // ── struct viommu_dev ──
  pgsize_bitmap = 0;
  geometry: IommuDomainGeometry = { aperture_start: 0, aperture_end: 0, force_aperture: false };
  first_domain = 0;
  last_domain = 0;
  /** v6.16 with BYPASS_CONFIG: the ID reserved for the static identity domain. */
  identity_domain_id = 0;
  map_flags = 0;
  probe_size = 0;
  /** ida domain_ids: IDs in use. */
  readonly domain_ids = new Set<number>();
  /** Requests added and not yet kicked (viommu->requests, the request virtqueue). */
  readonly queue: VirtioIommuReq[] = [];
  /** Endpoint IDs handed out so far. */
  nr_endpoint_ids = 0;
  /** Queued requests that failed and whose status nobody read (facts §5.1 "sync_req"). */
  lost_statuses = 0;

  constructor(
    machine: Machine,
    name: string,
    driver: IommuDriver,
    readonly opts: VirtioIommuOptions,
  ) {
    super(machine, name, driver, opts.tlb_entries);
    this.features = LINUX_FEATURES.filter((f) => opts.features.includes(f));
    this.host = new VirtioIommuHost(
      machine,
      this.tlb,
      {
        page_size_mask: opts.page_size_mask,
        input_start: opts.input_range[0],
        input_end: opts.input_range[1],
        domain_start: opts.domain_range[0],
        domain_end: opts.domain_range[1],
        probe_size: VIOMMU_PROBE_SIZE,
        bypass: opts.bypass,
      },
      opts.spec_checks,
    );
    this.host.negotiated = this.features;
  }

  has_feature(f: FeatureName): boolean {
    return this.features.includes(f);
  }

  // ── the request queue ──

  /** __viommu_add_req: queue without kicking; a full queue is synced first. */
  add_req(req: VirtioIommuReq): number {
    if (this.queue.length >= VIOMMU_QUEUE_SIZE) this.sync_req();
    this.queue.push(req);
    const t = this.machine.trace;
    const start =
      req.type === VIRTIO_IOMMU_T_MAP || req.type === VIRTIO_IOMMU_T_UNMAP ? req.virt_start : req.endpoint;
    t.emit(
      ev.add_req,
      t.str(this.name),
      t.str(REQUEST_NAMES[req.type]),
      req.domain,
      start,
      req.virt_end,
      this.queue.length,
    );
    return 0;
  }

  /**
   * __viommu_sync_req: kick, then wait until every queued request is back. Always 0: statuses of
   * requests added without writeback are dropped. An empty queue is not notified (EVENT_IDX).
   */
  sync_req(): number {
    const n = this.queue.length;
    if (!n) return 0;
    const t = this.machine.trace;
    this.host.kicks++;
    t.emit(ev.kick, t.str(this.name), n);
    const reqs = this.queue.splice(0, n);
    for (const req of reqs) {
      const status = this.host.handle(req);
      if (status !== VIRTIO_IOMMU_S_OK && !req.writeback) {
        this.lost_statuses++;
        t.emit(
          ev.status_lost,
          t.str(this.name),
          t.str(REQUEST_NAMES[req.type]),
          req.domain,
          req.virt_start,
          req.virt_end,
          t.str(STATUS_NAMES[status]),
        );
      }
    }
    return 0;
  }

  /** viommu_send_req_sync: add, sync, and return this request's status as an errno. */
  send_req_sync(req: VirtioIommuReq): number {
    const ret = this.add_req(req);
    if (ret) return ret;
    this.sync_req();
    return viommu_get_req_errno(req.status);
  }

  /** ida_alloc_range(first_domain, last_domain): the lowest free ID, or -ENOSPC. */
  /**
   * ida_alloc_range(first_domain, last_domain): IDs are ints, so a range starting at 2^31 or above
   * gives nothing (-ENOSPC) and one ending there is cut at INT_MAX.
   */
  alloc_domain_id(): number {
    const first = this.first_domain;
    if (first > INT_MAX) return -ENOSPC;
    const last = Math.min(this.last_domain, INT_MAX);
    if (last < first || this.domain_ids.size > last - first) return -ENOSPC;
    let id = first;
    while (this.domain_ids.has(id)) id++;
    this.domain_ids.add(id);
    return id;
  }

  free_domain_id(id: number): void {
    this.domain_ids.delete(id);
  }

  // ── DMA: what QEMU's address-space switch and virtio_iommu_translate do ──

  private endpoint_of(dev: Device): number {
    return (dev.priv as ViommuEndpoint | null)?.id ?? -1;
  }

  /**
   * QEMU takes an endpoint out of translation entirely (its bypass address space) when it is
   * unknown or unattached with bypass allowed, or attached to a bypass domain: no reserved-region
   * check then. Unknown without bypass faults at once. An unattached endpoint without bypass still
   * goes through translate (its MSI regions work), under a tag of its own.
   */
  override dma_tag(dev: Device): number {
    const host = this.host;
    const ep = host.endpoints.get(this.endpoint_of(dev));
    if (!ep) return host.unattached_bypass() ? DMA_BYPASS : DMA_ABORT;
    if (!ep.domain) {
      if (host.unattached_bypass()) return DMA_BYPASS;
      ep.tag_used = true;
      return endpoint_tag(ep.id);
    }
    if (ep.domain.bypass) return DMA_BYPASS;
    return domain_tag(ep.domain.id);
  }

  override dma_abort_reason(): string {
    return FAULT_UNKNOWN;
  }

  /**
   * virtio_iommu_translate for a known endpoint: its reserved regions first (MSI: identity;
   * RESERVED: fault), then the domain (none: DOMAIN fault), then the domain's mappings (none: MAPPING
   * fault). The answer covers one granule page, clipped to the mapping or region it came from.
   */
  override dma_walk(dev: Device, iova: number, out: WalkOut): boolean {
    const host = this.host;
    const id = this.endpoint_of(dev);
    const ep = host.endpoints.get(id);
    out.fault = '';
    if (!ep) {
      out.fault = FAULT_UNKNOWN;
      return false;
    }
    const resv = host.resv_at(id, iova);
    if (resv) {
      if (resv.subtype !== VIRTIO_IOMMU_RESV_MEM_T_MSI) {
        out.fault = FAULT_MAPPING;
        return false;
      }
      // An MSI doorbell is let through untranslated, reads and writes alike.
      leaf(out, iova, resv.low, resv.high, resv.low, host.granule(), 3);
      return true;
    }
    const domain = ep.domain;
    if (!domain) {
      out.fault = FAULT_DOMAIN;
      return false;
    }
    const m = domain.mappings;
    // The lookup is for [iova, iova]. QEMU's key is [iova, iova + 1], which also finds a mapping
    // starting at the next byte (and answers phys − 1 for the last byte before it): a QEMU bug,
    // not modelled.
    const i = m.first_overlap_disjoint(iova, iova);
    if (i < 0) {
      out.fault = FAULT_MAPPING;
      return false;
    }
    leaf(out, iova, m.start[i], m.last[i], m.phys[i], host.granule(), map_flags_to_prot(m.flags[i]));
    // The host still maps what the guest has unmapped (its UNMAP not sent yet: iommu_unmap_fast
    // before the sync, a flush queue, or a quirk that dropped the guest's record): the device
    // uses a translation the guest no longer holds.
    out.stale = !this.guest_holds(domain.id, iova, out.pa + (iova - out.iova));
    return true;
  }

  /**
   * Whether the guest's domain `vid` maps `iova` to `pa`, by the guest's own lookup
   * (viommu_iova_to_phys: the lowest-start node, the first inserted among equal starts). Its tree
   * can hold overlapping nodes the host refused, so the host's disjoint lookup would not do.
   */
  private guest_holds(vid: number, iova: number, pa: number): boolean {
    for (const d of this.machine.domain_by_id.values()) {
      if (!(d instanceof ViommuDomain) || d.viommu !== this || d.vid !== vid || d.freed) continue;
      const t = d.tree;
      const i = t.first_overlap(iova, iova);
      return i >= 0 && t.phys[i] + (iova - t.start[i]) === pa;
    }
    return false;
  }
}

/**
 * Fill `out` with the largest naturally aligned block (at most one granule) that contains `iova`
 * and lies inside [low, high], translated linearly from `phys` at `low`.
 */
function leaf(
  out: WalkOut,
  iova: number,
  low: number,
  high: number,
  phys: number,
  granule: number,
  prot: number,
): void {
  let size = granule;
  let base = Math.floor(iova / size) * size;
  while (size > 1 && (base < low || base + size - 1 > high)) {
    size /= 2;
    base = Math.floor(iova / size) * size;
  }
  out.iova = base;
  out.pa = phys + (base - low);
  out.size = size;
  out.prot = prot & 3;
}
