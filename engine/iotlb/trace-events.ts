/**
 * IOTLB trace events (kind 'tlb'): fills, evictions, invalidations and entries made stale.
 * Hits and misses are the translating layer's to record (it knows the device and the access).
 * Names after QEMU's smmu_iotlb_* / vtd_iotlb_* trace points.
 */
import { defineEvent } from '../trace/events.ts';

export const ev = {
  insert: defineEvent('iotlb_insert', 'tlb', ['iommu:s', 'tag:u', 'iova:x', 'size:x', 'pa:x', 'prot:u']),
  /** A cached not-present translation (virtual VT-d caching mode, AMD NpCache). */
  insert_negative: defineEvent('iotlb_insert_negative', 'tlb', ['iommu:s', 'tag:u', 'iova:x', 'size:x']),
  /** The least recently used entry made room for a new one. */
  evict: defineEvent('iotlb_evict', 'tlb', ['iommu:s', 'tag:u', 'iova:x', 'size:x', 'stale:b']),
  /** The tables changed under `count` entries overlapping [iova, iova+size); they stay until invalidated. */
  mark_stale: defineEvent('iotlb_mark_stale', 'tlb', ['iommu:s', 'tag:u', 'iova:x', 'size:x', 'count:u']),
  /**
   * A map over [iova, iova+size) left the tables holding again exactly what `count` stale entries
   * there cache (the same leaf mapped back before the invalidation): they are current again.
   */
  revalidate: defineEvent('iotlb_revalidate', 'tlb', ['iommu:s', 'tag:u', 'iova:x', 'size:x', 'count:u']),
  /** tag -1: every tag (SMMU TLBI_NH_VAA). */
  invalidate_range: defineEvent('iotlb_invalidate_range', 'tlb', [
    'iommu:s',
    'tag:i',
    'iova:x',
    'size:x',
    'removed:u',
  ]),
  invalidate_tag: defineEvent('iotlb_invalidate_tag', 'tlb', ['iommu:s', 'tag:u', 'removed:u']),
  invalidate_all: defineEvent('iotlb_invalidate_all', 'tlb', ['iommu:s', 'removed:u']),
};
