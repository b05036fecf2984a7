/**
 * virtio-iommu: the Linux guest driver (drivers/iommu/virtio-iommu.c) over QEMU's device (facts
 * §5.1), in the three eras the lab models:
 *
 * - v6.6: domain_alloc(type) returns an unfinalised domain (no viommu, map_flags 0, the core copies
 *   the global pgsize_bitmap that probe wrote); the first attach finalises it. Every map_pages
 *   sends its MAP and waits (one kick each), and a failed MAP fails the map.
 * - v6.8 ("iommu/virtio: Make use of ops->iotlb_sync_map" and "Add ops->flush_iotlb_all and enable
 *   deferred flush"): map_pages only queues; iotlb_sync_map kicks once per iommu_map, reading no
 *   status, so a MAP the host refuses is lost and the guest tree and the host diverge. Default
 *   domains become DMA-FQ. Still finalised at first attach.
 * - v6.16: domain_alloc_paging(dev) does the finalise work at allocation, so maps before attach
 *   work (tree nodes only, replayed at attach); domain_alloc_identity gives the static bypass
 *   domain with BYPASS_CONFIG, else an identity-filled paging domain. No global bitmap write.
 */
import { next_domain_id, register_domain, static_domain } from '../../core/alloc.ts';
import { raise_check } from '../../core/checks.ts';
import {
  IOMMU_DOMAIN_DMA,
  IOMMU_DOMAIN_IDENTITY,
  IOMMU_DOMAIN_UNMANAGED,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_RESV_DIRECT,
  IOMMU_RESV_DIRECT_RELAXABLE,
  IOMMU_RESV_MSI,
  IOMMU_RESV_RESERVED,
  IOMMU_RESV_SW_MSI,
  IOMMU_WRITE,
} from '../../core/constants.ts';
import type { Device } from '../../core/device.ts';
import type { DomainOps, IommuDomain, MapPagesResult } from '../../core/domain.ts';
import type { DomainOrErr, IommuDriver, IommuOps } from '../../core/driver.ts';
import { hex } from '../../core/format.ts';
import { EINVAL, ENODEV } from '../../core/errno.ts';
import type { IommuIotlbGather } from '../../core/gather.ts';
import type { Machine } from '../../core/machine.ts';
import type { OptionTable } from '../../core/options.ts';
import { iommu_alloc_resv_region, type ResvRegion } from '../../core/resv.ts';
import {
  FEATURE_NAMES,
  PAGE_SIZE,
  QEMU_FEATURES,
  QEMU_INPUT_END,
  QEMU_PAGE_SIZE_MASK,
  U32_MAX,
  VIOMMU_SW_MSI_BASE,
  VIOMMU_SW_MSI_LENGTH,
  VIRTIO_IOMMU_ATTACH_F_BYPASS,
  VIRTIO_IOMMU_MAP_F_MMIO,
  VIRTIO_IOMMU_MAP_F_READ,
  VIRTIO_IOMMU_MAP_F_WRITE,
  VIRTIO_IOMMU_RESV_MEM_T_MSI,
  VIRTIO_IOMMU_RESV_MEM_T_RESERVED,
  VIRTIO_IOMMU_T_ATTACH,
  VIRTIO_IOMMU_T_DETACH,
  VIRTIO_IOMMU_T_MAP,
  VIRTIO_IOMMU_T_PROBE,
  VIRTIO_IOMMU_T_UNMAP,
  domain_tag,
} from './constants.ts';
import { ViommuDomain, ViommuEndpoint, prot_to_map_flags } from './domain.ts';
import { VirtioIommuReq, lowest_bit, type HostResvRegion } from './host.ts';
import { Q35_RESERVED_REGIONS, endpoint_resv_regions } from './reserved-regions.ts';
import { ev } from './trace-events.ts';
import { VirtioIommu, type VirtioIommuOptions } from './viommu.ts';

const DRIVER = 'virtio-iommu';

