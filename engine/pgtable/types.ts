/**
 * Shared vocabulary of the page-table engine: prot flags, errno values, the configuration
 * (struct io_pgtable_cfg) and the owner's flush callbacks (struct iommu_flush_ops).
 */

// include/linux/iommu.h (facts §1.1)
export const IOMMU_READ = 0x1;
export const IOMMU_WRITE = 0x2;
export const IOMMU_CACHE = 0x4;
export const IOMMU_NOEXEC = 0x8;
export const IOMMU_MMIO = 0x10;
export const IOMMU_PRIV = 0x20;

// include/uapi/asm-generic/errno-base.h
export const EFAULT = 14;
export const ENOMEM = 12;
export const EEXIST = 17;
export const EINVAL = 22;
export const ERANGE = 34;

/**
 * struct io_pgtable_cfg as the lab uses it. The constructor of IoPgtable fills in the defaults and
 * the format trims `pgsize_bitmap` to what it can map; read the result from `IoPgtable.cfg`.
 */
export interface IoPgtableCfg {
  /** Page sizes, bit n = 2^n bytes. In: what the owner asks for (0 = all the format has). Out: trimmed. */
  pgsize_bitmap: number;
  /** Input (IOVA) address bits. */
  ias: number;
  /** Output (physical) address bits. */
  oas: number;
  /** Id shown in this table's trace events (the domain id). */
  id: number;

  /** arm-lpae-s1: translation granule 4K, 16K or 64K (0 = derived from pgsize_bitmap as Linux does). */
  granule: number;
  /**
   * io-pgtable-arm: a prot without READ or WRITE is -EINVAL (newer kernels) rather than a map of
   * nothing that returns 0 (older kernels) — facts §1.1.
   */
  prot_none_is_einval: boolean;
  /**
   * io-pgtable-arm before v6.13: unmapping part of a block splits it into a table of smaller leaves.
   * From v6.13 the unmap returns 0 instead (facts §2.3).
   */
  split_blocks_on_partial_unmap: boolean;
  /**
   * io-pgtable-arm from v6.12 ("iommu/io-pgtable-arm: Optimise non-coherent unmap", 85b715a33458):
   * every entry an unmap clears goes into the gather, a freed table too. Before, __arm_lpae_unmap
   * gathered only leaves (a table's walk was flushed at once by io_pgtable_tlb_flush_walk).
   */
  gather_tables_on_unmap: boolean;

  /** vtd-sl: superpage capability, the SLLPS field (bit 0: 2M, bit 1: 1G) — facts §5.5. */
  sllps: number;

  /** amd-v1: levels of a new table (PAGE_MODE_3_LEVEL) and how far it may grow (6) — facts §5.6. */
  levels: number;
  max_levels: number;

  /** gart: the aperture the flat table covers — facts §5.3. */
  aperture_start: number;
  aperture_size: number;
}

export const DEFAULT_CFG: IoPgtableCfg = Object.freeze({
  pgsize_bitmap: 0,
  ias: 0,
  oas: 0,
  id: 0,
  granule: 0,
  prot_none_is_einval: true,
  split_blocks_on_partial_unmap: false,
  gather_tables_on_unmap: true,
  sllps: 3,
  levels: 0,
  max_levels: 0,
  // Tegra20: 32 MiB at 0x5800_0000 (facts §5.3, marked verify there)
  aperture_start: 0x5800_0000,
  aperture_size: 32 * 1024 * 1024,
});

/**
 * The owner's callbacks, like Linux's struct iommu_flush_ops. The page table calls them while it
 * changes entries; the owner (a domain of a driver) decides what the hardware must be told.
 */
export interface IommuFlushOps {
  /** A leaf was unmapped: add it to the gather (io_pgtable_tlb_add_page). */
  tlb_add_page(gather: unknown, iova: number, granule: number): void;
  /**
   * A table was unlinked and freed, or a leaf above the level being mapped was cleared to make room
   * for a table: walk caches for [iova, iova+size) must go (io_pgtable_tlb_flush_walk).
   */
  tlb_flush_walk(iova: number, size: number, granule: number): void;
  /**
   * Entries for [iova, iova+size) changed (mapped, unmapped or overwritten): cached translations
   * there are stale. A map passes `table`: what it wrote may be what an entry already caches (the
   * same leaf written again, or mapped back before the invalidation), so the owner may re-read its
   * cached entries there against it. An unmap passes none: every translation in the range is gone.
   */
  pte_changed(iova: number, size: number, table?: LeafWalker | null): void;
  /** The table grew a level (amd-v1): the root and the number of levels the hardware must use changed. */
  root_changed?(root: number, levels: number): void;
}

/** What map_pages reports: 0 or -errno, and the bytes mapped even on error. */
export interface MapPagesResult {
  ret: number;
  mapped: number;
}

/** A table a cached translation can be re-read against (IoPgtable.walk). */
export interface LeafWalker {
  walk(iova: number, out: WalkResult): boolean;
}

/** A device-side walk's answer for one IOVA, filled in place (no allocation per walk). */
export class WalkResult {
  /** IOVA and physical address of the start of the leaf found. */
  iova_base = 0;
  pa_base = 0;
  /** Bytes the leaf maps. */
  size = 0;
  /** IOMMU_* flags the leaf grants. */
  prot = 0;
  /** The format's own number for the level where the walk stopped (leaf or fault). */
  level = 0;
}

/** A merged range of mappings for panels: contiguous leaves, contiguous pa, same prot and page size. */
export interface MappingRange {
  iova: number;
  pa: number;
  size: number;
  prot: number;
  pgsize: number;
}

export type EntryType = 'table' | 'block' | 'page' | 'invalid';

export interface DecodedEntry {
  type: EntryType;
  /** Next table (type 'table') or output address (leaves); 0 for invalid entries. */
  pa: number;
  prot: number;
  /** Bytes mapped by a leaf (0 otherwise). */
  size: number;
  /** The descriptor's fields by their specification names. */
  bits: Record<string, number>;
}

export interface TableEntryView {
  index: number;
  raw_hi: number;
  raw_lo: number;
  decoded: DecodedEntry;
}

export interface TableView {
  pa: number;
  /** The format's own level number. */
  level: number;
  /** First IOVA the table covers. */
  iova: number;
  entries: TableEntryView[];
}
