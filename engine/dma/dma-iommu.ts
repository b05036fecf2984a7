/**
 * The DMA API as a driver sees it (dma_map_single, dma_map_sg, dma_alloc_coherent and their
 * unmaps), routed as Linux routes it: dma-direct when the device is not translated, dma-iommu
 * (drivers/iommu/dma-iommu.c) over a DMA or DMA-FQ domain (facts §4).
 */
import { raise_check } from '../core/checks.ts';
import {
  DMA_BIDIRECTIONAL,
  DMA_BIT_MASK,
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  DMA_TO_DEVICE,
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  iommu_is_dma_domain,
} from '../core/constants.ts';
import type { Device } from '../core/device.ts';
import type { IommuDomain } from '../core/domain.ts';
import { hex } from '../core/format.ts';
import { iommu_iotlb_gather_init, iommu_iotlb_sync, type IommuIotlbGather } from '../core/gather.ts';
import { EIO } from '../core/errno.ts';
import { KernelVersionError } from '../core/kernel-profile.ts';
import { iommu_map, iommu_map_sg, type SgEntry } from '../core/map.ts';
import { iommu_iova_to_phys, iommu_unmap_fast } from '../core/unmap.ts';
import { PAGE_SIZE } from '../mem/phys-mem.ts';
import { dev_use_swiotlb, iommu_dma_map_swiotlb, iommu_dma_needs_bounce } from './bounce.ts';
import { iommu_dma_cookie, type IommuDmaCookie } from './cookie.ts';
import { DmaMapRecord, dev_dma_state, type DmaMapKind } from './device-dma.ts';
import { queue_iova } from './flush-queue.ts';
import { IOVA_RANGE_CACHE_MAX_SIZE, roundup_pow_of_two } from './iova.ts';
import { is_swiotlb_buffer, swiotlb_tbl_unmap_single } from './swiotlb.ts';
import { ev } from './trace-events.ts';

export { DMA_MAPPING_ERROR };

/** A scatterlist entry: the buffer, and what dma_map_sg filled in. */
export interface DmaSgEntry {
  paddr: number;
  length: number;
  dma_address?: number;
  dma_length?: number;
}

/** DMA_BIT_MASK(32): the last address a device using single address cycles can reach. */
const DMA_BIT_MASK_32 = 0xffff_ffff;
/** dma_get_max_seg_size() without a driver-set limit (include/linux/dma-mapping.h: SZ_64K). */
const DEFAULT_MAX_SEG_SIZE = 0x10000;
/** dma_get_seg_boundary(): PCI sets 0xffffffff at device setup; other buses leave ULONG_MAX (no boundary). */
const PCI_SEG_BOUNDARY = 0x1_0000_0000;

type DmaOps = { kind: 'direct' } | { kind: 'iommu'; domain: IommuDomain };

/**
 * Which DMA ops serve `dev`. Linux picks them at probe from the default domain
 * (iommu_setup_dma_ops), and iommu-dma maps into the default domain (iommu_get_dma_domain)
 * whatever the group is attached to now:
 * - no default domain (v6.6 omap, tegra-gart), IDENTITY or BLOCKED: dma-direct, the DMA address
 *   is the physical address;
 * - DMA or DMA-FQ: iommu-dma, an IOVA from the default domain's cookie.
 * A driver that keeps using the DMA API while its group is on another domain (an UNMANAGED one
 * it attached, or VFIO's blocking domain) gets an address the device, translated by that other
 * domain, faults on: Linux does not stop it, and the lab shows where it ends.
 * A driver whose devices had DMA ops of their own in this era (s390 before v6.7) makes the call
 * throw a KernelVersionError: the lab has no model of those ops.
 */
function dma_ops(dev: Device): DmaOps {
  const own = dev.iommu.driver.own_dma_api?.(dev.machine);
  if (own)
    throw new KernelVersionError(
      `the DMA API on ${dev.name}: ${own}; the lab runs ${dev.machine.profile.name}`,
    );
  const domain = dev.group?.default_domain ?? null;
  return domain && iommu_is_dma_domain(domain.type) ? { kind: 'iommu', domain } : { kind: 'direct' };
}

const DIR_NAMES = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE'];