const options: OptionTable<VirtioIommuOptions> = {
  page_size_mask: {
    kind: 'int',
    default: QEMU_PAGE_SIZE_MASK,
    min: 0,
    doc: "config.page_size_mask; QEMU's TARGET_PAGE_MASK (every size from 4K) is bits 12–52 here, JS numbers stopping at 2^53. The lowest bit is the granule",
  },
  input_range: {
    kind: 'range',
    default: [0, QEMU_INPUT_END],
    doc: 'config.input_range (inclusive): the domain aperture. QEMU: 0..UINT64_MAX, reported as Number.MAX_SAFE_INTEGER',
  },
  domain_range: {
    kind: 'range',
    default: [0, U32_MAX],
    doc: 'config.domain_range (inclusive): the domain IDs the driver may use. QEMU: 0..UINT32_MAX',
  },
  bypass: {
    kind: 'bool',
    default: true,
    doc: "config.bypass at boot (QEMU's boot-bypass, default on): unattached endpoints are not translated",
  },
  features: {
    kind: 'strings',
    default: QEMU_FEATURES,
    values: FEATURE_NAMES,
    doc: 'features the device offers (QEMU: VERSION_1, INPUT_RANGE, DOMAIN_RANGE, MAP_UNMAP, MMIO, PROBE, BYPASS_CONFIG); Linux accepts all but BYPASS',
  },
  machine_msi: {
    kind: 'bool',
    default: true,
    doc: "the reserved region QEMU's q35 machine gives virtio-iommu-pci (pc_machine_device_pre_plug_cb): every endpoint's PROBE reports 0xfee00000–0xfeefffff as a RESV_MEM MSI region, so the guest reserves it as IOMMU_RESV_MSI and adds no SW_MSI window, and the host lets accesses there through untranslated; it takes priority over a device resv region it overlaps. false: the bare device, reporting only the devices' own resv regions (the guest then adds its SW_MSI window at 0x8000000, as on an Arm virt machine without an MSI controller)",
  },
  spec_checks: {
    kind: 'bool',
    default: false,
    doc: 'the host also applies the spec checks QEMU leaves out: MAP alignment and input_range (RANGE), overlap with a reserved region of an attached endpoint, RESERVED or MSI (INVAL)',
  },
  tlb_entries: {
    kind: 'int',
    default: 32,
    min: 1,
    max: 65536,
    doc: 'IOTLB entries (the translations devices cache, kept coherent by the host)',
  },
};

function viommuOf(dev: Device): VirtioIommu {
  return dev.iommu as VirtioIommu;
}

function endpointOf(dev: Device): ViommuEndpoint {
  return dev.priv as ViommuEndpoint;
}

// ── viommu_probe: what the driver reads from the device ──

function viommu_probe(viommu: VirtioIommu): number {
  const m = viommu.machine;
  const cfg = viommu.host.config;
  const missing = (['VERSION_1', 'MAP_UNMAP'] as const).filter((f) => !viommu.has_feature(f));
  if (missing.length) {
    viommu.probe_failure = `viommu_probe failed (-ENODEV): the device does not offer ${missing.join(' or ')} (the features option replaces the whole list the device offers)`;
    return -ENODEV;
  }
  if (!cfg.page_size_mask) {
    viommu.probe_failure = 'viommu_probe failed (-EINVAL): page_size_mask is 0';
    return -EINVAL;
  }
  viommu.pgsize_bitmap = cfg.page_size_mask;
  viommu.map_flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
  viommu.first_domain = 0;
  viommu.last_domain = U32_MAX; // ~0U
  let input_start = 0;
  let input_end = QEMU_INPUT_END; // -1UL
  if (viommu.has_feature('INPUT_RANGE')) {
    input_start = cfg.input_start;
    input_end = cfg.input_end;
  }
  if (viommu.has_feature('DOMAIN_RANGE')) {
    viommu.first_domain = cfg.domain_start;
    viommu.last_domain = cfg.domain_end;
  }
  if (viommu.has_feature('PROBE')) viommu.probe_size = cfg.probe_size;
  viommu.geometry = { aperture_start: input_start, aperture_end: input_end, force_aperture: true };
  if (viommu.has_feature('MMIO')) viommu.map_flags |= VIRTIO_IOMMU_MAP_F_MMIO;
  if (m.profile.has('virtio_paging')) {
    // Reserve an ID for the static identity domain.
    if (viommu.has_feature('BYPASS_CONFIG')) viommu.identity_domain_id = viommu.first_domain++;
  } else {
    // viommu_ops.pgsize_bitmap = viommu->pgsize_bitmap: a global, rewritten by every instance that probes.
    m.globals(DRIVER).pgsize_bitmap = viommu.pgsize_bitmap;
  }
  return 0;
}

