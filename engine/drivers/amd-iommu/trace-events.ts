/**
 * amd-iommu events. Commands carry the names of QEMU's AMD-Vi trace points (hw/i386/trace-events:
 * amdvi_completion_wait, amdvi_devtab_inval, amdvi_pages_inval, amdvi_all_inval).
 */
import { defineEvent } from '../../trace/events.ts';

export const ev = {
  /** INVALIDATE_IOMMU_PAGES for a domain: `size` bytes from `addr` (S bit set when more than a page); size 0 = all pages. */
  pages_inval: defineEvent('amdvi_pages_inval', 'command', ['iommu:s', 'domid:u', 'addr:x', 'size:x']),
  /** INVALIDATE_DEVTAB_ENTRY: the IOMMU rereads a device's DTE. */
  devtab_inval: defineEvent('amdvi_devtab_inval', 'command', ['iommu:s', 'device:s']),
  /** INVALIDATE_IOMMU_ALL: every cached translation on the IOMMU. */
  all_inval: defineEvent('amdvi_all_inval', 'command', ['iommu:s']),
  /** COMPLETION_WAIT: the sync; `cmds` commands were queued before it. */
  completion_wait: defineEvent('amdvi_completion_wait', 'command', ['iommu:s', 'cmds:u']),
  /** A device table entry written: mode 0 = pass-through, 'blocked' = V/TV with no permissions. */
  set_dte: defineEvent('amdvi_set_dte', 'command', ['iommu:s', 'device:s', 'type:s', 'domid:u', 'mode:u']),
  /** A protection-domain ID taken or given back (the global ID bitmap). */
  pd_id_alloc: defineEvent('amdvi_pdom_id_alloc', 'call', ['domain:u', 'domid:u']),
  pd_id_free: defineEvent('amdvi_pdom_id_free', 'call', ['domain:u', 'domid:u']),
};
