/**
 * intel-iommu events. Queued-invalidation descriptors carry the names of QEMU's hw/i386/trace-events
 * (vtd_inv_desc_*), so a trace from the lab reads like one from a guest under QEMU's VT-d. A
 * descriptor's domain is the hardware's domain ID, `did` (`domain` in an event is the lab's domain).
 */
import { defineEvent } from '../../trace/events.ts';

export const ev = {
  /** IOTLB invalidate descriptor, global granularity. */
  iotlb_global: defineEvent('vtd_inv_desc_iotlb_global', 'command', ['iommu:s']),
  /** IOTLB invalidate descriptor, domain-selective (DSI). */
  iotlb_domain: defineEvent('vtd_inv_desc_iotlb_domain', 'command', ['iommu:s', 'did:u']),
  /** IOTLB invalidate descriptor, page-selective (PSI): 2^mask 4 KiB pages from addr. */
  iotlb_pages: defineEvent('vtd_inv_desc_iotlb_pages', 'command', ['iommu:s', 'did:u', 'addr:x', 'mask:u']),
  /** PASID-based IOTLB invalidate descriptor, page-selective within a PASID (first-stage domains). */
  iotlb_pasid_pages: defineEvent('vtd_inv_desc_iotlb_pasid_pages', 'command', [
    'iommu:s',
    'did:u',
    'addr:x',
    'mask:u',
    'pasid:u',
  ]),
  /** PASID-based IOTLB invalidate descriptor, PASID-selective (every non-global entry of the PASID). */
  iotlb_pasid: defineEvent('vtd_inv_desc_iotlb_pasid', 'command', ['iommu:s', 'did:u', 'pasid:u']),
  /** Context-cache invalidate descriptor, device-selective. */
  cc_device: defineEvent('vtd_inv_desc_cc_device', 'command', ['iommu:s', 'device:s', 'did:u']),
  /**
   * PASID-cache invalidate descriptor (type 0x7), PASID-selective within a domain: what scalable
   * mode issues for a PASID entry (QEMU names it vtd_pasid_cache_psi).
   */
  pc_pasid: defineEvent('vtd_pasid_cache_psi', 'command', ['iommu:s', 'did:u', 'pasid:u']),
  /** Invalidation wait descriptor with a status write: everything queued before it has completed. */
  wait: defineEvent('vtd_inv_desc_wait_sw', 'command', ['iommu:s', 'descs:u']),
  /**
   * A context entry written (in scalable mode the RID_PASID entry of the device's PASID table):
   * translation type 'sl', 'fl', 'pt' or 'blocked' (not present).
   */
  context: defineEvent('vtd_context_entry', 'command', [
    'iommu:s',
    'device:s',
    'type:s',
    'did:u',
    'levels:u',
  ]),
  /** A domain ID taken for a domain on this unit (domain_attach_iommu) or given back. */
  did_alloc: defineEvent('vtd_domain_id_alloc', 'call', ['iommu:s', 'domain:u', 'did:u']),
  did_free: defineEvent('vtd_domain_id_free', 'call', ['iommu:s', 'domain:u', 'did:u']),
  /** A legacy domain, made at 57 bits, fitted to the unit it is attached to (prepare_domain_attach_device). */
  trim: defineEvent('vtd_domain_trim', 'call', ['domain:u', 'gaw:u', 'levels:u', 'superpages:u']),
};
