/**
 * The virtio-iommu device as QEMU implements it (hw/virtio/virtio-iommu.c), facts §5.1 "QEMU host":
 * endpoints, domains with their interval maps, the five requests and their statuses, and the
 * translation a DMA access gets. Requests reach it only when the guest kicks the request queue.
 *
 * Where QEMU and the spec part ways, QEMU wins, and `spec_checks` adds back what the spec asks for:
 * QEMU's MAP checks flags, domain, bypass and overlap only — no alignment, no input_range, no
 * reserved-region check.
 */
import type { Iotlb } from '../../iotlb/iotlb.ts';
import type { Machine } from '../../core/machine.ts';
import {
  REQUEST_NAMES,
  RESV_MEM_PROP_SIZE,
  STATUS_NAMES,
  VIRTIO_IOMMU_ATTACH_F_BYPASS,
  VIRTIO_IOMMU_MAP_F_MASK,
  VIRTIO_IOMMU_S_INVAL,
  VIRTIO_IOMMU_S_NOENT,
  VIRTIO_IOMMU_S_OK,
  VIRTIO_IOMMU_S_RANGE,
  VIRTIO_IOMMU_S_UNSUPP,
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_PROBE,
  VIRTIO_IOMMU_T_UNMAP,
  domain_tag,
  endpoint_tag,
  type RequestName,
  type StatusName,
} from './constants.ts';
import { IntervalList } from './interval-list.ts';
import { ev } from './trace-events.ts';

/** One request as the driver builds it (head, body and the tail the device writes). */
export class VirtioIommuReq {
  /** VIRTIO_IOMMU_S_*, or -1 until the device has processed it. */
  status = -1;
  /** PROBE: the RESV_MEM properties the device wrote back. */
  properties: HostResvRegion[] = [];

  constructor(
    readonly type: number,
    readonly domain: number,
    readonly endpoint = 0,
    readonly flags = 0,
    readonly virt_start = 0,
    readonly virt_end = 0,
    readonly phys_start = 0,
    /** send_req_sync: the caller reads the status back (add_req callers never do). */
    readonly writeback = false,
  ) {}
}

/** A reserved region as the device describes it in a RESV_MEM property: [low, high] inclusive. */
export interface HostResvRegion {
  readonly low: number;
  readonly high: number;
  /** VIRTIO_IOMMU_RESV_MEM_T_RESERVED or _MSI. */
  readonly subtype: number;
}

/** iommu.host.requests entries (SCRIPT-API.md "The device side"); frozen once written. */
export interface HostRequestRecord {
  readonly type: RequestName;
  /** PROBE carries no domain: reported as 0. */
  readonly domain: number;
  readonly endpoint?: number;
  readonly virt_start?: number;
  readonly virt_end?: number;
  readonly phys_start?: number;
  readonly flags?: number;
  readonly status: StatusName;
}

/** VirtIOIOMMUDomain */
export class HostDomain {
  readonly mappings = new IntervalList();
  /** Endpoint IDs attached, newest first (QLIST_INSERT_HEAD). */
  readonly endpoints: number[] = [];
  constructor(
    readonly id: number,
    readonly bypass: boolean,
  ) {}
}

/** VirtIOIOMMUEndpoint: made at the endpoint's first ATTACH, kept after DETACH. */
export class HostEndpoint {
  domain: HostDomain | null = null;
  /** DMA was translated under the endpoint's own IOTLB tag (see dma_tag); its entries go when the endpoint moves. */
  tag_used = false;
  constructor(readonly id: number) {}
}

/** The device's configuration space (struct virtio_iommu_config) as QEMU fills it. */
export interface HostConfig {
  page_size_mask: number;
  input_start: number;
  input_end: number;
  domain_start: number;
  domain_end: number;
  probe_size: number;
  /** config.bypass: unattached endpoints bypass translation (QEMU's boot-bypass, default on). */
  bypass: boolean;
}

