/**
 * The doc page of every named check: what fired, why it matters in Linux, what to do about it,
 * and where IOMMU-FACTS.md has the facts. Typed against CHECK_IDS, so a new id without a page
 * fails the type check.
 */
import type { CheckId } from '../core/checks.ts';

export interface CheckDoc {
  /** One line, for lists and the console. */
  readonly title: string;
  /** What fired, why it matters in Linux, what to do. */
  readonly doc: string;
  /** The IOMMU-FACTS.md section(s) behind the rule, e.g. "IOMMU-FACTS §6 (a)". */
  readonly facts: string;
  /** Which drivers break the rule, in which kernel era, and why (the seed-debate invariants). */
  readonly drivers?: string;
}

export const CHECK_DOCS: Record<CheckId, CheckDoc> = {
  'stale-iotlb-hit': {
    title: 'A device access was translated by a stale IOTLB entry',
    doc:
      'A device read or wrote through an IOTLB entry that no longer matches the page table: the mapping was ' +
      'changed or removed and the IOTLB was not invalidated yet (on virtio-iommu: the host still maps what ' +
      'the guest unmapped, its UNMAP not sent yet). A cached not-present entry (VT-d caching mode, AMD ' +
      'NpCache, s390) is stale once a map fills its page without the invalidation iotlb_sync_map sends: the ' +
      'access faults although the table now maps it. In Linux this is expected for a short while ' +
      'in lazy (DMA-FQ) mode, where unmaps wait in the flush queue until flush_iotlb_all, and it is a real bug ' +
      'anywhere else: the device keeps reaching memory that may already belong to someone else. If the domain ' +
      'is strict, find the unmap that was not followed by iommu_iotlb_sync (or a driver that skipped its TLB ' +
      'invalidation); if it is lazy, the window ends at the next flush-queue flush (256 unmaps or 10 ms).',
    facts: 'IOMMU-FACTS §2.4, §4.3',
  },
  'unmap-without-sync': {
    title: 'iommu_unmap_fast was not followed by iommu_iotlb_sync before a device used the range',
    doc:
      'A device hit an IOVA inside a range that iommu_unmap_fast removed while the gather holding its ' +
      'invalidation was never synced. iommu_unmap_fast leaves the TLB work in the gather on purpose, so the ' +
      'caller can batch it; until iommu_iotlb_sync runs, the IOTLB may still translate the old mapping. ' +
      'Call iommu_iotlb_sync(domain, gather) after the last iommu_unmap_fast of a batch, before the memory is ' +
      'reused or the IOVA handed out again (only a flush queue with gather.queued may defer it).',
    facts: 'IOMMU-FACTS §2.3, §2.4',
  },
  'map-overlaps-reserved': {
    title: 'A mapping over a RESERVED or MSI region of a device on the domain',
    doc:
      'A map covers part of a reserved region (type RESERVED or MSI) of a device attached to the domain, ' +
      'or a device joins an UNMANAGED domain that maps part of one of its regions already (VFIO and ' +
      'iommufd refuse such an attach; the core does not). ' +
      'The core does not refuse it, but the hardware or host will not translate there: RESERVED ranges ' +
      '(AMD HyperTransport, virtio RESV_MEM, s390 outside the DMA window) fault or are rejected, and MSI ' +
      'windows go to the interrupt controller untranslated. A software MSI window (IOMMU_RESV_SW_MSI, shown ' +
      "as msi: Arm's 0x8000000) is translated, but it is where the kernel's MSI cookie maps the interrupt " +
      "controller's doorbell pages, so a mapping of the caller's there collides with them. " +
      'dma-iommu keeps these out of its allocator with ' +
      'reserve_iova; a caller managing its own IOVA space (VFIO, iommufd) must read ' +
      'iommu_get_group_resv_regions and avoid them too.',
    facts: 'IOMMU-FACTS §3.1, §3.4',
  },
  'partial-unmap-of-large-page': {
    title: 'An unmap covered only part of a block (large page) mapping',
    doc:
      'An unmap started or ended inside a leaf larger than the range asked for. What happens depends on the ' +
      'driver and era: io-pgtable-arm split the block into smaller entries before v6.13 and from v6.13 WARNs and ' +
      'unmaps nothing (returns 0); AMD v1 removes the whole entry and reports its size; Intel reports the ' +
      "entry's size too but clears only what the range covers whole (so an unmap from inside a superpage " +
      'leaves it mapped); the virtio ' +
      'guest driver returns 0 for a range starting inside a mapping. Callers should unmap exactly what they ' +
      'mapped, or map with page sizes that match how they will unmap.',
    facts: 'IOMMU-FACTS §2.3',
  },
  'out-of-aperture-map': {
    title: 'iommu_map outside the domain aperture',
    doc:
      'A map reaches outside [aperture_start, aperture_end] of a domain with force_aperture. The core never ' +
      "checks the aperture, so the result is the driver's: s390 returns -EINVAL, io-pgtable-arm -ERANGE " +
      "beyond its input size, the virtio host answers RANGE. Jason Gunthorpe's rule in the 2023 thread: an " +
      'out-of-aperture map is a caller bug. Read domain.geometry before choosing IOVAs.',
    facts: 'IOMMU-FACTS §1.3, §6 (Jason (2))',
  },
  'out-of-aperture-unmap': {
    title: 'iommu_unmap ran past the domain aperture or the width the driver walks (a WARN in Linux)',
    doc:
      'An unmap ran past [aperture_start, aperture_end] of a domain with force_aperture, or past the ' +
      "address width of the driver's page table, and the driver WARNed and left what was mapped in the " +
      "range in place. The core checks neither on unmap, so what happens is the driver's. s390 " +
      'refuses the whole range and returns 0, so even the pages inside the aperture stay mapped. VT-d first ' +
      'grows the range to the size of the level where its page walk stopped (the leaf, or the empty entry: ' +
      '512 GiB on a fresh 4-level table), so a range that ends near the top of the width can run past it ' +
      "even when the caller's did not; domain_unmap then WARNs and clears nothing, yet the grown size is " +
      'returned and gathered for the flush: the caller is told the pages are gone while the device can ' +
      'still reach them. An unmap that merely stops at an IOVA outside the aperture (io-pgtable-arm beyond ' +
      'its input size, the Tegra GART) is an unmap-of-hole. Keep unmaps inside domain.geometry, and unmap ' +
      'exactly the ranges that were mapped.',
    facts: 'IOMMU-FACTS §2.3, §1.3, §5.5, §5.7',
    drivers:
      's390-iommu v6.6, v6.8 and v6.16: s390_iommu_unmap_pages WARN_ONs when iova or iova + size - 1 leaves the ' +
      'aperture and returns 0. intel-iommu v6.6, v6.8 and v6.16: intel_iommu_unmap grows the size before ' +
      "domain_unmap's WARN_ON(!domain_pfn_supported(domain, last_pfn)), which returns without clearing, " +
      'and still returns the grown size.',
  },
  'unmap-of-hole': {
    title: 'iommu_unmap reached an unmapped address',
    doc:
      'An unmap reached an IOVA with nothing mapped. Where the driver stops there (io-pgtable-arm, which ' +
      'WARNs; virtio-iommu), iommu_unmap returns the bytes unmapped so far, less than asked for, and a DMA-API ' +
      'caller WARNs when the size differs. VT-d, AMD v1, s390 and the Tegra GART clear the hole like a page ' +
      'and report it unmapped (VT-d even at the size of the level where its walk stopped), and so does omap ' +
      'for an empty 4K slot in a 1M section that holds an L2 table (an empty section returns 0), so the return value ' +
      'hides it: the lab tells from the page table. virtio-iommu, whose unmap_pages call runs into the hole, ' +
      'has already removed the MAPs before it from its tree, yet returns 0 for the call and sends no UNMAP: ' +
      'the host keeps translating what the guest forgot. Usually a double unmap, an unmap with the wrong size, or ' +
      'one that spans two separate mappings; check the returned byte count.',
    facts: 'IOMMU-FACTS §2.3, §2.5',
  },
  'map-over-existing': {
    title: 'iommu_map over an IOVA that is already mapped',
    doc:
      'A map reached a page-table entry that already holds a translation. Linux requires an unmap first: ' +
      'io-pgtable-arm WARNs ("We require an unmap first") and returns -EEXIST (v6.16 lets a few test ' +
      'users opt out of the WARN, not SMMUv3), and the core unmaps whatever the same call had mapped ' +
      'before it failed, the old mapping untouched; VT-d WARNs ("PTE already set"), keeps the old 4K entry ' +
      'and reports success (a superpage replaces whatever is below it); a smaller map under a superpage walks into the ' +
      "superpage's memory as if it were a table and writes the entry there (a WARN only if that word was not zero), and " +
      'the superpage still translates. amd-iommu, omap, s390 and the Tegra GART write over the old entry without a ' +
      "word (and the IOTLB may still hold it). virtio-iommu keeps both in the guest's tree while the host " +
      'refuses the overlapping MAP (INVAL): before v6.8 the map fails and the guest drops the old record ' +
      'too, from v6.8 the error is lost. Usually a double map, or two IOVA ranges that overlap; unmap the ' +
      'old range first, or keep IOVAs apart with an allocator.',
    facts: 'IOMMU-FACTS §2.1, §2.5',
  },
  'map-before-attach-failed': {
    title: 'iommu_map failed on a paging domain that was never attached (invariant (a))',
    doc:
      'A map on a paging domain that no device was ever attached to failed with an error other than an ' +
      "alignment, aperture or out-of-memory error. Jason Gunthorpe's rule from the September 2023 " +
      'iotlb_sync_map thread: a domain is the storage of its IO page table and exists before any attach, so ' +
      'map_pages must succeed for any aligned, in-aperture IOVA with valid flags whatever the attachment ' +
      'state. The core depends on it: it creates direct mappings (RMRR, IORT RMR) in a default domain before ' +
      "attaching it, and VFIO/iommufd map before attaching. A driver that fails here forces the core's " +
      'post-attach retry of direct mappings (see direct-mapping-after-attach, which usually fires next). ' +
      'Allocate the domain for the device (iommu_paging_domain_alloc, v6.11+) so the driver can finish it ' +
      'at allocation, or attach before mapping on the eras listed below.',
    facts: 'IOMMU-FACTS §6 (a), §2.5',
    drivers:
      'virtio-iommu before v6.16: domain_alloc returns an unfinalised domain (map_flags 0, no viommu), so a map ' +
      'fails with -EINVAL, or -ENODEV when no viommu has probed; fixed by domain_alloc_paging in v6.16. ' +
      'arm-smmu-v3 before v6.9: the page table and ASID are made at the first attach, so map_pages returns ' +
      '-ENODEV; fixed by domain_alloc_paging in v6.9. omap-iommu, still: the page tables belong to the attached ' +
      'instances, and with none attached map returns -EINVAL. tegra-gart (removed in v6.7): never failed, but ' +
      "wrote the single global hardware table, so an unattached domain's map was live for everyone. Intel " +
      'legacy domains accepted the map at a 57-bit width and failed the later attach (-EINVAL) when the IOVA ' +
      "exceeded the unit's real width.",
  },
  'mappings-lost-on-detach': {
    title: 'Mappings disappeared when the last device left the domain (invariant (b))',
    doc:
      'After the last detach the domain no longer translates (or no longer holds) mappings it held before. A ' +
      "domain's mappings belong to the domain, not to the attachment: VFIO and iommufd keep a domain across " +
      'detach and re-attach, and unmap what they mapped later; mappings that vanished make those unmaps ' +
      'WARN and leak the pinned pages (Jason Gunthorpe, Sep 25 2023). Do not rely on a detached domain ' +
      'keeping its contents on the drivers listed below; re-map after re-attach there.',
    facts: 'IOMMU-FACTS §6 (b)',
    drivers:
      'tegra-gart (up to v6.6): no software page table, so the global hardware table is all there is and ' +
      'detach leaves it to whoever attaches next. omap-iommu, still: detach clears and frees the per-instance ' +
      'tables, so every mapping is lost. virtio-iommu: the host destroys an empty domain with its mappings, ' +
      'but the guest keeps its interval tree and replays it at the next attach, which hides the loss.',
  },
  'attach-time-finalise': {
    title: 'A driver finished a domain at its first attach (invariant (c))',
    doc:
      "The domain's page sizes, aperture or page table were set only when it was first attached, so before that " +
      "the core saw a placeholder: the pgsize_bitmap it copied from the driver's global ops and a zero " +
      'geometry. This is the "temporary core behaviour" the 2023 thread was about: maps before attach fail or ' +
      'use the wrong granule, the aperture cannot be checked, and a domain finalised on one instance fails ' +
      'to attach to another (-EINVAL). Modern drivers fix everything at allocation from the device ' +
      '(domain_alloc_paging); on the eras below, attach first or allocate per device.',
    facts: 'IOMMU-FACTS §6 (c), §6 (e), §1.3',
    drivers:
      'virtio-iommu before v6.16 (viommu_domain_finalise at first attach; the global bitmap written by the first ' +
      'probed instance). arm-smmu-v3 before v6.9 (arm_smmu_domain_finalise at first attach). arm-smmu (v2) ' +
      'before v6.8. mtk-iommu. Fixed as each driver moved to domain_alloc_paging: SMMUv2 v6.8, SMMUv3 v6.9, ' +
      "Intel v6.13 (its legacy domains were trimmed from 57 bits to the unit's width at attach), virtio v6.16.",
  },
  'direct-mapping-after-attach': {
    title: 'Direct mappings were created only after the default domain was attached (invariant (d))',
    doc:
      'iommu_create_device_direct_mappings failed before the DMA default domain was attached, so the core ' +
      'attached it anyway and retried the 1:1 mappings afterwards (iommu_setup_default_domain calls this a ' +
      'hack for drivers that cannot map before attach). Between the attach and the retry the device has no ' +
      'mapping for its DIRECT regions (RMRR, IORT RMR): DMA that firmware set up and expects to keep ' +
      'running (a framebuffer scan-out, a USB controller) faults. The cause is a driver that violates ' +
      'map-before-attach (a).',
    facts: 'IOMMU-FACTS §6 (d), §1.5, §3.3',
    drivers:
      'Any driver that fails map before attach: virtio-iommu before v6.16, arm-smmu-v3 before v6.9, omap-iommu. ' +
      'Related rules: a device with a DIRECT region can never be attached to a blocking domain, and direct ' +
      'mappings are made only in DMA-API domains.',
  },
  'unaligned-map': {
    title: 'iommu_map with an IOVA, physical address or size not aligned to the domain granule',
    doc:
      "The IOVA, the physical address or the size is not a multiple of the smallest page size in the domain's " +
      'pgsize_bitmap, so the core refused the map with -EINVAL ("unaligned") before calling the driver. ' +
      'Align all three to the granule (1 << __ffs(pgsize_bitmap)); the DMA API does this for you with ' +
      'iova_align.',
    facts: 'IOMMU-FACTS §2.1, §2.5',
  },
  'map-on-non-paging-domain': {
    title: 'iommu_map on an IDENTITY or BLOCKED domain',
    doc:
      'The domain has no page table: identity domains translate 1:1 and blocking domains translate nothing. ' +
      'The core returns -EINVAL (v6.2 returned -ENODEV first). Map into a paging domain (UNMANAGED, DMA, DMA-FQ); ' +
      "check iommu_get_domain_for_dev(dev)->type before mapping into a device's current domain.",
    facts: 'IOMMU-FACTS §1.2, §2.1, §2.5',
  },
  'detach-not-current-domain': {
    title: 'iommu_detach_device/group with a domain that is not the current one',
    doc:
      "The domain passed to detach is not the group's current domain, or the group has more than one device " +
      '(iommu_detach_device only works on singleton groups). iommu_detach_device WARNs and does nothing; ' +
      'iommu_detach_group ignores the domain it is given and returns the group to its default (or, when owned, ' +
      'blocking) domain anyway. Detach the domain you attached, with the same device or group; use ' +
      'iommu_detach_group for multi-device groups.',
    facts: 'IOMMU-FACTS §1.5',
  },
  'require-direct-blocked': {
    title: 'A device with a DIRECT reserved region was to be attached to a blocking domain',
    doc:
      'The device has a DIRECT region (require_direct), which must stay mapped 1:1 at all times; a blocking ' +
      'domain would cut it, so the core refuses the attach with -EINVAL. As a consequence VFIO cannot claim ' +
      'such a device (iommu_group_claim_dma_owner fails). Firmware usually marks these regions DIRECT_RELAXABLE ' +
      'when they may be dropped (RMRRs of USB and graphics devices).',
    facts: 'IOMMU-FACTS §1.5 (require_direct), §3.1',
  },
  'iova-not-from-allocator': {
    title: 'The DMA layer freed an IOVA its allocator had not handed out',
    doc:
      "An unmap gave back an IOVA range that the domain's IOVA allocator does not hold as allocated: never " +
      'handed out, already freed (a second dma_free_coherent or dma_unmap_sg), still waiting in the flush ' +
      'queue, inside a larger allocation, or in a reserved region (dma_unmap_single stops earlier: ' +
      'iommu_dma_unmap_page WARNs when nothing is mapped at the handle). Linux does not check: free_iova_fast puts the pfn into the ' +
      'per-CPU IOVA cache and a later dma_map hands it out again, so two live mappings can share one IOVA and ' +
      'a device writes into the wrong buffer. The lab does not cache such an IOVA. Unmap each DMA address ' +
      'once, with the address the map returned.',
    facts: 'IOMMU-FACTS §4.2, §4.3',
  },
  'dma-ownership-misuse': {
    title: 'DMA ownership claimed without an owner, or released by a group that has none',
    doc:
      'iommu_device_claim_dma_owner needs an owner cookie (VFIO and iommufd pass their context); Linux ' +
      'WARNs on a NULL one and returns -EINVAL. iommu_device_release_dma_owner must pair with a claim: on a ' +
      'group with no owner Linux WARNs (owner_cnt is 0) and changes nothing. Claims by the same owner nest ' +
      'and need as many releases; keep the claim and the release in the same driver path.',
    facts: 'IOMMU-FACTS §1.5',
  },
  'dma-unmap-mismatch': {
    title: 'A DMA-API unmap does not match a live mapping',
    doc:
      'dma_unmap_single, dma_unmap_sg or dma_free_coherent named a DMA address the device has no mapping at, ' +
      'or a size, entry count or mapping kind that differs from the map. CONFIG_DMA_API_DEBUG reports the ' +
      'same ("device driver tries to free DMA memory it has not allocated", "frees DMA memory with different ' +
      'size"). Without it Linux unmaps what the arguments say: a wrong size leaves part of the IOVA mapped or ' +
      "unmaps a neighbour, and a wrong address frees another buffer's IOVA. Pass the exact dma_addr, size, " +
      'direction and scatterlist that the map used.',
    facts: 'IOMMU-FACTS §4.2, §4.3',
  },
  'multiple-iommu-drivers': {
    title: 'iommu_domain_alloc(bus) found devices of two IOMMU drivers on the bus',
    doc:
      'From v6.8 iommu_domain_alloc(bus) takes the driver of the devices on the bus; when they belong to ' +
      'different IOMMU drivers Linux WARNs once ("Multiple IOMMU drivers present for bus …, which the public ' +
      'IOMMU API can\'t fully support yet") and returns NULL. Before v6.8 a system had one IOMMU driver; from ' +
      'v6.11 iommu_paging_domain_alloc(dev) names the device, and the driver, instead. Allocate the domain ' +
      'for the device it is meant for.',
    facts: 'IOMMU-FACTS §1.5, §6 (e)',
  },
  'domain-switch-failed': {
    title: 'A domain switch that must succeed failed',
    doc:
      'Detaching, releasing DMA ownership and the clean-up after a failed attach move the group to its ' +
      'default or blocking domain with __iommu_group_set_domain_nofail, and a probe attaches the first ' +
      'default domain the same way (IOMMU_SET_DOMAIN_MUST_SUCCEED): Linux WARNs when a driver refuses. ' +
      'Linux then records the new domain for the group anyway, while the device may still translate through ' +
      'the old one (its table, its DTE or context entry). Drivers are expected to accept their default and ' +
      "blocking domains always; one that keeps state per client (omap's one client per domain) can refuse.",
    facts: 'IOMMU-FACTS §1.5',
  },
  'domain-freed-while-attached': {
    title: 'A domain was freed while devices were attached to it',
    doc:
      "iommu_domain_free does not detach: the group's domain pointer, the device's table entry (STE, " +
      "context entry, DTE) and the driver's lists still name the freed domain — a use after free. The lab " +
      'keeps the freed domain in place, as the kernel would leave the pointer, so the device may still ' +
      'translate through it and a later detach or attach of the group cannot succeed. Detach the devices ' +
      '(iommu_detach_device / iommu_detach_group, or release DMA ownership) before freeing the domain.',
    facts: 'IOMMU-FACTS §1.5',
  },
  'kernel-oops': {
    title: 'Linux would crash here',
    doc:
      'The kernel code the lab follows dereferences a NULL pointer (or otherwise oopses) at this point. The ' +
      'lab carries on, returning what the code returned before the crash, so the rest of the scenario can ' +
      'still be seen; on a real machine the calling thread dies here, usually with the IOMMU core lock held.',
    facts: 'IOMMU-FACTS §6 (a), §2.1',
    drivers:
      'virtio-iommu before v6.16: viommu_iotlb_sync passes vdomain->viommu, NULL until the first attach ' +
      'finalises the domain, to viommu_sync_req. iommu_unmap always syncs and __iommu_map unrolls a failed ' +
      'map with iommu_unmap, so an unmap, or a failed map (the unfinalised domain refuses every READ/WRITE ' +
      "flag), on a domain no device was ever attached to reaches it — the core's direct mappings before " +
      'the first attach included. The v6.8 iotlb_sync_map and flush_iotlb_all check nr_endpoints; ' +
      'iotlb_sync does not. Any driver whose smallest page size is above the CPU page (arm-smmu-v3 with ' +
      "granule 16K or 64K): the DMA API's init_iova_domain BUG_ONs on the domain's granule. omap-iommu: " +
      'iova_to_phys on a domain with no device attached (omap_domain->iommus is NULL), and a map, unmap or ' +
      "lookup through an MMU whose table another domain's detach freed.",
  },
  'default-domain-overridden': {
    title: "A device's default_domain request was overridden by the default type selection",
    doc:
      'The device asked for a default domain type (add_device spec.default_domain, as iommu.passthrough=, ' +
      "iommu.strict= or the group's sysfs type would) and the core chose another, or none: devices of one " +
      'group asking for different types make IDENTITY win (Linux logs "requesting conflicting ' +
      'def_domain_type"); DMA_FQ becomes DMA when the driver lacks IOMMU_CAP_DEFERRED_FLUSH or a device of ' +
      'the group is untrusted; 32-bit Arm starts from IDENTITY from v6.7; on v6.6 a driver that cannot ' +
      'allocate the type leaves the device with no default domain. What the scenario measures is then the ' +
      'type the message names, not the one asked for.',
    facts: 'IOMMU-FACTS §1.5',
  },
  'invalidation-short': {
    title: 'An IOTLB invalidation covered less than the range it was asked to (a WARN in Linux)',
    doc:
      'The driver built an invalidation command that does not cover the whole range it was flushing, and ' +
      "Linux WARNs about it: before v6.10 VT-d's qi_flush_piotlb (first-stage domains) aligns the start " +
      'down to the power-of-two size of the page count (WARN_ON_ONCE(!IS_ALIGNED(addr, align))), so the ' +
      'last pages of a range that straddles that alignment stay in the IOTLB. A device can then reach ' +
      'them through stale entries (stale-iotlb-hit follows). From v6.10 cache_tag_flush_range aligns the ' +
      'whole range first (calculate_psi_aligned_address) and the WARN cannot fire.',
    facts: 'IOMMU-FACTS §5.5',
    drivers: 'intel-iommu before v6.10, first-stage (scalable mode) domains.',
  },
};

/** The section references a check names, for the doc page's links: "§6 (a)", "§2.4"… */
export function facts_sections(doc: CheckDoc): string[] {
  return doc.facts.match(/§\d+(\.\d+)?( \([a-z]\))?/g) ?? [];
}