// ── endpoints ──

/**
 * A device's `resv` regions are split by who can describe them. RESERVED and MSI regions are the
 * host's, reported through PROBE (RESV_MEM subtypes RESERVED and MSI). The virtio spec has no
 * subtype for a direct mapping, so DIRECT and DIRECT_RELAXABLE regions can only come from the
 * guest's firmware (a DT iommu-addresses property): iommu_dma_get_resv_regions adds them.
 */
function is_firmware_direct(r: ResvRegion): boolean {
  return r.type === IOMMU_RESV_DIRECT || r.type === IOMMU_RESV_DIRECT_RELAXABLE;
}

/**
 * The host's reserved regions for the endpoint: the device's own (MSI stays MSI, the rest is
 * RESERVED), then the machine's (see reserved-regions.ts).
 */
function host_regions(viommu: VirtioIommu, dev: Device): HostResvRegion[] {
  const own = dev.fw_resv
    .filter((r) => !is_firmware_direct(r))
    .map((r) => ({
      low: r.start,
      high: r.start + r.length - 1,
      subtype:
        r.type === IOMMU_RESV_MSI || r.type === IOMMU_RESV_SW_MSI
          ? VIRTIO_IOMMU_RESV_MEM_T_MSI
          : VIRTIO_IOMMU_RESV_MEM_T_RESERVED,
    }));
  return endpoint_resv_regions(own, viommu.opts.machine_msi ? Q35_RESERVED_REGIONS : []);
}

/** viommu_add_resv_mem: keep the list sorted by start, a new region after those with the same start. */
function viommu_add_resv_mem(ep: ViommuEndpoint, prop: HostResvRegion): void {
  const msi = prop.subtype === VIRTIO_IOMMU_RESV_MEM_T_MSI;
  const region = iommu_alloc_resv_region(
    prop.low,
    prop.high - prop.low + 1,
    msi ? IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO : 0,
    msi ? IOMMU_RESV_MSI : IOMMU_RESV_RESERVED, // unknown subtypes count as RESERVED
  );
  let at = ep.resv_regions.findIndex((r) => r.start > region.start);
  if (at < 0) at = ep.resv_regions.length;
  ep.resv_regions.splice(at, 0, region);
}

function viommu_probe_endpoint(viommu: VirtioIommu, ep: ViommuEndpoint): number {
  const req = new VirtioIommuReq(VIRTIO_IOMMU_T_PROBE, 0, ep.id, 0, 0, 0, 0, true);
  const ret = viommu.send_req_sync(req);
  if (ret) return ret;
  for (const prop of req.properties) viommu_add_resv_mem(ep, prop);
  return 0;
}

function viommu_probe_device(dev: Device): number {
  const viommu = viommuOf(dev);
  // The instance never registered: no viommu matches the device's fwspec.
  if (viommu.probe_ret) return -ENODEV;
  // Endpoint IDs are PCI requester IDs on bus 0, one slot per device: 00:01.0 is 0x08, 00:02.0 is 0x10...
  const id = ++viommu.nr_endpoint_ids * 8;
  viommu.host.bus.set(id, Object.freeze(host_regions(viommu, dev)));
  const ep = new ViommuEndpoint(id);
  dev.priv = ep;
  if (viommu.probe_size) {
    const ret = viommu_probe_endpoint(viommu, ep);
    if (ret) {
      dev.priv = null;
      return ret;
    }
  }
  return 0;
}

