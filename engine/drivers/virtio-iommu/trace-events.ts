/**
 * virtio-iommu events. The host side keeps the names of QEMU's hw/virtio/trace-events
 * (virtio_iommu_attach, virtio_iommu_map, virtio_iommu_put_domain...), with the status the request
 * got appended; the guest side is named after the Linux driver's functions (viommu_add_req...).
 */
import { defineEvent } from '../../trace/events.ts';

export const ev = {
  // ── guest (drivers/iommu/virtio-iommu.c) ──
  probe: defineEvent('viommu_probe', 'call', [
    'viommu:s',
    'ret:i',
    'pgsize_bitmap:x',
    'first_domain:u',
    'last_domain:u',
  ]),
  finalise: defineEvent('viommu_domain_finalise', 'call', [
    'viommu:s',
    'domain:u',
    'id:u',
    'bypass:b',
    'ret:i',
  ]),
  /** A request put on the request queue without a kick. */
  add_req: defineEvent('viommu_add_req', 'virtio', [
    'viommu:s',
    'type:s',
    'domain:u',
    'start:x',
    'end:x',
    'queued:u',
  ]),
  /** The driver kicked the request queue and waited: the host processed `requests` requests. */
  kick: defineEvent('viommu_sync_req', 'virtio', ['viommu:s', 'requests:u']),
  /** sync_req completed a queued request that failed; nobody reads its status (facts §5.1). */
  status_lost: defineEvent('viommu_req_status_lost', 'virtio', [
    'viommu:s',
    'type:s',
    'domain:u',
    'start:x',
    'end:x',
    'status:s',
  ]),

  // ── host (QEMU hw/virtio/virtio-iommu.c) ──
  attach: defineEvent('virtio_iommu_attach', 'virtio', ['domain:u', 'endpoint:u', 'flags:u', 'status:s']),
  detach: defineEvent('virtio_iommu_detach', 'virtio', ['domain:u', 'endpoint:u', 'status:s']),
  map: defineEvent('virtio_iommu_map', 'virtio', [
    'domain:u',
    'virt_start:x',
    'virt_end:x',
    'phys_start:x',
    'flags:u',
    'status:s',
  ]),
  unmap: defineEvent('virtio_iommu_unmap', 'virtio', ['domain:u', 'virt_start:x', 'virt_end:x', 'status:s']),
  unmap_done: defineEvent('virtio_iommu_unmap_done', 'virtio', ['domain:u', 'virt_start:x', 'virt_end:x']),
  probe_req: defineEvent('virtio_iommu_probe', 'virtio', ['endpoint:u', 'properties:u', 'status:s']),
  fill_resv: defineEvent('virtio_iommu_fill_resv_property', 'virtio', [
    'endpoint:u',
    'subtype:u',
    'start:x',
    'end:x',
  ]),
  get_endpoint: defineEvent('virtio_iommu_get_endpoint', 'virtio', ['endpoint:u']),
  get_domain: defineEvent('virtio_iommu_get_domain', 'virtio', ['domain:u', 'bypass:b']),
  /** The domain ceased to exist, with its mappings (last endpoint left, facts §5.1). */
  put_domain: defineEvent('virtio_iommu_put_domain', 'virtio', ['domain:u', 'mappings:u']),
};
