/**
 * Kernel eras. Every behaviour that differs between kernel versions is one named switch in
 * FEATURES, with the version that introduced it (and, where it went away, the one that removed it):
 * code asks `profile.has('feature')`, never compares versions itself.
 */

export type KernelName = 'v6.6' | 'v6.8' | 'v6.16';
export const KERNEL_NAMES: readonly KernelName[] = ['v6.6', 'v6.8', 'v6.16'];
export const DEFAULT_KERNEL: KernelName = 'v6.16';

/** A version as major * 100 + minor: v6.8 → 608. */
type Version = number;

interface Feature {
  readonly since: Version;
  /** First version without it. */
  readonly until?: Version;
  readonly what: string;
}

export const FEATURES = {
  // ── core allocation API (facts §6 (e)) ──
  domain_alloc_paging: { since: 607, what: 'iommu_ops.domain_alloc_paging(dev); the core prefers it' },
  owner_check_on_attach: {
    since: 608,
    what: 'attach refuses a domain whose owner is another driver (-EINVAL)',
  },
  bus_ops: { since: 0, until: 608, what: 'per-bus iommu_ops (bus->iommu_ops)' },
  default_domain_required: {
    since: 607,
    what: 'every device behind an IOMMU gets a default domain: when it cannot be allocated, the probe fails (before: the device is left without one)',
  },
  untrusted_refuses_identity: {
    since: 607,
    what: 'an untrusted device whose driver or wish asks for identity or blocked fails its probe (before: iommu_get_def_domain_type gives it DMA without asking)',
  },
  single_iommu_driver: {
    since: 0,
    until: 608,
    what: 'iommu_device_register refuses an IOMMU of a second driver (-EBUSY): one driver per system',
  },
  iommu_paging_domain_alloc: { since: 611, what: 'iommu_paging_domain_alloc(dev)' },
  iommu_domain_alloc: { since: 0, until: 613, what: 'iommu_domain_alloc(bus)' },
  // ── map / unmap (facts §1.4, §2) ──
  iotlb_sync_map_returns_int: {
    since: 607,
    what: 'ops.iotlb_sync_map returns an int; iommu_map unmaps the range when it fails',
  },
  // ── DMA API, IOVA allocator (facts §4.2) ──
  iova_depot_list: {
    since: 607,
    what: 'iova.c: the rcache depot is an unbounded list of magazines, trimmed by a delayed work (iova_depot_work_func) of one magazine every IOVA_DEPOT_DELAY (100 ms) while it holds more than num_online_cpus() ("iommu/iova: Make the rcache depot scale better", "Manage the depot list size"); before: an array of MAX_GLOBAL_MAGS (32) magazines, a magazine that finds it full goes straight back to the rbtree',
  },
  // ── DMA API, swiotlb bounce for untrusted devices (facts §4) ──
  swiotlb_alloc_align_fix: {
    since: 609,
    what: 'swiotlb: a bounce buffer\'s slots start on alloc_align_mask (the IOVA granule) ("swiotlb: Fix alignment checks when both allocation and DMA masks are present", dma-mapping fixes for 6.9); before, the bits of alloc_align_mask above IO_TLB_SIZE had to match the original buffer\'s, so a buffer in the upper half of a 4 KiB page bounced to the 2 KiB slot in the middle of a page',
  },
  bounce_zero_padding_only: {
    since: 610,
    what: 'dma-iommu zeroes only the pre- and post-padding of an untrusted device\'s bounce buffer ("iommu/dma: fix zeroing of bounce buffer padding used by untrusted devices", dma-mapping 6.10); before, it zeroed from the end of the data (DMA_TO_DEVICE, DMA_BIDIRECTIONAL) or the whole bounce buffer (DMA_FROM_DEVICE), so a device that read before writing saw zeros, not the buffer',
  },
  // ── direct mappings (facts §3.3) ──
  direct_mappings_flush_all: {
    since: 0,
    until: 613,
    what: 'iommu_create_device_direct_mappings ends with iommu_flush_iotlb_all',
  },
  // ── io-pgtable-arm (facts §2.3, §5.4) ──
  arm_lpae_split_blocks: {
    since: 0,
    until: 613,
    what: 'io-pgtable-arm splits a block on a partial unmap (from v6.13: WARN and return 0)',
  },
  arm_lpae_gather_tables: {
    since: 612,
    what: 'io-pgtable-arm: an unmap gathers every entry it clears, a freed table too, so iotlb_sync invalidates its range again ("iommu/io-pgtable-arm: Optimise non-coherent unmap", 85b715a33458, v6.12); before, only leaves were gathered',
  },
  arm_lpae_prot_none_einval: {
    since: 611,
    what: 'io-pgtable-arm refuses a map with neither READ nor WRITE (-EINVAL) instead of mapping nothing and returning 0 ("iommu: Do not return 0 from map_pages if it doesn\'t do anything", 6093cd582f8e, v6.11; backported to 6.6.49, the lab\'s v6.6 is the release without it)',
  },
  // ── drivers (facts §5, §6) ──
  arm_smmu_v3_paging: { since: 609, what: 'arm-smmu-v3: domain_alloc_paging, no finalise on attach' },
  arm_smmu_v3_master_cd_table: {
    since: 607,
    what: 'arm-smmu-v3: the CD table belongs to the master; attach writes its CD (CFGI_CD), detach clears it ("Move CD table to arm_smmu_master", 10e4968cd511); before, the domain\'s CD is written once at finalise',
  },
  arm_smmu_v3_entry_writer: {
    since: 609,
    what: 'arm-smmu-v3: STEs (v6.9) and CDs (v6.10, 78a5fbe8395b) written by arm_smmu_write_entry in hitless or disruptive steps, then PREFETCH_CFG; no detach before an attach',
  },
  intel_did_1_reserved: {
    since: 612,
    what: 'intel-iommu: DID 1 (FLPT_DEFAULT_DID) is kept back in legacy mode too, domains start at DID 2 (IDA_START_DID); the exact release is not pinned down here (v6.6: only in scalable mode)',
  },
  intel_write_only: {
    since: 616,
    what: "intel-iommu: a write-only mapping stays write-only in second-stage tables ('Restore WO permissions on second-level paging entries'; from v5.13 every PTE also got R); the exact release is not pinned down here (v6.8 sets R, v6.16 does not)",
  },
  intel_cache_tag: {
    since: 610,
    what: 'intel-iommu: IOTLB flushes go through cache tags (cache.c, cache_tag_flush_range), which align the range first (calculate_psi_aligned_address): an empty gather becomes a mask above MAMV, a domain-selective flush; before, iommu_flush_iotlb_psi flushed one page at 0xfffffffffffff000 for it, and first-stage flushes took the page count unaligned',
  },
  intel_fl_xd: {
    since: 0,
    until: 611,
    what: 'intel-iommu: first-stage table and leaf entries carry XD (bit 63), removed by "iommu/vt-d: Remove control over Execute-Requested requests" (e995fcde6070, v6.11)',
  },
  intel_sm_context_at_probe: {
    since: 609,
    what: 'intel-iommu: a scalable-mode context entry is made present when the device is probed ("iommu/vt-d: Setup scalable mode context entry in probe path", March 2024); before, by the first attach, after its PASID entry',
  },
  intel_paging: {
    since: 613,
    what: 'intel-iommu: domain_alloc_paging; first-stage domains in scalable mode',
  },
  virtio_iotlb_sync_map: {
    since: 608,
    what: 'virtio-iommu: map_pages queues MAPs, iotlb_sync_map syncs once per iommu_map',
  },
  virtio_deferred_flush: { since: 608, what: 'virtio-iommu: flush_iotlb_all and DEFERRED_FLUSH (DMA-FQ)' },
  virtio_paging: {
    since: 616,
    what: 'virtio-iommu: domain_alloc_paging, identity domain, no global pgsize_bitmap',
  },
  tegra_gart: { since: 0, until: 607, what: 'the tegra-gart driver (removed in v6.7)' },
  amd_ht_range_ignore: {
    since: 616,
    what: 'amd-iommu: HTRangeIgnore skips the HyperTransport reserved range',
  },
  amd_flush_map_range: {
    since: 609,
    what: 'amd-iommu: a map that replaced tables or large PTEs flushes the range it mapped (before: the whole domain with PDE, amd_iommu_domain_flush_tlb_pde); the exact release is not pinned down here (v6.8 flushes the domain, v6.16 the range)',
  },
  amd_paging: {
    since: 613,
    what: 'amd-iommu: domain_alloc_paging_flags with static identity/blocked domains; legacy domain_alloc(type) removed',
  },
  amd_pgsizes_genmask: {
    since: 611,
    what: 'amd-iommu: AMD_IOMMU_PGSIZES is GENMASK(51, 12) ^ 512G (no sizes at or above 2^52); the exact release is not pinned down here (v6.6 has the old mask, v6.11 the new)',
  },
  s390_dma_iommu: {
    since: 607,
    what: 's390-iommu: the DMA API on dma-iommu (domain_alloc_paging, DEFERRED_FLUSH, shadow_on_flush); iotlb_sync_map may fail',
  },
  s390_blocking_domain: { since: 613, what: 's390-iommu: static blocking domain, devices start blocked' },
  s390_rsx_rfx: { since: 616, what: 's390-iommu: region-second and region-first table roots' },
  s390_identity: {
    since: 615,
    what: "s390-iommu: an identity domain (a passthrough IOAT) on functions with relaxed translation (rtr_avail), and reserved regions that follow the function's domain",
  },
} as const satisfies Record<string, Feature>;

