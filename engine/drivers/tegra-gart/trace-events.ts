/**
 * tegra-gart events, named after the driver's register accessors (tegra-gart.c as of v6.6): the
 * GART's entries are written and read through the GART_ENTRY_ADDR / GART_ENTRY_DATA pair.
 */
import { defineEvent } from '../../trace/events.ts';

export const ev = {
  /** gart_set_pte: GART_ENTRY_ADDR = iova, GART_ENTRY_DATA = pte (0 clears the entry). */
  set_pte: defineEvent('gart_set_pte', 'command', ['gart:s', 'iova:x', 'pte:x']),
  /** FLUSH_GART_REGS: a read of GART_CONFIG so posted register writes reach the GART. No cache is touched. */
  flush_regs: defineEvent('gart_flush_regs', 'command', ['gart:s']),
  /** do_gart_setup at probe: every entry cleared, GART_CONFIG = 1 (translation on). */
  setup: defineEvent('gart_setup', 'command', ['gart:s', 'base:x', 'size:x']),
  /** A WARN_ON in the driver (gart_iommu_domain_free of the active domain). */
  warn: defineEvent('gart_warn', 'call', ['what:s']),
};