export class VirtioIommuHost {
  readonly domains = new Map<number, HostDomain>();
  readonly endpoints = new Map<number, HostEndpoint>();
  /** The endpoints that exist behind this IOMMU (QEMU: an IOMMU memory region per device) and their reserved regions. */
  readonly bus = new Map<number, readonly HostResvRegion[]>();
  /** Every request processed, in order (iommu.host.requests). */
  readonly requests: HostRequestRecord[] = [];
  /** Notifications of the request queue (iommu.host.kicks). */
  kicks = 0;
  /** Features the driver accepted (set at the driver's probe). */
  negotiated: readonly string[] = [];

  constructor(
    readonly machine: Machine,
    /** The instance's IOTLB: host UNMAPs and domain teardown invalidate it, as QEMU's notifiers do. */
    readonly tlb: Iotlb,
    readonly config: HostConfig,
    /** Also apply the spec checks QEMU leaves out (alignment, input_range, reserved regions of either subtype). */
    readonly spec_checks: boolean,
  ) {}

  /**
   * Unattached endpoints bypass when config.bypass is set (QEMU reads it whatever was negotiated)
   * or when the legacy BYPASS feature was negotiated (never, with Linux).
   */
  unattached_bypass(): boolean {
    return this.config.bypass || this.negotiated.includes('BYPASS');
  }

  /**
   * virtio_iommu_handle_command for one request: process it, log it, return the status. QEMU traces
   * each request as it starts (and unmap_done per mapping removed); the status the device writes in
   * the tail has no QEMU event, so the lab adds virtio_iommu_req_tail after the request's own events.
   */
  handle(req: VirtioIommuReq): number {
    let status: number;
    switch (req.type) {
      case VIRTIO_IOMMU_T_ATTACH:
        status = this.attach(req);
        break;
      case VIRTIO_IOMMU_T_DETACH:
        status = this.detach(req);
        break;
      case VIRTIO_IOMMU_T_MAP:
        status = this.map(req);
        break;
      case VIRTIO_IOMMU_T_UNMAP:
        status = this.unmap(req);
        break;
      case VIRTIO_IOMMU_T_PROBE:
        status = this.probe(req);
        break;
      default:
        status = VIRTIO_IOMMU_S_UNSUPP;
    }
    req.status = status;
    const t = this.machine.trace;
    const type = REQUEST_NAMES[req.type] || 'UNKNOWN';
    t.emit(
      ev.req_tail,
      t.str(type),
      req.type === VIRTIO_IOMMU_T_PROBE ? 0 : req.domain,
      t.str(STATUS_NAMES[status]),
    );
    this.log(req, status);
    return status;
  }

  private log(req: VirtioIommuReq, status: number): void {
    const type = REQUEST_NAMES[req.type] || 'PROBE';
    const s = STATUS_NAMES[status];
    let rec: HostRequestRecord;
    switch (req.type) {
      case VIRTIO_IOMMU_T_ATTACH:
        rec = { type: 'ATTACH', domain: req.domain, endpoint: req.endpoint, flags: req.flags, status: s };
        break;
      case VIRTIO_IOMMU_T_DETACH:
        rec = { type: 'DETACH', domain: req.domain, endpoint: req.endpoint, status: s };
        break;
      case VIRTIO_IOMMU_T_MAP:
        rec = {
          type: 'MAP',
          domain: req.domain,
          virt_start: req.virt_start,
          virt_end: req.virt_end,
          phys_start: req.phys_start,
          flags: req.flags,
          status: s,
        };
        break;
      case VIRTIO_IOMMU_T_UNMAP:
        rec = {
          type: 'UNMAP',
          domain: req.domain,
          virt_start: req.virt_start,
          virt_end: req.virt_end,
          status: s,
        };
        break;
      default:
        rec = { type: type as RequestName, domain: 0, endpoint: req.endpoint, status: s };
    }
    this.requests.push(Object.freeze(rec));
  }

  // ── requests ──

