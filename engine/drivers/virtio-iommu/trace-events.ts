/**
 * virtio-iommu events. The host side keeps the names, fields and places of QEMU's
 * hw/virtio/trace-events (virtio_iommu_attach, virtio_iommu_map, virtio_iommu_put_domain...): a
 * request is traced as it starts, what it does follows, and the lab's virtio_iommu_req_tail ends it
 * with the status. The guest side is named after the Linux driver's functions (viommu_add_req...).
 * A request's domain is the virtio domain ID, `domain_id` as in QEMU (`domain` in an event is the
 * lab's domain).
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
    'domain_id:u',
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
    'domain_id:u',
    'start:x',
    'end:x',
    'status:s',
  ]),

  // ── host (QEMU hw/virtio/virtio-iommu.c) ──
  /** On entry to the request (QEMU's has no flags; the lab adds them). */
  attach: defineEvent('virtio_iommu_attach', 'virtio', ['domain_id:u', 'endpoint:u', 'flags:u']),
  /** On entry to the request. */
  detach: defineEvent('virtio_iommu_detach', 'virtio', ['domain_id:u', 'endpoint:u']),
  /** A MAP that passed every check, before the insert: a refused MAP has only its tail. */
  map: defineEvent('virtio_iommu_map', 'virtio', [
    'domain_id:u',
    'virt_start:x',
    'virt_end:x',
    'phys_start:x',
    'flags:u',
  ]),
  /** On entry to the request; one unmap_done follows for each mapping it removes. */
  unmap: defineEvent('virtio_iommu_unmap', 'virtio', ['domain_id:u', 'virt_start:x', 'virt_end:x']),
  unmap_done: defineEvent('virtio_iommu_unmap_done', 'virtio', ['domain_id:u', 'virt_start:x', 'virt_end:x']),
  /** On entry to a PROBE (the lab's: QEMU traces only the properties it fills). */
  probe_req: defineEvent('virtio_iommu_probe', 'virtio', ['endpoint:u']),
  fill_resv: defineEvent('virtio_iommu_fill_resv_property', 'virtio', [
    'endpoint:u',
    'subtype:u',
    'start:x',
    'end:x',
  ]),
  get_endpoint: defineEvent('virtio_iommu_get_endpoint', 'virtio', ['endpoint:u']),
  get_domain: defineEvent('virtio_iommu_get_domain', 'virtio', ['domain_id:u', 'bypass:b']),
  /** The domain ceased to exist, with its mappings (last endpoint left, facts §5.1). */
  put_domain: defineEvent('virtio_iommu_put_domain', 'virtio', ['domain_id:u', 'mappings:u']),
  /**
   * The lab's: the status the device wrote in the request's tail (virtio_iommu_req_tail), after
   * every event of the request. `domain_id` is the request's (0 for PROBE, which has none).
   */
  req_tail: defineEvent('virtio_iommu_req_tail', 'virtio', ['type:s', 'domain_id:u', 'status:s']),
};
