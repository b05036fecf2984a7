/**
 * omap-iommu events, named after the MMU registers the driver writes (MMU_TTB, MMU_CNTL,
 * MMU_FLUSH_ENTRY, MMU_GFLUSH in omap-iommu.h) and the driver functions that write them.
 */
import { defineEvent } from '../../trace/events.ts';

export const ev = {
  /** omap_iommu_attach → omap2_iommu_enable: MMU_TTB = the L1 table, MMU_CNTL = MMU_EN | TWL_EN. */
  enable: defineEvent('omap_iommu_enable', 'command', ['mmu:s', 'ttb:x', 'domain:u']),
  /** omap_iommu_detach → omap2_iommu_disable: MMU_CNTL.MMU_EN cleared, translation off. */
  disable: defineEvent('omap_iommu_disable', 'command', ['mmu:s']),
  /**
   * flush_iotlb_page: the driver reads every TLB entry back (MMU_READ_CAM) and writes
   * MMU_FLUSH_ENTRY for the first valid one that covers `da`; `found` says whether one did.
   */
  flush_entry: defineEvent('omap_iommu_flush_entry', 'command', ['mmu:s', 'da:x', 'found:b']),
  /** flush_iotlb_all: MMU_GFLUSH, every unlocked TLB entry goes. */
  gflush: defineEvent('omap_iommu_gflush', 'command', ['mmu:s']),
  /** iopgtable_clear_entry_all at detach: every L1 entry zeroed and every L2 table freed. */
  clear_all: defineEvent('omap_iommu_clear_entry_all', 'call', ['mmu:s', 'domain:u', 'lost:u']),
};
