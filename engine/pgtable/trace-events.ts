/**
 * The page-table engine's trace events (kind 'pte'). One event per run of leaves written or
 * cleared in one table, never one per PTE, so a 1 GiB map costs a few hundred events.
 * Names follow io-pgtable's functions (arm_lpae_split_blk_unmap, increase_address_space).
 */
import { defineEvent } from '../trace/events.ts';

export const ev = {
  /** `count` leaves of `pgsize` bytes written from `iova`/`pa` in one table at `level` (the format's numbering). */
  map: defineEvent('pgtable_map', 'pte', ['domain:u', 'iova:x', 'pa:x', 'pgsize:x', 'count:u', 'level:u']),
  /** `count` entries of `pgsize` bytes cleared from `iova` in one table at `level`. */
  unmap: defineEvent('pgtable_unmap', 'pte', ['domain:u', 'iova:x', 'pgsize:x', 'count:u', 'level:u']),
  alloc_table: defineEvent('pgtable_alloc_table', 'pte', ['domain:u', 'pa:x', 'level:u', 'iova:x']),
  free_table: defineEvent('pgtable_free_table', 'pte', ['domain:u', 'pa:x', 'level:u', 'iova:x']),
  /** A block was replaced by a table of smaller leaves so part of it could be unmapped. */
  split_blk: defineEvent('pgtable_split_blk_unmap', 'pte', [
    'domain:u',
    'iova:x',
    'size:x',
    'level:u',
    'table:x',
  ]),
  /**
   * A new leaf met an entry in its way: action 'eexist' (refused), 'kept' (old entry left, WARN),
   * 'replaced', or 'into-leaf' (a larger leaf above the new one's level was left in place: VT-d).
   * `same` (with 'replaced'): every entry in the way held exactly what was written, so the
   * translation did not change.
   */
  pte_exists: defineEvent('pgtable_pte_exists', 'pte', [
    'domain:u',
    'iova:x',
    'level:u',
    'action:s',
    'same:b',
  ]),
  /** An unmap covered part of a larger leaf: action 'split', 'refused' (returns 0), 'whole' or 'ignored'. */
  partial_unmap: defineEvent('pgtable_partial_unmap', 'pte', [
    'domain:u',
    'iova:x',
    'size:x',
    'leaf_size:x',
    'action:s',
  ]),
  /** An unmap found nothing mapped at `iova` (io-pgtable-arm WARNs here). */
  unmap_hole: defineEvent('pgtable_unmap_hole', 'pte', ['domain:u', 'iova:x', 'level:u']),
  /** amd-v1 grew a level on top (increase_address_space). */
  increase_top: defineEvent('pgtable_increase_address_space', 'pte', ['domain:u', 'root:x', 'levels:u']),
  /** The whole table was freed (free_io_pgtable_ops). */
  free: defineEvent('pgtable_free', 'pte', ['domain:u', 'root:x', 'tables:u']),
};