function check_dir(dir: number): void {
  if (dir !== DMA_BIDIRECTIONAL && dir !== DMA_TO_DEVICE && dir !== DMA_FROM_DEVICE)
    throw new RangeError(
      `dir must be DMA_BIDIRECTIONAL (0), DMA_TO_DEVICE (1) or DMA_FROM_DEVICE (2) (got ${dir}); Linux BUGs on any other direction`,
    );
}

/** dma_info_to_prot: the device reads what goes to it and writes what comes from it; coherent → CACHE. */
function dma_info_to_prot(dir: number): number {
  const prot = IOMMU_CACHE; // the lab's devices are DMA-coherent (dev_is_dma_coherent)
  if (dir === DMA_TO_DEVICE) return prot | IOMMU_READ;
  if (dir === DMA_FROM_DEVICE) return prot | IOMMU_WRITE;
  return prot | IOMMU_READ | IOMMU_WRITE;
}

// ── IOVA allocation and release (iommu_dma_alloc_iova, iommu_dma_free_iova) ──

/**
 * An IOVA range of `size` bytes (granule-aligned) below the device's limit, top-down. PCI devices
 * try below 4 GiB first; the first failure there makes them use the whole range from then on.
 * Returns 0 when nothing fits.
 */
function iommu_dma_alloc_iova(
  domain: IommuDomain,
  cookie: IommuDmaCookie,
  size: number,
  dma_limit: number,
  dev: Device,
): number {
  const iovad = cookie.iovad;
  const g = iovad.granule;
  const iova_len = size / g;
  if (domain.geometry.force_aperture) dma_limit = Math.min(dma_limit, domain.geometry.aperture_end);
  const st = dev_dma_state(dev);
  const out = { from_cache: false };
  let pfn = 0;
  if (dma_limit > DMA_BIT_MASK_32 && st.pci_32bit_workaround) {
    pfn = iovad.alloc_iova_fast(iova_len, Math.floor(DMA_BIT_MASK_32 / g), false, out);
    if (!pfn) st.pci_32bit_workaround = false; // Linux: "Using 64-bit DMA addresses"
  }
  const limit = pfn ? DMA_BIT_MASK_32 : dma_limit;
  if (!pfn) pfn = iovad.alloc_iova_fast(iova_len, Math.floor(dma_limit / g), true, out);
  const t = domain.machine.trace;
  const len = iova_len < 2 ** (IOVA_RANGE_CACHE_MAX_SIZE - 1) ? roundup_pow_of_two(iova_len) : iova_len;
  t.emit(
    ev.iova_alloc,
    domain.id,
    pfn * g,
    pfn ? len * g : 0,
    limit,
    t.str(pfn ? (out.from_cache ? 'rcache' : 'tree') : 'failed'),
  );
  return pfn * g;
}

/** Give an IOVA range back: through the flush queue when the unmap was queued, else at once. */
function iommu_dma_free_iova(
  domain: IommuDomain,
  cookie: IommuDmaCookie,
  iova: number,
  size: number,
  gather: IommuIotlbGather | null,
): void {
  const iovad = cookie.iovad;
  const pfn = iovad.iova_pfn(iova);
  const pages = size / iovad.granule;
  const m = domain.machine;
  const node = iovad.find_iova(pfn);
  if (!node || node.pfn_lo !== pfn || node.state !== 'live') {
    const what = !node
      ? 'the allocator never handed it out'
      : node.state === 'reserved'
        ? 'it lies in a reserved region'
        : node.pfn_lo !== pfn
          ? `it is inside the range that starts at ${hex(node.pfn_lo * iovad.granule)}`
          : node.state === 'queued'
            ? 'it is already waiting in the flush queue'
            : 'it was already freed';
    raise_check(
      m,
      'iova-not-from-allocator',
      `IOVA ${hex(iova)} (+${hex(size)}) freed on domain ${domain.id}, but ${what}; Linux would put it in the IOVA cache and hand it out again while in use`,
    );
    return;
  }
  if (gather?.queued) {
    queue_iova(domain, cookie, pfn, pages, gather.freelist);
    return;
  }
  const to = iovad.free_iova_fast(pfn, pages);
  m.trace.emit(ev.iova_free, domain.id, iova, size, m.trace.str(to));
}

// ── map / unmap of one range (__iommu_dma_map, __iommu_dma_unmap) ──