  private attach(req: VirtioIommuReq): number {
    this.machine.trace.emit(ev.attach, req.domain, req.endpoint, req.flags);
    if (req.flags & ~VIRTIO_IOMMU_ATTACH_F_BYPASS) return VIRTIO_IOMMU_S_INVAL;
    const ep = this.get_endpoint(req.endpoint);
    if (!ep) return VIRTIO_IOMMU_S_NOENT;
    // Already attached: leave the old domain first, and destroy it if nobody is left in it.
    if (ep.domain) {
      const previous = ep.domain;
      this.detach_endpoint(ep);
      if (!previous.endpoints.length) this.put_domain(previous);
    }
    const domain = this.get_domain(req.domain, (req.flags & VIRTIO_IOMMU_ATTACH_F_BYPASS) !== 0);
    // A bypass-flag mismatch with an existing domain: the endpoint stays detached (as in QEMU).
    if (!domain) return VIRTIO_IOMMU_S_INVAL;
    domain.endpoints.unshift(ep.id);
    ep.domain = domain;
    this.switch_address_space(ep);
    return VIRTIO_IOMMU_S_OK;
  }

  private detach(req: VirtioIommuReq): number {
    this.machine.trace.emit(ev.detach, req.domain, req.endpoint);
    const ep = this.endpoints.get(req.endpoint);
    if (!ep) return VIRTIO_IOMMU_S_NOENT;
    const domain = ep.domain;
    if (!domain || domain.id !== req.domain) return VIRTIO_IOMMU_S_INVAL;
    this.detach_endpoint(ep);
    if (!domain.endpoints.length) this.put_domain(domain);
    return VIRTIO_IOMMU_S_OK;
  }

  /** QEMU traces a MAP only once it passed every check, right before the insert. */
  private map(req: VirtioIommuReq): number {
    if (req.flags & ~VIRTIO_IOMMU_MAP_F_MASK) return VIRTIO_IOMMU_S_INVAL;
    const domain = this.domains.get(req.domain);
    if (!domain) return VIRTIO_IOMMU_S_NOENT;
    if (domain.bypass) return VIRTIO_IOMMU_S_INVAL;
    if (this.spec_checks) {
      const status = this.spec_map_checks(domain, req);
      if (status !== VIRTIO_IOMMU_S_OK) return status;
    }
    if (domain.mappings.first_overlap_disjoint(req.virt_start, req.virt_end) >= 0)
      return VIRTIO_IOMMU_S_INVAL;
    this.machine.trace.emit(ev.map, req.domain, req.virt_start, req.virt_end, req.phys_start, req.flags);
    domain.mappings.insert(req.virt_start, req.virt_end, req.phys_start, req.flags);
    return VIRTIO_IOMMU_S_OK;
  }

  /**
   * What the spec adds to QEMU's MAP: misaligned virt_start, phys_start or virt_end + 1 → RANGE;
   * outside input_range → RANGE (the spec says the request fails; the status is the lab's choice);
   * overlap with a reserved region of an attached endpoint → INVAL. The spec's device SHOULD reject
   * a MAP that overlaps any RESV_MEM region, MSI included (the driver cannot map what either
   * subtype describes); the status is the lab's choice too.
   */
  private spec_map_checks(domain: HostDomain, req: VirtioIommuReq): number {
    const granule = this.granule();
    if (req.virt_start % granule || req.phys_start % granule || (req.virt_end + 1) % granule)
      return VIRTIO_IOMMU_S_RANGE;
    if (req.virt_start < this.config.input_start || req.virt_end > this.config.input_end)
      return VIRTIO_IOMMU_S_RANGE;
    for (const id of domain.endpoints) {
      for (const r of this.bus.get(id) ?? []) {
        if (r.low <= req.virt_end && req.virt_start <= r.high) return VIRTIO_IOMMU_S_INVAL;
      }
    }
    return VIRTIO_IOMMU_S_OK;
  }

  private unmap(req: VirtioIommuReq): number {
    const t = this.machine.trace;
    t.emit(ev.unmap, req.domain, req.virt_start, req.virt_end);
    const domain = this.domains.get(req.domain);
    let status = VIRTIO_IOMMU_S_OK;
    if (!domain) status = VIRTIO_IOMMU_S_NOENT;
    else if (domain.bypass) status = VIRTIO_IOMMU_S_INVAL;
    else {
      // Remove every mapping the range covers entirely; stop at the first one it would split.
      // Nothing already removed by this request comes back. QEMU visits the overlapping mappings
      // in its tree's order; the lab goes in address order.
      const m = domain.mappings;
      for (;;) {
        const i = m.first_overlap_disjoint(req.virt_start, req.virt_end);
        if (i < 0) break;
        const low = m.start[i];
        const high = m.last[i];
        if (req.virt_start > low || req.virt_end < high) {
          status = VIRTIO_IOMMU_S_RANGE;
          break;
        }
        m.remove(i);
        // The unmap notifiers: whatever cached this mapping (vhost, VFIO) drops it now.
        this.tlb.invalidate_range(domain_tag(domain.id), low, high - low + 1);
        t.emit(ev.unmap_done, domain.id, low, high);
      }
    }
    return status;
  }

