/**
 * DMA-API events. dma_map_phys/dma_unmap_phys, dma_map_sg/dma_unmap_sg and dma_alloc/dma_free
 * follow include/trace/events/dma.h (newer kernels name the single-mapping pair dma_map_phys and
 * dma_unmap_phys; older ones dma_map_page). dma-iommu and iova.c have no tracepoints, so the IOVA
 * allocator and flush queue events carry plain descriptive names.
 */
import { defineEvent } from '../trace/events.ts';

export const ev = {
  /** dma_addr is DMA_MAPPING_ERROR when the mapping failed. */
  dma_map: defineEvent('dma_map_phys', 'dma', ['device:s', 'dir:u', 'phys_addr:x', 'size:x', 'dma_addr:x']),
  dma_unmap: defineEvent('dma_unmap_phys', 'dma', ['device:s', 'dir:u', 'dma_addr:x', 'size:x']),
  /** ents: DMA segments produced (0 on failure); dma_addr/length: the IOVA range or first segment. */
  dma_map_sg: defineEvent('dma_map_sg', 'dma', [
    'device:s',
    'dir:u',
    'nents:u',
    'ents:u',
    'dma_addr:x',
    'length:x',
  ]),
  dma_unmap_sg: defineEvent('dma_unmap_sg', 'dma', [
    'device:s',
    'dir:u',
    'nents:u',
    'dma_addr:x',
    'length:x',
  ]),
  dma_alloc: defineEvent('dma_alloc', 'dma', ['device:s', 'phys_addr:x', 'dma_addr:x', 'size:x']),
  dma_free: defineEvent('dma_free', 'dma', ['device:s', 'phys_addr:x', 'dma_addr:x', 'size:x']),
  /** from: 'rcache' (a recently freed range of the same order) or 'tree' (a fresh top-down search). */
  iova_alloc: defineEvent('iova_alloc', 'dma', ['domain:u', 'iova:x', 'size:x', 'limit:x', 'from:s']),
  /** to: 'rcache' or 'tree'. */
  iova_free: defineEvent('iova_free', 'dma', ['domain:u', 'iova:x', 'size:x', 'to:s']),
  iova_reserve: defineEvent('iova_reserve', 'dma', ['domain:u', 'start:x', 'end:x', 'device:s']),
  /**
   * A magazine of the rcache of `size`-byte ranges went back to the tree: its `pfns` ranges are free
   * again. reason: 'full' (v6.6: the depot already held MAX_GLOBAL_MAGS magazines) or 'work'
   * (v6.7+: iova_depot_work_func trimmed the depot); depot: magazines left in the depot.
   */
  iova_magazine_free: defineEvent('iova_magazine_free', 'dma', [
    'domain:u',
    'size:x',
    'pfns:u',
    'depot:u',
    'reason:s',
  ]),
  /** counter: the flush count the entry waits for; queued: entries in the queue after this one. */
  fq_enqueue: defineEvent('fq_enqueue', 'dma', ['domain:u', 'iova:x', 'size:x', 'counter:u', 'queued:u']),
  /** reason: 'full' (the ring had no room) or 'timeout' (the queue timer fired); freed: entries released. */
  fq_flush: defineEvent('fq_flush', 'dma', ['domain:u', 'reason:s', 'freed:u']),
  /**
   * Linux's tracepoint swiotlb_bounced (include/trace/events/swiotlb.h): a mapping of an untrusted
   * device goes through a bounce buffer; dev_addr is the original buffer's physical address.
   */
  swiotlb_bounced: defineEvent('swiotlb_bounced', 'dma', ['device:s', 'dev_addr:x', 'size:x']),
  /** The default pool (io_tlb_default_mem) set up, on the first bounce: [start, start + size) in RAM. */
  swiotlb_init: defineEvent('swiotlb_init', 'dma', ['start:x', 'size:x']),
  /**
   * swiotlb_find_slots: `size` bytes of slots for the buffer at orig_addr, starting at tlb_addr
   * (DMA_MAPPING_ERROR when the pool had no room: "swiotlb buffer is full"); used: slots in use after.
   */
  swiotlb_find_slots: defineEvent('swiotlb_find_slots', 'dma', [
    'device:s',
    'orig_addr:x',
    'tlb_addr:x',
    'size:x',
    'used:u',
  ]),
  swiotlb_release_slots: defineEvent('swiotlb_release_slots', 'dma', [
    'device:s',
    'tlb_addr:x',
    'size:x',
    'used:u',
  ]),
  /** swiotlb_bounce: a copy between the original buffer and the bounce buffer; to: 'device' or 'cpu'. */
  swiotlb_bounce: defineEvent('swiotlb_bounce', 'dma', [
    'device:s',
    'orig_addr:x',
    'tlb_addr:x',
    'size:x',
    'to:s',
  ]),
  /** dma-iommu zeroed [start, start + size) of a bounce buffer, so the device never sees what was there. */
  swiotlb_zero: defineEvent('swiotlb_zero', 'dma', ['device:s', 'start:x', 'size:x']),
};
