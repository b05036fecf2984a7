/**
 * The core's trace events. Names follow Linux's iommu tracepoints (include/trace/events/iommu.h:
 * add_device_to_group, attach_device_to_domain, map, unmap, io_page_fault) where one exists.
 */
import { defineEvent } from '../trace/events.ts';

export const ev = {
  add_device_to_group: defineEvent('add_device_to_group', 'call', ['group:u', 'device:s']),
  remove_device_from_group: defineEvent('remove_device_from_group', 'call', ['group:u', 'device:s']),
  domain_alloc: defineEvent('iommu_domain_alloc', 'call', ['domain:u', 'type:u', 'driver:s', 'instance:s']),
  domain_free: defineEvent('iommu_domain_free', 'call', ['domain:u']),
  /** After a successful attach only, as trace_attach_device_to_domain (Linux has the device alone). */
  attach_device_to_domain: defineEvent('attach_device_to_domain', 'call', ['device:s', 'domain:u']),
  map: defineEvent('map', 'call', ['domain:u', 'iova:x', 'paddr:x', 'size:x', 'ret:i']),
  map_pages: defineEvent('map_pages', 'call', [
    'domain:u',
    'iova:x',
    'paddr:x',
    'pgsize:x',
    'pgcount:u',
    'ret:i',
  ]),
  unmap: defineEvent('unmap', 'call', ['domain:u', 'iova:x', 'size:x', 'unmapped_size:x']),
  unmap_pages: defineEvent('unmap_pages', 'call', [
    'domain:u',
    'iova:x',
    'pgsize:x',
    'pgcount:u',
    'unmapped:x',
  ]),
  iotlb_sync_map: defineEvent('iotlb_sync_map', 'call', ['domain:u', 'iova:x', 'size:x', 'ret:i']),
  iotlb_sync: defineEvent('iotlb_sync', 'call', ['domain:u', 'start:x', 'end:x', 'pgsize:x']),
  flush_iotlb_all: defineEvent('flush_iotlb_all', 'call', ['domain:u']),
  /** A direct region about to be mapped 1:1, page by page where nothing is mapped yet (facts §3.3). */
  direct_mapping: defineEvent('iommu_create_device_direct_mapping', 'call', [
    'domain:u',
    'device:s',
    'start:x',
    'length:x',
  ]),
  dma_access: defineEvent('dma_access', 'dma', [
    'device:s',
    'iova:x',
    'length:x',
    'write:b',
    'pa:x',
    'tlb:s',
  ]),
  io_page_fault: defineEvent('io_page_fault', 'fault', ['device:s', 'iova:x', 'write:b', 'reason:s']),
  check: defineEvent('check', 'check', ['id:s', 'message:s']),
  /** A driver made default DMA domains strict (iommu_set_dma_strict), `why` in its own pr_info words. */
  set_dma_strict: defineEvent('iommu_set_dma_strict', 'call', ['driver:s', 'why:s']),
  resv_region: defineEvent('resv_region', 'call', ['device:s', 'start:x', 'length:x', 'type:u']),
};