/** viommu_detach_dev, from release_device: DETACH from the domain the driver believes in. */
function viommu_release_device(dev: Device): void {
  const ep = endpointOf(dev);
  const vdomain = ep?.vdomain;
  if (!vdomain) return;
  // Linux WARNs on a failed DETACH and carries on; the host's answer is in host.requests.
  viommuOf(dev).send_req_sync(
    new VirtioIommuReq(VIRTIO_IOMMU_T_DETACH, vdomain.vid, ep.id, 0, 0, 0, 0, true),
  );
  vdomain.nr_endpoints--;
  ep.vdomain = null;
}

/**
 * The probed regions, the software MSI window when none of them is an MSI doorbell, then
 * iommu_dma_get_resv_regions: the firmware's direct regions (see is_firmware_direct).
 */
function viommu_get_resv_regions(dev: Device): ResvRegion[] {
  const ep = endpointOf(dev);
  const out = ep.resv_regions.map((r) => ({ ...r }));
  if (!out.some((r) => r.type === IOMMU_RESV_MSI))
    out.push(
      iommu_alloc_resv_region(
        VIOMMU_SW_MSI_BASE,
        VIOMMU_SW_MSI_LENGTH,
        IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO,
        IOMMU_RESV_SW_MSI,
      ),
    );
  for (const r of dev.fw_resv) if (is_firmware_direct(r)) out.push({ ...r });
  return out;
}

// ── the guest interval tree ──

/** viommu_del_mappings: remove nodes from iova on, never splitting one that starts before iova. */
function viommu_del_mappings(vdomain: ViommuDomain, iova: number, end: number): number {
  const t = vdomain.tree;
  const tlb = vdomain.viommu?.tlb;
  let unmapped = 0;
  let i = t.first_overlap(iova, end);
  while (i >= 0) {
    if (t.start[i] < iova) break;
    // A MAP may not be split by an UNMAP, so the whole node goes, past `end` too. Until the host
    // hears of it (an UNMAP sent at the sync, the flush, or never), what the device has cached
    // from the host there is a translation the guest no longer holds.
    const size = t.size_of(i);
    tlb?.mark_stale(domain_tag(vdomain.vid), t.start[i], size);
    unmapped += size;
    t.remove(i);
    i = t.overlap_from(i, iova, end);
  }
  return unmapped;
}

/** viommu_domain_map_identity: tree nodes over the aperture, skipping the endpoint's probed regions. */
function viommu_domain_map_identity(ep: ViommuEndpoint, vdomain: ViommuDomain): number {
  const granule = lowest_bit(vdomain.pgsize_bitmap);
  const flags = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
  let iova = Math.ceil(vdomain.geometry.aperture_start / granule) * granule;
  const limit = Math.floor((vdomain.geometry.aperture_end + 1) / granule) * granule - 1;
  for (const resv of ep.resv_regions) {
    const resv_start = Math.floor(resv.start / granule) * granule;
    const resv_end = Math.ceil((resv.start + resv.length) / granule) * granule - 1;
    if (resv_end < iova || resv_start > limit) continue;
    if (resv_start > iova) vdomain.tree.insert(iova, resv_start - 1, iova, flags);
    if (resv_end >= limit) return 0;
    iova = resv_end + 1;
  }
  vdomain.tree.insert(iova, limit, iova, flags);
  return 0;
}

/** viommu_replay_mappings: the host destroyed the domain when its last endpoint left; send every node again. */
function viommu_replay_mappings(vdomain: ViommuDomain): number {
  const viommu = vdomain.viommu!;
  const t = vdomain.tree;
  for (let i = 0; i < t.length; i++) {
    const req = new VirtioIommuReq(
      VIRTIO_IOMMU_T_MAP,
      vdomain.vid,
      0,
      t.flags[i],
      t.start[i],
      t.last[i],
      t.phys[i],
      true,
    );
    const ret = viommu.send_req_sync(req);
    if (ret) return ret;
  }
  return 0;
}