function __iommu_dma_map(
  dev: Device,
  domain: IommuDomain,
  phys: number,
  size: number,
  prot: number,
  dma_mask: number,
): number {
  const cookie = iommu_dma_cookie(domain, dev);
  if (!cookie) return DMA_MAPPING_ERROR;
  const iovad = cookie.iovad;
  const iova_off = iovad.iova_offset(phys);
  const len = iovad.iova_align(size + iova_off);
  const iova = iommu_dma_alloc_iova(domain, cookie, len, dma_mask, dev);
  if (!iova) return DMA_MAPPING_ERROR;
  if (iommu_map(domain, iova, phys - iova_off, len, prot)) {
    iommu_dma_free_iova(domain, cookie, iova, len, null);
    return DMA_MAPPING_ERROR;
  }
  return iova + iova_off;
}

/**
 * Unmap without waiting for the TLB when the domain is lazy (gather.queued: the core skips the
 * sync, drivers skip their per-page invalidations, the flush queue flushes later); strict
 * domains sync at once and free the IOVA after.
 */
function __iommu_dma_unmap(dev: Device, domain: IommuDomain, dma_addr: number, size: number): void {
  const cookie = iommu_dma_cookie(domain, dev);
  if (!cookie) return;
  const iovad = cookie.iovad;
  const iova_off = iovad.iova_offset(dma_addr);
  dma_addr -= iova_off;
  size = iovad.iova_align(size + iova_off);
  const gather = iommu_iotlb_gather_init();
  gather.queued = cookie.fq !== null;
  // A short unmap is a WARN in Linux; the core raises unmap-of-hole for it.
  iommu_unmap_fast(domain, dma_addr, size, gather);
  if (!gather.queued) iommu_iotlb_sync(domain, gather);
  iommu_dma_free_iova(domain, cookie, dma_addr, size, gather);
}

// ── one buffer (iommu_dma_map_page, iommu_dma_unmap_page) ──

/**
 * Map [phys, phys + size) for `dev`: an untrusted device's buffer that does not fill its granules is
 * bounced first (bounce.ts), and the bounce buffer is what gets mapped. When that map fails the bounce
 * buffer is given back as Linux gives it back (swiotlb_tbl_unmap_single, which copies it to the
 * original buffer for DMA_FROM_DEVICE and DMA_BIDIRECTIONAL).
 */
