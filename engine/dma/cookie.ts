/**
 * The DMA cookie of a DMA or DMA-FQ domain (struct iommu_dma_cookie) and its setup,
 * iommu_dma_init_domain (facts §4.1): the IOVA allocator over the domain's granule and aperture,
 * the reserved regions kept out of it, and the flush queue when the domain is lazy.
 */
import { raise_check } from '../core/checks.ts';
import { IOMMU_DOMAIN_DMA_FQ, IOMMU_RESV_SW_MSI } from '../core/constants.ts';
import type { Device } from '../core/device.ts';
import type { IommuDomain } from '../core/domain.ts';
import { hex } from '../core/format.ts';
import { bitmap_min_size } from '../core/pgsize.ts';
import { device_resv_regions } from '../core/resv.ts';
import { PAGE_SIZE } from '../mem/phys-mem.ts';
import {
  IOVA_DEFAULT_FQ_SIZE,
  IOVA_DEFAULT_FQ_TIMEOUT,
  IOVA_SINGLE_FQ_SIZE,
  IOVA_SINGLE_FQ_TIMEOUT,
  IovaFq,
} from './flush-queue.ts';
import { IovaDomain } from './iova.ts';
import { ev } from './trace-events.ts';

export class IommuDmaCookie {
  /** Flush queue; null for a strict (DMA) domain. */
  fq: IovaFq | null = null;
  fq_timeout = IOVA_DEFAULT_FQ_TIMEOUT;
  fq_flush_start_cnt = 0;
  fq_flush_finish_cnt = 0;
  fq_timer_on = false;

  constructor(readonly iovad: IovaDomain) {}
}

/**
 * The cookie of `domain`, made on first use by `dev` (Linux makes it at default-domain setup; the
 * lab waits for the first DMA-API call, which gives the same allocator). null when the domain
 * cannot back the DMA API: no page sizes yet, or a granule larger than the CPU page, where
 * init_iova_domain's BUG_ON(granule > PAGE_SIZE) stops the kernel (said once, as kernel-oops).
 */
export function iommu_dma_cookie(domain: IommuDomain, dev: Device): IommuDmaCookie | null {
  let cookie = domain.dma_cookie as IommuDmaCookie | null;
  if (!cookie) {
    const granule = bitmap_min_size(domain.pgsize_bitmap);
    if (!granule) return null;
    if (granule > PAGE_SIZE) {
      // Said once per domain: a later call finds the check already in the log.
      const bug = `init_iova_domain BUG_ON: domain ${domain.id}'s IOVA granule`;
      if (!dev.machine.checks.some((c) => c.id === 'kernel-oops' && c.message.startsWith(bug)))
        raise_check(
          dev.machine,
          'kernel-oops',
          `${bug} (${hex(granule)}, its smallest page size) is larger than the CPU page (${hex(PAGE_SIZE)}), ` +
            `so the DMA API cannot use it`,
        );
      return null;
    }
    const g = domain.geometry;
    // IOVA 0 is never handed out: 0 means failure to alloc_iova_fast's callers.
    let base_pfn = 1;
    if (g.force_aperture) base_pfn = Math.max(base_pfn, Math.floor(g.aperture_start / granule));
    cookie = new IommuDmaCookie(new IovaDomain(granule, base_pfn, domain));
    if (domain.type === IOMMU_DOMAIN_DMA_FQ) {
      // iommu_dma_init_options: an IOMMU that shadows its tables on flush (s390) takes one big
      // queue and a long timeout, so flushes stay rare.
      const single = dev.shadow_on_flush;
      cookie.fq = new IovaFq(single ? IOVA_SINGLE_FQ_SIZE : IOVA_DEFAULT_FQ_SIZE);
      cookie.fq_timeout = single ? IOVA_SINGLE_FQ_TIMEOUT : IOVA_DEFAULT_FQ_TIMEOUT;
    }
    domain.dma_cookie = cookie;
    // Linux initialises the cookie when the domain's first device is set up: that device's
    // regions are reserved, and a later device finds the cookie ready and reserves nothing.
    iova_reserve_iommu_regions(domain, cookie, domain.devices[0] ?? dev);
  }
  return cookie;
}

/**
 * iova_reserve_iommu_regions: every reserved region of the device except SW_MSI (where software
 * maps MSI doorbells with ordinary IOVAs) is taken out of the allocator. Only the device whose
 * setup initialised the cookie is asked (iommu_dma_init_domain returns early for the others), so
 * a region only a later group member has can be handed out as IOVA: the map that follows raises
 * map-overlaps-reserved.
 */
function iova_reserve_iommu_regions(domain: IommuDomain, cookie: IommuDmaCookie, dev: Device): void {
  const iovad = cookie.iovad;
  const t = domain.machine.trace;
  for (const r of device_resv_regions(dev)) {
    if (r.type === IOMMU_RESV_SW_MSI) continue;
    iovad.reserve_iova(iovad.iova_pfn(r.start), iovad.iova_pfn(r.start + r.length - 1));
    t.emit(ev.iova_reserve, domain.id, r.start, r.start + r.length - 1, t.str(dev.name));
  }
}