// ── domains ──

/** viommu_domain_finalise (legacy): bind the domain to the attaching device's instance. */
function viommu_domain_finalise(
  ep: ViommuEndpoint,
  vdomain: ViommuDomain,
  viommu: VirtioIommu,
  dev: Device,
): number {
  const t = viommu.machine.trace;
  const granule = lowest_bit(viommu.pgsize_bitmap);
  if (granule > PAGE_SIZE) {
    t.emit(ev.finalise, t.str(viommu.name), vdomain.id, 0, 0, -ENODEV);
    return -ENODEV;
  }
  const id = viommu.alloc_domain_id();
  if (id < 0) return id;
  vdomain.vid = id;
  vdomain.pgsize_bitmap = viommu.pgsize_bitmap;
  vdomain.geometry = { ...viommu.geometry };
  vdomain.map_flags = viommu.map_flags;
  vdomain.iommu = viommu;
  if (vdomain.type === IOMMU_DOMAIN_IDENTITY) {
    if (viommu.has_feature('BYPASS_CONFIG')) vdomain.bypass = true;
    else viommu_domain_map_identity(ep, vdomain);
  }
  t.emit(ev.finalise, t.str(viommu.name), vdomain.id, id, vdomain.bypass ? 1 : 0, 0);
  raise_check(
    viommu.machine,
    'attach-time-finalise',
    `virtio-iommu finalised domain ${vdomain.id} at its first attach (${dev.name} on ${viommu.name}): its virtio domain ID, page sizes, aperture and map flags did not exist before`,
  );
  return 0;
}

/** The part of viommu_attach_dev every era shares, once the domain belongs to the device's instance. */
function __viommu_attach(vdomain: ViommuDomain, dev: Device): number {
  const ep = endpointOf(dev);
  const viommu = viommuOf(dev);
  // The host detaches the endpoint from its old domain (destroying it if empty); the driver keeps the old tree for a replay.
  if (ep.vdomain) ep.vdomain.nr_endpoints--;
  const flags = vdomain.bypass ? VIRTIO_IOMMU_ATTACH_F_BYPASS : 0;
  const ret = viommu.send_req_sync(
    new VirtioIommuReq(VIRTIO_IOMMU_T_ATTACH, vdomain.vid, ep.id, flags, 0, 0, 0, true),
  );
  if (ret) return ret;
  if (!vdomain.nr_endpoints) {
    // First endpoint in: the host has no mappings for this domain (it destroyed them, or never had them).
    const r = viommu_replay_mappings(vdomain);
    if (r) return r;
  }
  vdomain.nr_endpoints++;
  ep.vdomain = vdomain;
  return 0;
}

function viommu_attach_dev_legacy(d: IommuDomain, dev: Device): number {
  const vdomain = d as ViommuDomain;
  const viommu = viommuOf(dev);
  let ret = 0;
  if (!vdomain.viommu) ret = viommu_domain_finalise(endpointOf(dev), vdomain, viommu, dev);
  else if (vdomain.viommu !== viommu) ret = -EINVAL;
  return ret || __viommu_attach(vdomain, dev);
}

function viommu_attach_dev(d: IommuDomain, dev: Device): number {
  const vdomain = d as ViommuDomain;
  if (vdomain.viommu !== viommuOf(dev)) return -EINVAL;
  return __viommu_attach(vdomain, dev);
}

/** Shared by both map_pages variants: flags, then one tree node for the whole pgsize × pgcount. */
function viommu_map_node(
  vdomain: ViommuDomain,
  iova: number,
  paddr: number,
  size: number,
  prot: number,
): number {
  const flags = prot_to_map_flags(prot);
  if (flags & ~vdomain.map_flags) return -EINVAL;
  if (vdomain.tree.first_overlap(iova, iova + size - 1) >= 0)
    raise_check(
      vdomain.machine,
      'map-over-existing',
      `virtio-iommu map_pages of [${hex(iova)}, +${hex(size)}) on domain ${vdomain.id} overlaps a mapping the guest already holds: the guest's tree takes both, the host refuses the overlapping MAP (INVAL)`,
    );
  vdomain.tree.insert(iova, iova + size - 1, paddr, flags);
  return flags;
}