export type FeatureName = keyof typeof FEATURES;

/** Thrown when a script asks for something its kernel era lacks; the matrix shows such cells as n/a. */
export class KernelVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelVersionError';
  }
}

function versionOf(name: KernelName): Version {
  const [major, minor] = name.slice(1).split('.').map(Number);
  return major * 100 + minor;
}

export function versionName(v: Version): string {
  return `v${Math.floor(v / 100)}.${v % 100}`;
}

export class KernelProfile {
  readonly version: Version;
  constructor(readonly name: KernelName) {
    this.version = versionOf(name);
  }

  has(feature: FeatureName): boolean {
    const f: Feature = FEATURES[feature];
    return this.version >= f.since && (f.until === undefined || this.version < f.until);
  }

  /** Throw a KernelVersionError naming the version when `feature` is absent from this era. */
  require(feature: FeatureName, what: string): void {
    if (this.has(feature)) return;
    const f: Feature = FEATURES[feature];
    const why =
      f.until !== undefined && this.version >= f.until
        ? `was removed in ${versionName(f.until)}`
        : `was added in ${versionName(f.since)}`;
    throw new KernelVersionError(`${what} ${why}; the lab runs ${this.name}`);
  }
}

export function isKernelName(name: unknown): name is KernelName {
  return typeof name === 'string' && (KERNEL_NAMES as readonly string[]).includes(name);
}