function iommu_dma_map_page(
  dev: Device,
  domain: IommuDomain,
  phys: number,
  size: number,
  dir: number,
): number {
  const cookie = iommu_dma_cookie(domain, dev);
  if (!cookie) return DMA_MAPPING_ERROR;
  if (iommu_dma_needs_bounce(dev, cookie.iovad, phys, size)) {
    phys = iommu_dma_map_swiotlb(dev, cookie.iovad, phys, size, dir);
    if (phys === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
  }
  const iova = __iommu_dma_map(dev, domain, phys, size, dma_info_to_prot(dir), dev.dma_mask);
  if (iova === DMA_MAPPING_ERROR && is_swiotlb_buffer(dev.machine, phys))
    swiotlb_tbl_unmap_single(dev, phys, size, dir);
  return iova;
}

/**
 * Unmap one buffer; a bounce buffer (found, as Linux finds it, by what the IOVA translates to) is
 * copied back and released after the IOVA is gone. iommu_dma_unmap_page WARNs and returns when
 * nothing is mapped there (a second unmap of one handle, a handle never mapped): the driver and the
 * IOVA allocator never see it.
 */
function iommu_dma_unmap_page(
  dev: Device,
  domain: IommuDomain,
  dma_handle: number,
  size: number,
  dir: number,
  skip_cpu_sync = false,
): void {
  const phys = iommu_iova_to_phys(domain, dma_handle);
  if (phys === 0) return;
  __iommu_dma_unmap(dev, domain, dma_handle, size);
  if (is_swiotlb_buffer(dev.machine, phys)) swiotlb_tbl_unmap_single(dev, phys, size, dir, skip_cpu_sync);
}

// ── the dma-debug style bookkeeping ──

const KIND_FN: Record<DmaMapKind, string> = {
  single: 'dma_map_single',
  sg: 'dma_map_sg',
  coherent: 'dma_alloc_coherent',
};

function record_map(dev: Device, rec: DmaMapRecord): void {
  const maps = dev_dma_state(dev).maps;
  const list = maps.get(rec.dma_addr);
  if (list) list.push(rec);
  else maps.set(rec.dma_addr, [rec]);
}

/**
 * Find and forget the mapping an unmap names; raise dma-unmap-mismatch, as CONFIG_DMA_API_DEBUG
 * reports it, when there is none, or its size or kind differ. Returns the record found (even a
 * mismatching one: dma-debug forgets it too), or null.
 */
function take_map(
  dev: Device,
  kind: DmaMapKind,
  fn: string,
  dma_addr: number,
  size: number,
  nents: number,
  /** The unmap's direction; -1 for dma_free_coherent, which has none. */
  dir: number,
): DmaMapRecord | null {
  const maps = dev_dma_state(dev).maps;
  const list = maps.get(dma_addr);
  const m = dev.machine;
  // Named, not positional: the calls take their arguments in different orders.
  const call = `${fn} of ${hex(dma_addr)}, size ${hex(size)}, for ${dev.name}`;
  if (!list) {
    raise_check(m, 'dma-unmap-mismatch', `${call}: ${dev.name} has no DMA mapping at ${hex(dma_addr)}`);
    return null;
  }
  let i = list.findIndex((r) => r.kind === kind && (kind === 'sg' ? r.nents === nents : r.size === size));
  if (i < 0) {
    i = 0;
    const r = list[0];
    const why =
      r.kind !== kind
        ? `it was mapped with ${KIND_FN[r.kind]}`
        : kind === 'sg'
          ? `it was mapped with ${r.nents} entries, unmapped with ${nents}`
          : `it was mapped with size ${hex(r.size)}`;
    raise_check(m, 'dma-unmap-mismatch', `${call}: ${why}`);
  } else if (dir >= 0 && list[i].dir !== dir) {
    raise_check(
      m,
      'dma-unmap-mismatch',
      `${call}: it was mapped ${DIR_NAMES[list[i].dir]}, unmapped ${DIR_NAMES[dir]}`,
    );
  }
  const [rec] = list.splice(i, 1);
  if (!list.length) maps.delete(dma_addr);
  return rec;
}

// ── dma_map_single / dma_unmap_single ──

/**
 * dma_capable for direct DMA: the device's mask reaches the whole buffer. Linux bounces what it does
 * not reach through swiotlb where one is set up; the lab models no swiotlb for direct DMA, so such a
 * mapping fails (dma_direct_map_page's DMA_MAPPING_ERROR without swiotlb).
 */
function dma_capable(dev: Device, paddr: number, size: number): boolean {
  return paddr + Math.max(size, 1) - 1 <= dev.dma_mask;
}

/**
 * dma_set_mask_and_coherent: 0, or -EIO for a mask the DMA ops cannot serve (dma_supported): direct
 * DMA needs at least the 24 bits of ZONE_DMA; iommu-dma takes any mask and allocates IOVAs below it.
 */
export function dma_set_mask_and_coherent(dev: Device, mask: number): number {
  if (dma_ops(dev).kind === 'direct' && mask < DMA_BIT_MASK(24)) return -EIO;
  dev.dma_mask = mask;
  return 0;
}

/** dma_map_single (dma_map_page_attrs): the DMA address for [paddr, paddr + size), or DMA_MAPPING_ERROR. */
export function dma_map_single(dev: Device, paddr: number, size: number, dir: number): number {
  check_dir(dir);
  const ops = dma_ops(dev);
  const dma =
    ops.kind === 'direct'
      ? dma_capable(dev, paddr, size)
        ? paddr
        : DMA_MAPPING_ERROR
      : iommu_dma_map_page(dev, ops.domain, paddr, size, dir);
  const t = dev.machine.trace;
  t.emit(ev.dma_map, t.str(dev.name), dir, paddr, size, dma);
  if (dma !== DMA_MAPPING_ERROR)
    record_map(
      dev,
      new DmaMapRecord('single', dma, size, paddr, 0, ops.kind === 'iommu' ? ops.domain : null, dir),
    );
  return dma;
}

export function dma_unmap_single(dev: Device, dma_addr: number, size: number, dir: number): void {
  check_dir(dir);
  const t = dev.machine.trace;
  t.emit(ev.dma_unmap, t.str(dev.name), dir, dma_addr, size);
  const rec = take_map(dev, 'single', 'dma_unmap_single', dma_addr, size, 0, dir);
  const domain = unmap_domain(dev, rec);
  if (domain) iommu_dma_unmap_page(dev, domain, dma_addr, size, dir);
}

/**
 * The domain an unmap acts on: the one the mapping was made in (Linux's iommu-dma always unmaps
 * from the default domain, which is where it mapped), else the current DMA domain; null for
 * dma-direct, which has nothing to undo.
 */
function unmap_domain(dev: Device, rec: DmaMapRecord | null): IommuDomain | null {
  if (rec) return rec.domain && !rec.domain.freed ? rec.domain : null;
  const ops = dma_ops(dev);
  return ops.kind === 'iommu' ? ops.domain : null;
}

// ── dma_map_sg / dma_unmap_sg ──

/**
 * dma_map_sg: the number of DMA segments, 0 on failure. dma-direct maps each entry at its physical
 * address. iommu-dma lays the whole list out in one IOVA range — each entry keeps its offset in
 * the granule, padded so no entry crosses the device's segment boundary — maps it with one
 * iommu_map_sg, then merges entries that continue each other into segments up to the maximum
 * segment size (__finalise_sg). Unused entries get dma_address DMA_MAPPING_ERROR, dma_length 0.
 */
export function dma_map_sg(dev: Device, sg: DmaSgEntry[], dir: number): number {
  check_dir(dir);
  const ops = dma_ops(dev);
  let count = 0;
  let iova = 0;
  let iova_len = 0;
  if (sg.length === 0) {
    // nothing to map: dma_map_sg returns 0
  } else if (ops.kind === 'direct') {
    // dma_direct_map_sg: an entry beyond the mask fails the whole list.
    if (sg.every((s) => dma_capable(dev, s.paddr, s.length))) {
      for (const s of sg) {
        s.dma_address = s.paddr;
        s.dma_length = s.length;
      }
      count = sg.length;
      iova = sg[0].paddr;
    }
  } else {
    const r = iommu_dma_map_sg(dev, ops.domain, sg, dir);
    count = r.count;
    iova = r.iova;
    iova_len = r.iova_len;
  }
  const t = dev.machine.trace;
  t.emit(
    ev.dma_map_sg,
    t.str(dev.name),
    dir,
    sg.length,
    count,
    iova,
    iova_len || sg.reduce((a, s) => a + s.length, 0),
  );
  if (count)
    record_map(
      dev,
      new DmaMapRecord(
        'sg',
        sg[0].dma_address!,
        iova_len,
        0,
        sg.length,
        ops.kind === 'iommu' ? ops.domain : null,
        dir,
      ),
    );
  return count;
}

function iommu_dma_map_sg(
  dev: Device,
  domain: IommuDomain,
  sg: DmaSgEntry[],
  dir: number,
): { count: number; iova: number; iova_len: number } {
  const fail = { count: 0, iova: 0, iova_len: 0 };
  if (dev_use_swiotlb(dev)) return iommu_dma_map_sg_swiotlb(dev, domain, sg, dir);
  const cookie = iommu_dma_cookie(domain, dev);
  if (!cookie) return fail;
  const iovad = cookie.iovad;
  const boundary = dev.bus === 'pci' ? PCI_SEG_BOUNDARY : Infinity;
  // Per entry: its offset in the granule and the IOVA space it takes (aligned, plus padding).
  const offs: number[] = [];
  const spans: number[] = [];
  const list: SgEntry[] = [];
  let iova_len = 0;
  for (let i = 0; i < sg.length; i++) {
    const s = sg[i];
    const off = iovad.iova_offset(s.paddr);
    const span = iovad.iova_align(s.length + off);
    // The single allocation is aligned to its size, so padding the previous entry up to the next
    // boundary keeps an entry that would straddle one clear of it.
    const pad = boundary === Infinity ? 0 : (boundary - (iova_len % boundary)) % boundary;
    if (pad && pad < span - 1) {
      spans[i - 1] += pad;
      list[i - 1].length += pad;
      iova_len += pad;
    }
    offs.push(off);
    spans.push(span);
    list.push({ paddr: s.paddr - off, length: span });
    iova_len += span;
  }
  // A list of empty entries takes no IOVA space (iommu_dma_map_sg: `if (!iova_len)`).
  if (!iova_len) return { count: __finalise_sg(dev, sg, offs, spans, 0, boundary), iova: 0, iova_len: 0 };
  const iova = iommu_dma_alloc_iova(domain, cookie, iova_len, dev.dma_mask, dev);
  if (!iova) return __invalidate_sg(sg);
  const ret = iommu_map_sg(domain, iova, list, dma_info_to_prot(dir));
  if (ret < 0 || ret < iova_len) {
    iommu_dma_free_iova(domain, cookie, iova, iova_len, null);
    return __invalidate_sg(sg);
  }
  return { count: __finalise_sg(dev, sg, offs, spans, iova, boundary), iova, iova_len };
}

/**
 * iommu_dma_map_sg_swiotlb: an untrusted device's list is mapped entry by entry, as dma_map_single
 * maps a buffer, so each entry that does not fill its granules is bounced on its own (Linux marks the
 * list, sg_dma_mark_swiotlb; the lab knows it from the device, whose trust does not change). When an
 * entry fails, the ones before it are unmapped without copying back and the list maps nothing.
 */
function iommu_dma_map_sg_swiotlb(
  dev: Device,
  domain: IommuDomain,
  sg: DmaSgEntry[],
  dir: number,
): { count: number; iova: number; iova_len: number } {
  for (let i = 0; i < sg.length; i++) {
    const s = sg[i];
    s.dma_address = iommu_dma_map_page(dev, domain, s.paddr, s.length, dir);
    if (s.dma_address === DMA_MAPPING_ERROR) {
      iommu_dma_unmap_sg_swiotlb(dev, domain, sg.slice(0, i), dir, true);
      return { count: 0, iova: 0, iova_len: 0 };
    }
    s.dma_length = s.length;
  }
  return { count: sg.length, iova: sg[0].dma_address!, iova_len: 0 };
}

function iommu_dma_unmap_sg_swiotlb(
  dev: Device,
  domain: IommuDomain,
  sg: DmaSgEntry[],
  dir: number,
  skip_cpu_sync = false,
): void {
  for (const s of sg)
    if (s.dma_address !== undefined)
      iommu_dma_unmap_page(dev, domain, s.dma_address, s.dma_length ?? 0, dir, skip_cpu_sync);
}

/** iommu_dma_map_sg's failure (out_restore_sg): every entry says it is not mapped. */
function __invalidate_sg(sg: DmaSgEntry[]): { count: number; iova: number; iova_len: number } {
  for (const s of sg) {
    s.dma_address = DMA_MAPPING_ERROR;
    s.dma_length = 0;
  }
  return { count: 0, iova: 0, iova_len: 0 };
}

/** Merge entries that start on a granule and continue the previous one into DMA segments. */
function __finalise_sg(
  dev: Device,
  sg: DmaSgEntry[],
  offs: number[],
  spans: number[],
  dma_addr: number,
  boundary: number,
): number {
  void dev;
  const max_len = DEFAULT_MAX_SEG_SIZE;
  let cur = -1;
  let cur_len = 0;
  let count = 0;
  for (const s of sg) {
    s.dma_address = DMA_MAPPING_ERROR;
    s.dma_length = 0;
  }
  for (let i = 0; i < sg.length; i++) {
    const off = offs[i];
    const len = sg[i].length;
    const atBoundary = boundary !== Infinity && dma_addr % boundary === 0;
    // `max_len - cur_len` is unsigned int arithmetic: after an entry longer than max_len it wraps,
    // and the next entry joins the segment (a driver bug CONFIG_DMA_API_DEBUG_SG reports; kept).
    if (cur_len && !off && !atBoundary && (max_len - cur_len) >>> 0 >= len) {
      cur_len += len;
    } else {
      cur++;
      cur_len = len;
      count++;
      sg[cur].dma_address = dma_addr + off;
    }
    sg[cur].dma_length = cur_len;
    dma_addr += spans[i];
    // An entry that does not fill its IOVA span ends the segment: the next cannot continue it.
    if (len + off < spans[i]) cur_len = 0;
  }
  return count;
}

export function dma_unmap_sg(dev: Device, sg: DmaSgEntry[], dir: number): void {
  check_dir(dir);
  // iommu_dma_unmap_sg: the IOVA range runs from the first DMA segment to the end of the last.
  let start = 0;
  let end = 0;
  for (let i = 0; i < sg.length; i++) {
    const s = sg[i];
    if (!s.dma_length || s.dma_address === undefined || s.dma_address === DMA_MAPPING_ERROR) break;
    if (i === 0) start = s.dma_address;
    end = s.dma_address + s.dma_length;
  }
  const t = dev.machine.trace;
  t.emit(ev.dma_unmap_sg, t.str(dev.name), dir, sg.length, start, end - start);
  const rec = take_map(dev, 'sg', 'dma_unmap_sg', sg[0]?.dma_address ?? 0, end - start, sg.length, dir);
  const domain = unmap_domain(dev, rec);
  if (domain && dev_use_swiotlb(dev)) iommu_dma_unmap_sg_swiotlb(dev, domain, sg, dir);
  else if (domain && end) __iommu_dma_unmap(dev, domain, start, end - start);
}

// ── dma_alloc_coherent / dma_free_coherent ──

/**
 * dma_alloc_coherent: zeroed RAM (rounded up to whole pages) mapped for the device both ways.
 * `cpu_addr` is the physical address (the lab has no kernel virtual addresses). null on failure.
 * Through an IOMMU only `size` rounded up to the IOVA granule is mapped, as iommu_dma_alloc maps
 * it: with a granule below the CPU page (a virtio page_size_mask of 2K) the device does not reach
 * the rest of the last page.
 */
export function dma_alloc_coherent(
  dev: Device,
  size: number,
): { cpu_addr: number; dma_handle: number } | null {
  const ops = dma_ops(dev);
  const m = dev.machine;
  const alloc = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
  let cpu_addr = 0;
  let dma = DMA_MAPPING_ERROR;
  // Direct: pages the mask reaches (the allocator's ZONE_DMA32/ZONE_DMA); through an IOMMU: any.
  if (size > 0)
    cpu_addr = m.mem.alloc_pages(alloc, PAGE_SIZE, ops.kind === 'direct' ? dev.dma_mask + 1 : Infinity);
  if (cpu_addr) {
    if (ops.kind === 'direct') dma = cpu_addr;
    else
      dma = __iommu_dma_map(
        dev,
        ops.domain,
        cpu_addr,
        size,
        dma_info_to_prot(DMA_BIDIRECTIONAL),
        dev.dma_mask,
      );
    if (dma === DMA_MAPPING_ERROR) {
      m.mem.free_pages(cpu_addr, alloc);
      cpu_addr = 0;
    }
  }
  const t = m.trace;
  t.emit(ev.dma_alloc, t.str(dev.name), cpu_addr, dma, size);
  if (!cpu_addr) return null;
  record_map(
    dev,
    new DmaMapRecord('coherent', dma, size, cpu_addr, 0, ops.kind === 'iommu' ? ops.domain : null),
  );
  return { cpu_addr, dma_handle: dma };
}

export function dma_free_coherent(dev: Device, size: number, cpu_addr: number, dma_handle: number): void {
  const m = dev.machine;
  const t = m.trace;
  t.emit(ev.dma_free, t.str(dev.name), cpu_addr, dma_handle, size);
  const rec = take_map(dev, 'coherent', 'dma_free_coherent', dma_handle, size, 0, -1);
  const domain = unmap_domain(dev, rec);
  if (domain) __iommu_dma_unmap(dev, domain, dma_handle, size);
  // Linux frees whatever pages cpu_addr names; the lab frees only the block it handed out, so a
  // wrong cpu_addr or size (reported above) cannot corrupt the page allocator.
  if (rec && rec.paddr === cpu_addr) m.mem.free_pages(cpu_addr, Math.ceil(rec.size / PAGE_SIZE) * PAGE_SIZE);
  else if (rec)
    raise_check(
      m,
      'dma-unmap-mismatch',
      `dma_free_coherent(${dev.name}): cpu_addr ${hex(cpu_addr)} is not ${hex(rec.paddr)}, the buffer allocated with DMA handle ${hex(dma_handle)}`,
    );
}

// ── for panels and tests ──

/** The IOVA ranges of a DMA domain's allocator (reserved, live, cached, queued), or [] before first use. */
export function dma_iova_ranges(domain: IommuDomain): { start: number; end: number; state: string }[] {
  const cookie = domain.dma_cookie as IommuDmaCookie | null;
  if (!cookie) return [];
  const g = cookie.iovad.granule;
  return cookie.iovad
    .ranges()
    .map((r) => ({ start: r.pfn_lo * g, end: (r.pfn_hi + 1) * g - 1, state: r.state }));
}

/** Entries waiting in a lazy domain's flush queue. */
export function dma_fq_length(domain: IommuDomain): number {
  return (domain.dma_cookie as IommuDmaCookie | null)?.fq?.entries.length ?? 0;
}