/** Before v6.8: each map_pages sends its MAP and waits; a refused MAP removes the node and fails. */
function viommu_map_pages_sync(
  d: IommuDomain,
  iova: number,
  paddr: number,
  pgsize: number,
  pgcount: number,
  prot: number,
): MapPagesResult {
  const vdomain = d as ViommuDomain;
  const size = pgsize * pgcount;
  const flags = viommu_map_node(vdomain, iova, paddr, size, prot);
  if (flags < 0) return { ret: flags, mapped: 0 };
  if (vdomain.nr_endpoints) {
    const end = iova + size - 1;
    const ret = vdomain.viommu!.send_req_sync(
      new VirtioIommuReq(VIRTIO_IOMMU_T_MAP, vdomain.vid, 0, flags, iova, end, paddr, true),
    );
    if (ret) {
      viommu_del_mappings(vdomain, iova, end);
      return { ret, mapped: 0 };
    }
  }
  return { ret: 0, mapped: size };
}

/** From v6.8: map_pages only queues the MAP; iotlb_sync_map sends the lot. */
function viommu_map_pages_queued(
  d: IommuDomain,
  iova: number,
  paddr: number,
  pgsize: number,
  pgcount: number,
  prot: number,
): MapPagesResult {
  const vdomain = d as ViommuDomain;
  const size = pgsize * pgcount;
  const flags = viommu_map_node(vdomain, iova, paddr, size, prot);
  if (flags < 0) return { ret: flags, mapped: 0 };
  if (vdomain.nr_endpoints) {
    const ret = vdomain.viommu!.add_req(
      new VirtioIommuReq(VIRTIO_IOMMU_T_MAP, vdomain.vid, 0, flags, iova, iova + size - 1, paddr),
    );
    if (ret) {
      viommu_del_mappings(vdomain, iova, iova + size - 1);
      return { ret, mapped: 0 };
    }
  }
  return { ret: 0, mapped: size };
}

function viommu_unmap_pages(
  d: IommuDomain,
  iova: number,
  pgsize: number,
  pgcount: number,
  _gather: IommuIotlbGather,
): number {
  const vdomain = d as ViommuDomain;
  const size = pgsize * pgcount;
  // Nodes removed here stay removed even when the total falls short and 0 is returned. A range
  // starting inside a node removes nothing there (a MAP is never split); the core reports that.
  const unmapped = viommu_del_mappings(vdomain, iova, iova + size - 1);
  if (unmapped > 0 && unmapped < size)
    raise_check(
      d.machine,
      'unmap-of-hole',
      `unmap [${hex(iova)}, +${hex(size)}) on domain ${d.id} runs into a hole: virtio-iommu removed the ` +
        `${hex(unmapped)} bytes of MAPs in it from its tree, then returned 0 and sent no UNMAP, so the host ` +
        `still maps what the guest no longer knows of`,
    );
  if (unmapped < size) return 0;
  // Detached: the host already dropped every mapping of this domain.
  if (!vdomain.nr_endpoints) return unmapped;
  const ret = vdomain.viommu!.add_req(
    new VirtioIommuReq(VIRTIO_IOMMU_T_UNMAP, vdomain.vid, 0, 0, iova, iova + unmapped - 1),
  );
  return ret ? 0 : unmapped;
}

function viommu_iova_to_phys(d: IommuDomain, iova: number): number {
  const t = (d as ViommuDomain).tree;
  const i = t.first_overlap(iova, iova);
  return i < 0 ? 0 : t.phys[i] + (iova - t.start[i]);
}