  private probe(req: VirtioIommuReq): number {
    const t = this.machine.trace;
    t.emit(ev.probe_req, req.endpoint);
    const regions = this.bus.get(req.endpoint);
    let status = VIRTIO_IOMMU_S_OK;
    if (!regions) status = VIRTIO_IOMMU_S_NOENT;
    // QEMU fails the request when the properties do not fit in probe_size.
    else if (regions.length * RESV_MEM_PROP_SIZE > this.config.probe_size) status = VIRTIO_IOMMU_S_INVAL;
    else {
      req.properties = [...regions];
      for (const r of regions) t.emit(ev.fill_resv, req.endpoint, r.subtype, r.low, r.high);
    }
    return status;
  }

  // ── endpoints and domains ──

  /** virtio_iommu_get_endpoint: made on first use, if such an endpoint exists behind the IOMMU. */
  private get_endpoint(id: number): HostEndpoint | null {
    let ep = this.endpoints.get(id);
    if (ep) return ep;
    if (!this.bus.has(id)) return null;
    ep = new HostEndpoint(id);
    this.endpoints.set(id, ep);
    this.machine.trace.emit(ev.get_endpoint, id);
    return ep;
  }

  /** virtio_iommu_get_domain: the existing domain (null on a bypass mismatch) or a new empty one. */
  private get_domain(id: number, bypass: boolean): HostDomain | null {
    const d = this.domains.get(id);
    if (d) return d.bypass === bypass ? d : null;
    const domain = new HostDomain(id, bypass);
    this.domains.set(id, domain);
    this.machine.trace.emit(ev.get_domain, id, bypass ? 1 : 0);
    return domain;
  }

  private detach_endpoint(ep: HostEndpoint): void {
    const d = ep.domain;
    if (!d) return;
    d.endpoints.splice(d.endpoints.indexOf(ep.id), 1);
    ep.domain = null;
    this.switch_address_space(ep);
  }

  /** virtio_iommu_put_domain: the domain and all its mappings cease to exist; its ID is free again. */
  private put_domain(domain: HostDomain): void {
    for (const id of [...domain.endpoints]) this.detach_endpoint(this.endpoints.get(id)!);
    const n = domain.mappings.length;
    domain.mappings.clear();
    this.domains.delete(domain.id);
    this.tlb.invalidate_tag(domain_tag(domain.id));
    this.machine.trace.emit(ev.put_domain, domain.id, n);
  }

  /** QEMU switches the endpoint between its bypass and IOMMU address spaces: cached translations of the old one go. */
  private switch_address_space(ep: HostEndpoint): void {
    if (!ep.tag_used) return;
    ep.tag_used = false;
    this.tlb.invalidate_tag(endpoint_tag(ep.id));
  }

  // ── translation (virtio_iommu_translate) ──

  /** The reserved region of endpoint `ep` containing `iova`, if any. */
  resv_at(ep: number, iova: number): HostResvRegion | undefined {
    const regions = this.bus.get(ep);
    if (!regions) return undefined;
    for (const r of regions) if (iova >= r.low && iova <= r.high) return r;
    return undefined;
  }

  /** The granule: the lowest bit of page_size_mask (QEMU's translate answers in granule-sized entries). */
  granule(): number {
    return this.config.page_size_mask > 0 ? lowest_bit(this.config.page_size_mask) : 0x1000;
  }
}

/** The lowest set bit of a mask up to 2^53 (no 32-bit bit operators). */
export function lowest_bit(mask: number): number {
  let bit = 1;
  while (bit <= mask && Math.floor(mask / bit) % 2 === 0) bit *= 2;
  return bit;
}