function viommu_iotlb_sync(d: IommuDomain, _gather: IommuIotlbGather): void {
  const vdomain = d as ViommuDomain;
  if (!vdomain.viommu) {
    // Linux passes vdomain->viommu to viommu_sync_req unchecked; the lab says so and goes on. The
    // first NULL dereference ends the kernel, so a call that syncs twice (iommu_map_sg: __iommu_map's
    // unroll, then its own) reports it once.
    if (oopsed_this_step(d.machine)) return;
    raise_check(
      d.machine,
      'kernel-oops',
      `iotlb_sync on virtio-iommu domain ${d.id}, which no device has been attached to: viommu_iotlb_sync ` +
        `hands vdomain->viommu (NULL until the first attach) to viommu_sync_req — a NULL pointer dereference`,
    );
    return;
  }
  vdomain.viommu.sync_req();
}

/** Whether a kernel-oops was already raised in the current step (the script call running now). */
function oopsed_this_step(m: Machine): boolean {
  const step = m.trace.step;
  for (let i = m.checks.length - 1; i >= 0 && m.checks[i].step === step; i--)
    if (m.checks[i].id === 'kernel-oops') return true;
  return false;
}

function viommu_iotlb_sync_map(d: IommuDomain, _iova: number, _size: number): number {
  const vdomain = d as ViommuDomain;
  // Called before the domain is attached too (direct mappings, map before attach): nothing was queued.
  if (!vdomain.nr_endpoints) return 0;
  return vdomain.viommu!.sync_req();
}

function viommu_flush_iotlb_all(d: IommuDomain): void {
  const vdomain = d as ViommuDomain;
  if (!vdomain.nr_endpoints) return;
  vdomain.viommu!.sync_req();
}

function viommu_domain_free(d: IommuDomain): void {
  const vdomain = d as ViommuDomain;
  vdomain.tree.clear();
  vdomain.viommu?.free_domain_id(vdomain.vid);
}

const ops_v6_6: DomainOps = Object.freeze({
  attach_dev: viommu_attach_dev_legacy,
  map_pages: viommu_map_pages_sync,
  unmap_pages: viommu_unmap_pages,
  iova_to_phys: viommu_iova_to_phys,
  iotlb_sync: viommu_iotlb_sync,
  free: viommu_domain_free,
});

const ops_v6_8: DomainOps = Object.freeze({
  attach_dev: viommu_attach_dev_legacy,
  map_pages: viommu_map_pages_queued,
  unmap_pages: viommu_unmap_pages,
  iova_to_phys: viommu_iova_to_phys,
  flush_iotlb_all: viommu_flush_iotlb_all,
  iotlb_sync: viommu_iotlb_sync,
  iotlb_sync_map: viommu_iotlb_sync_map,
  free: viommu_domain_free,
});

const ops_v6_16: DomainOps = Object.freeze({ ...ops_v6_8, attach_dev: viommu_attach_dev });

/** The static identity domain's only op: ATTACH with the BYPASS flag to the reserved ID. */
const identity_ops: DomainOps = Object.freeze({
  attach_dev(d: IommuDomain, dev: Device): number {
    const vdomain = d as ViommuDomain;
    const ep = endpointOf(dev);
    const viommu = viommuOf(dev);
    const req = new VirtioIommuReq(
      VIRTIO_IOMMU_T_ATTACH,
      viommu.identity_domain_id,
      ep.id,
      VIRTIO_IOMMU_ATTACH_F_BYPASS,
      0,
      0,
      0,
      true,
    );
    const ret = viommu.send_req_sync(req);
    if (ret) return ret;
    if (ep.vdomain) ep.vdomain.nr_endpoints--;
    vdomain.nr_endpoints++;
    ep.vdomain = vdomain;
    return 0;
  },
});

/** Legacy viommu_domain_alloc(type): no device, so nothing is known yet. */
function viommu_domain_alloc(ops: DomainOps) {
  return (m: Machine, type: number): IommuDomain | null => {
    if (type !== IOMMU_DOMAIN_UNMANAGED && type !== IOMMU_DOMAIN_DMA && type !== IOMMU_DOMAIN_IDENTITY)
      return null;
    const d = new ViommuDomain(m, next_domain_id(m), type, virtio_iommu, ops, null);
    register_domain(m, d);
    return d;
  };
}

/** v6.16 viommu_domain_alloc_paging: everything finalise did, at allocation. */
function alloc_paging(dev: Device, type: number): DomainOrErr {
  const viommu = viommuOf(dev);
  if (lowest_bit(viommu.pgsize_bitmap) > PAGE_SIZE) return -ENODEV;
  const id = viommu.alloc_domain_id();
  if (id < 0) return id;
  const m = dev.machine;
  const d = new ViommuDomain(m, next_domain_id(m), type, virtio_iommu, ops_v6_16, viommu);
  d.vid = id;
  d.pgsize_bitmap = viommu.pgsize_bitmap;
  d.geometry = { ...viommu.geometry };
  d.map_flags = viommu.map_flags;
  register_domain(m, d);
  return d;
}

function identity_domain(m: Machine): ViommuDomain {
  return static_domain(
    m,
    virtio_iommu,
    'identity_domain',
    () => new ViommuDomain(m, next_domain_id(m), IOMMU_DOMAIN_IDENTITY, virtio_iommu, identity_ops, null),
  );
}

const common_ops = {
  probe_device: viommu_probe_device,
  release_device: viommu_release_device,
  get_resv_regions: viommu_get_resv_regions,
};

const iommu_ops_v6_6: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc: viommu_domain_alloc(ops_v6_6),
});

const iommu_ops_v6_8: IommuOps = Object.freeze({
  ...common_ops,
  domain_alloc: viommu_domain_alloc(ops_v6_8),
  // IOMMU_CAP_DEFERRED_FLUSH: UNMAPs may wait in the queue for a flush-queue flush.
  deferred_flush: () => true,
});

const iommu_ops_v6_16: IommuOps = Object.freeze({
  ...common_ops,
  deferred_flush: () => true,
  domain_alloc_paging: (dev: Device) => alloc_paging(dev, IOMMU_DOMAIN_UNMANAGED),
  domain_alloc_identity(dev: Device): DomainOrErr {
    if (viommuOf(dev).has_feature('BYPASS_CONFIG')) return identity_domain(dev.machine);
    const d = alloc_paging(dev, IOMMU_DOMAIN_IDENTITY);
    if (typeof d === 'number') return d;
    viommu_domain_map_identity(endpointOf(dev), d as ViommuDomain);
    return d;
  },
});

export const virtio_iommu: IommuDriver<VirtioIommuOptions> = {
  name: DRIVER,
  options,
  // QEMU's q35 with virtio-iommu-pci: x86's Kconfig default is lazy, so DEFERRED_FLUSH (v6.8) makes default domains DMA-FQ.
  arch: 'x86',
  create(machine: Machine, name: string, opts: VirtioIommuOptions) {
    if (opts.domain_range[1] > U32_MAX)
      throw new Error(
        `virtio-iommu option 'domain_range' must lie within 0..0xffffffff (domain IDs are 32-bit; got [${opts.domain_range.join(', ')}])`,
      );
    const viommu = new VirtioIommu(machine, name, virtio_iommu, opts);
    viommu.probe_ret = viommu_probe(viommu);
    const t = machine.trace;
    t.emit(
      ev.probe,
      t.str(name),
      viommu.probe_ret,
      viommu.pgsize_bitmap,
      viommu.first_domain,
      viommu.last_domain,
    );
    return viommu;
  },
  ops(m: Machine): IommuOps {
    if (m.profile.has('virtio_paging')) return iommu_ops_v6_16;
    return m.profile.has('virtio_iotlb_sync_map') ? iommu_ops_v6_8 : iommu_ops_v6_6;
  },
  global_pgsize_bitmap: (m: Machine) => (m.globals(DRIVER).pgsize_bitmap as number | undefined) ?? 0,
  default_domain_ops: ops_v6_16,
};
