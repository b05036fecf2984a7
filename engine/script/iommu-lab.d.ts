/**
 * The `iommu-lab` module that scenario scripts import — contract v1 (SCRIPT-API.md).
 *
 * This one file is the editor's IntelliSense, the API reference, and the type the engine's own
 * module implementation is checked against: they cannot drift apart.
 *
 * Conventions: kernel functions keep their Linux names and argument order. Functions that return
 * an int in Linux return 0 or a negative errno (or a byte count); functions that return a pointer
 * return the object or an error pointer (see IS_ERR). Addresses and sizes are non-negative safe
 * integers; an aperture end beyond 2^53 − 1 in Linux (virtio's 2^64−1, VT-d's 2^57−1 with agaw 57,
 * AMD v1's 2^64−1) is reported as Number.MAX_SAFE_INTEGER, the last address a script can name.
 */

// ───────────────────────────── kernel profiles, drivers, objects ─────────────────────────────

/** Kernel eras the lab models. `v6.6`: the 2023 iotlb_sync_map thread; `v6.8`: virtio queued MAPs; `v6.16`: modern. */
export type KernelName = 'v6.6' | 'v6.8' | 'v6.16';

export type DriverName =
  'arm-smmu-v3' | 'intel-iommu' | 'amd-iommu' | 'virtio-iommu' | 'omap-iommu' | 'tegra-gart' | 's390-iommu';

/**
 * A driver name known only at run time (`string`), checked when the script runs. A name written
 * out as a literal must be a DriverName: a misspelt one matches neither add_iommu signature.
 */
export type RuntimeDriverName<S extends string> = string extends S ? S : never;

/** Options every driver takes. */
export interface CommonIommuOptions {
  /** IOTLB size in entries; small by default so eviction shows. */
  tlb_entries?: number;
}
/**
 * An SMMUv3 with stage 1, as QEMU's smmuv3 and Linux's arm-smmu-v3 drive it. It has no range
 * invalidation (IDR3.RIL clear, QEMU's default): an unmap sends one TLBI_NH_VA per granule of the
 * gathered range, then CMD_SYNC. The trace's commands do not carry the Leaf bit, so a freed table's
 * walk flush looks like a leaf flush.
 */
export interface ArmSmmuV3Options extends CommonIommuOptions {
  /**
   * Stage-1 input size in bits: 48, or 52 with VAX. io-pgtable-arm takes 52 only with the 64K
   * granule and caps the others at 48 (arm_lpae_restrict_pgsizes).
   */
  ias?: number;
  /** Output address size in bits: 32, 36, 40, 42, 44 or 48 (default); 52-bit PA is not modelled. */
  oas?: number;
  granule?: 4096 | 16384 | 65536;
  /** ASID width in bits (SMMU_IDR0.ASID16): 8 or 16, default 16. */
  asid_bits?: 8 | 16;
}
export interface IntelIommuOptions extends CommonIommuOptions {
  /** Address width (3, 4 or 5 levels); default 48, QEMU's aw-bits since QEMU 9.2. */
  agaw?: 39 | 48 | 57;
  /** CM=1, as a virtual VT-d: not-present entries may be cached, so maps need a flush. */
  caching_mode?: boolean;
  /** Superpage sizes the unit supports (SLLPS): 0 none, 1 = 2M, 2 = 2M and 1G (default, as QEMU). */
  /** CAP.SLLPS: 0 none, 1 = 2 MiB, 2 = 2 MiB and 1 GiB; false and true stand for 0 and 2. */
  superpages?: 0 | 1 | 2 | boolean;
  /**
   * Scalable mode: first-stage paging domains from v6.13 on; before v6.13 the DMA (default) domains
   * are first-stage and UNMANAGED ones second-stage. Needs agaw 48 or 57 (first-stage tables have
   * 4 or 5 levels). The unit supports both stages (ECAP.FLTS and SLTS), as QEMU's from 9.2 with
   * x-flts=on; a unit with second-stage tables only would keep every domain second-stage.
   */
  scalable?: boolean;
  /** CAP.ND: 2^(4 + 2·nd) domain IDs, 0–6; default 6 (16-bit DIDs, as QEMU). DID 0 is never used. */
  nd?: number;
}
export interface AmdIommuOptions extends CommonIommuOptions {
  /** NpCache: the IOMMU caches non-present entries (typical of virtual AMD IOMMUs). */
  np_cache?: boolean;
  /** EFR2 HTRangeIgnore: the HyperTransport range is not reserved (honoured from v6.16). */
  ht_range_ignore?: boolean;
}
export interface VirtioIommuOptions extends CommonIommuOptions {
  page_size_mask?: number;
  /** Inclusive [start, end] of the input range. */
  input_range?: [number, number];
  /** Inclusive [first, last] domain IDs. */
  domain_range?: [number, number];
  /** config.bypass: unattached endpoints bypass translation. */
  bypass?: boolean;
  /** Feature names offered by the device, e.g. 'BYPASS_CONFIG', 'PROBE', 'MMIO'. */
  features?: string[];
  /**
   * The host also applies the spec's MAP checks QEMU leaves out: alignment, input_range, reserved
   * regions (RESERVED and MSI).
   */
  spec_checks?: boolean;
  /**
   * The machine's reserved region for every endpoint, as QEMU's q35 gives virtio-iommu-pci
   * (pc_machine_device_pre_plug_cb): 0xfee00000–0xfeefffff as a RESV_MEM MSI region, so the guest
   * adds no SW_MSI window. Default true; false: the bare device, whose guest adds SW_MSI at 0x8000000.
   */
  machine_msi?: boolean;
}
export interface OmapIommuOptions extends CommonIommuOptions {
  /** MMUs the client uses, programmed as mirrors: 1, or 2 for a DRA7 DSP. */
  mmus?: 1 | 2;
}
export interface TegraGartOptions extends CommonIommuOptions {
  aperture_start?: number;
  aperture_size?: number;
  /** The gart_debug module parameter: map refuses a VALID entry, unmap an invalid one. */
  gart_debug?: boolean;
}
export interface S390IommuOptions extends CommonIommuOptions {
  /** First IOVA of the DMA window; default 4 GiB (QEMU's ZPCI_SDMA_ADDR). */
  start_dma?: number;
  /** Last IOVA of the DMA window before the driver clamps it (to the root table, and from v6.7 to the top of RAM). */
  end_dma?: number;
  /**
   * The hypervisor shadows the tables (z/VM, KVM): the function translates only what an RPCIT has
   * shown the hypervisor, so new entries need one, and an unmap stays reachable until its RPCIT.
   */
  tlb_refresh?: boolean;
  /** An ISM function: no deferred flush, so its default domain is strict. */
  ism?: boolean;
  /** Relaxed translation available (rtr_avail): from v6.15 an identity domain (a passthrough IOAT). */
  rtr?: boolean;
  /** Fault injection: the n-th RPCIT of this function (from 1) fails with -ENOMEM; 0 (default) never. */
  rpcit_fail_nth?: number;
  /** Fault injection: how many RPCITs fail from rpcit_fail_nth on (default 1). */
  rpcit_fail_count?: number;
  /** Fault injection: registering the I/O address translation fails, so attach returns -EIO. */
  fail_register_ioat?: boolean;
}
export interface IommuOptionsByDriver {
  'arm-smmu-v3': ArmSmmuV3Options;
  'intel-iommu': IntelIommuOptions;
  'amd-iommu': AmdIommuOptions;
  'virtio-iommu': VirtioIommuOptions;
  'omap-iommu': OmapIommuOptions;
  'tegra-gart': TegraGartOptions;
  's390-iommu': S390IommuOptions;
}

/** A reserved-region type: an IOMMU_RESV_* number or its sysfs word. */
export type ResvType = number | 'direct' | 'direct-relaxable' | 'reserved' | 'msi';

export interface ResvRegionSpec {
  start: number;
  length: number;
  type: ResvType;
  prot?: number;
}

/** struct iommu_resv_region as the core reports it; `type` is an IOMMU_RESV_* number. */
export interface ResvRegion {
  readonly start: number;
  readonly length: number;
  readonly prot: number;
  readonly type: number;
}

export interface IommuDomainGeometry {
  readonly aperture_start: number;
  /** Inclusive; an end beyond 2^53 − 1 (2^64−1, 2^57−1) is reported as Number.MAX_SAFE_INTEGER. */
  readonly aperture_end: number;
  readonly force_aperture: boolean;
}

export interface MapPagesResult {
  readonly ret: number;
  readonly mapped: number;
}

/** struct iommu_iotlb_gather. */
export interface IommuIotlbGather {
  readonly start: number;
  readonly end: number;
  readonly pgsize: number;
  readonly queued: boolean;
}

/** struct iommu_domain_ops. An op the driver lacks is undefined, as a NULL pointer is. */
export interface IommuDomainOps {
  readonly attach_dev?: (domain: IommuDomain, dev: Device) => number;
  readonly map_pages?: (
    domain: IommuDomain,
    iova: number,
    paddr: number,
    pgsize: number,
    pgcount: number,
    prot: number,
  ) => MapPagesResult;
  readonly unmap_pages?: (
    domain: IommuDomain,
    iova: number,
    pgsize: number,
    pgcount: number,
    gather: IommuIotlbGather,
  ) => number;
  readonly iotlb_sync_map?: (domain: IommuDomain, iova: number, size: number) => number;
  readonly iotlb_sync?: (domain: IommuDomain, gather: IommuIotlbGather) => void;
  readonly flush_iotlb_all?: (domain: IommuDomain) => void;
  readonly iova_to_phys?: (domain: IommuDomain, iova: number) => number;
  readonly free?: (domain: IommuDomain) => void;
}

/** struct iommu_ops, as far as a script can call it. */
export interface IommuOps {
  readonly domain_alloc_paging?: (dev: Device) => IommuDomain | ErrPtr;
  readonly domain_alloc?: (type: number) => IommuDomain | null;
  readonly get_resv_regions: (dev: Device) => ResvRegion[];
  /** Page sizes as bits. Bits 53–63 (sizes from 8 PiB, set by AMD v1 and QEMU's virtio mask) are left out: a number cannot hold them. */
  readonly pgsize_bitmap: number;
}

export interface IommuDomain {
  readonly id: number;
  /** IOMMU_DOMAIN_* */
  readonly type: number;
  /** Page sizes as bits; bits 53–63 are left out (see IommuOps.pgsize_bitmap). */
  readonly pgsize_bitmap: number;
  readonly geometry: IommuDomainGeometry;
  readonly ops: IommuDomainOps;
  /** The instance the domain is bound to, or null while unfinalised. */
  readonly iommu: Iommu | null;
}

export interface IommuGroup {
  readonly id: number;
  readonly devices: readonly Device[];
}

export interface DmaResultOk {
  readonly ok: true;
  readonly pa: number;
  /**
   * 'stale': the translation used no longer matches the page table: an IOTLB entry the tables have
   * changed under, or (virtio-iommu, s390 with `tlb_refresh`) a host or shadow mapping the guest has
   * removed and not yet told of. The worst over the pages an access touches.
   * 'hit' also when no IOTLB is involved: an identity or pass-through domain translates without a
   * lookup and counts nothing in `iommu.tlb.stats`. Hardware with no IOTLB (tegra-gart) reads its
   * table on every access: always 'miss', counted nowhere.
   */
  readonly tlb: 'hit' | 'miss' | 'stale';
  /** The bytes read (dma_read only). */
  readonly data?: Uint8Array;
  /** Absent on a translated access, so `r.fault` can be read without narrowing first. */
  readonly fault?: undefined;
}
export interface IommuFault {
  /**
   * 'translation' (nothing mapped there), 'permission' (the mapping does not allow the access;
   * virtio-iommu says 'mapping', as QEMU reports VIRTIO_IOMMU_FAULT_R_MAPPING), or the hardware's own
   * reason where it has one ('unknown' and 'domain' for virtio endpoints, 'no-ioat' on s390,
   * 'ste-abort' for an arm-smmu-v3 abort STE, which the SMMU does not record, …).
   */
  readonly reason: string;
  readonly iova: number;
  readonly write: boolean;
  readonly device?: string;
  readonly step?: number;
}
export interface DmaResultFault {
  readonly ok: false;
  readonly fault: IommuFault;
  /** Absent on a fault, so `r.tlb` or `r.pa` can be read (and expected) without narrowing first. */
  readonly pa?: undefined;
  readonly tlb?: undefined;
  readonly data?: undefined;
}
export type DmaResult = DmaResultOk | DmaResultFault;

export interface Device {
  readonly name: string;
  readonly iommu: Iommu;
  readonly group: IommuGroup | null;
  /**
   * Device read through the IOMMU: IOTLB first, then the table walk (virtio: the host's mappings).
   * Device accesses are unprivileged (a PCIe request carries no privilege), so a mapping made with
   * IOMMU_PRIV on an Arm LPAE table refuses them with a 'permission' fault; other formats ignore it.
   * One access moves 1 byte to 64 MiB, translated and moved page by page in order: when a later
   * page faults, the bytes from `iova` up to `fault.iova` have already been read or written (a failed
   * dma_write may have changed memory), as a transfer split at page boundaries does. Only the fault
   * is traced.
   */
  dma_read(iova: number, length: number): DmaResult;
  /** Device write through the IOMMU, as dma_read translates; 1 byte to 64 MiB. */
  dma_write(iova: number, bytes: Uint8Array | number[]): DmaResult;
}

export interface IotlbEntry {
  readonly tag: number;
  readonly iova: number;
  readonly size: number;
  readonly pa: number;
  readonly prot: number;
  readonly stale: boolean;
  /** A cached not-present entry. */
  readonly negative: boolean;
}
/** Counted per translation: one per page or leaf an access touches (a 64 MiB read through 2 MiB blocks adds 32). */
export interface IotlbStats {
  /** Translations answered by an IOTLB entry that still matches the tables (`tlb: 'hit'`). */
  readonly hits: number;
  /** Translations that found no IOTLB entry and walked the tables (or asked the virtio host). */
  readonly misses: number;
  /**
   * Translations answered by an IOTLB entry the tables no longer hold. A miss the virtio host (or an
   * s390 hypervisor's shadow, `tlb_refresh`) answers from a mapping the guest already removed also
   * reports `tlb: 'stale'`, but counts in `misses`: no entry answered it.
   */
  readonly stale_hits: number;
  /**
   * Entries removed by invalidations, not commands: a flush that covers three cached entries adds 3,
   * one that finds nothing adds 0 (count the commands in `lab.trace()`, kind 'command').
   */
  readonly invalidations: number;
}
export interface Iotlb {
  entries(): IotlbEntry[];
  readonly stats: IotlbStats;
}

/** A request the virtio-iommu host processed, in order. */
export interface VirtioRequest {
  readonly type: 'ATTACH' | 'DETACH' | 'MAP' | 'UNMAP' | 'PROBE';
  readonly domain: number;
  readonly endpoint?: number;
  readonly virt_start?: number;
  readonly virt_end?: number;
  readonly phys_start?: number;
  readonly flags?: number;
  readonly status: 'OK' | 'IOERR' | 'UNSUPP' | 'DEVERR' | 'INVAL' | 'RANGE' | 'NOENT' | 'FAULT' | 'NOMEM';
}
export interface VirtioHost {
  readonly requests: readonly VirtioRequest[];
  /** How many times the driver kicked the request queue and waited. */
  readonly kicks: number;
}

export interface Iommu {
  readonly name: string;
  readonly driver: DriverName;
  readonly ops: IommuOps;
  readonly tlb: Iotlb;
  /**
   * Every fault the hardware recorded, in order (each also an io_page_fault trace event). An access
   * an arm-smmu-v3 abort STE ends (a blocked device) fails with reason 'ste-abort' but is not here:
   * the SMMU records no event for it, only the trace's smmuv3_translate_abort says it happened.
   */
  readonly faults: readonly IommuFault[];
  /** virtio-iommu only. */
  readonly host?: VirtioHost;
}

/** An instance the script added as 'virtio-iommu' by name: its host is there. */
export interface VirtioIommu extends Iommu {
  readonly host: VirtioHost;
}

export interface Bus {
  readonly name: 'pci' | 'platform';
}

export interface SgEntry {
  paddr: number;
  length: number;
}

export interface DeviceSpec {
  iommu: Iommu;
  resv?: ResvRegionSpec[];
  /**
   * Devices naming the same group string share an iommu_group. omap-iommu decides itself, as its
   * device_group does: every client of one MMU is in that MMU's group, whatever this says.
   */
  group?: string;
  bus?: 'pci' | 'platform';
  /**
   * false: a PCI device Linux does not trust (pci_dev->untrusted: behind an external-facing port,
   * Thunderbolt or USB4). It gets a strict DMA domain, and the DMA API bounces its buffers that do
   * not fill their IOVA granules through swiotlb (see dma_map_single). Ignored for 'platform'
   * devices, as Linux's dev_is_untrusted ignores them. Default true.
   */
  trusted?: boolean;
  /**
   * The default domain type this device asks for at its probe, as a driver's def_domain_type or
   * the command line (iommu.passthrough=1, iommu.strict=0/1) would; the core combines the requests
   * of a group (IOMMU-FACTS §1.5). An untrusted device asking for 'identity' or 'blocked' is refused
   * its probe from v6.7 (v6.6 gives it DMA without asking); its 'dma-fq' becomes strict 'dma', as
   * it does behind a unit that cannot flush lazily (no IOMMU_CAP_DEFERRED_FLUSH) or once a driver
   * made DMA strict (VT-d caching mode, AMD NpCache). A request the selection overrides, or a
   * device joining a group whose type was chosen already, raises the check
   * default-domain-overridden. 'blocked' is the lab's: Linux has no way to ask for a blocking
   * default domain.
   */
  default_domain?: 'identity' | 'dma' | 'dma-fq' | 'blocked';
}

export interface LabCheck {
  readonly id: string;
  readonly step: number;
  readonly message: string;
}

export interface TraceEvent {
  readonly step: number;
  readonly kind: 'call' | 'return' | 'pte' | 'tlb' | 'command' | 'virtio' | 'dma' | 'fault' | 'check';
  readonly name: string;
  readonly [field: string]: number | string | boolean;
}

export interface LabMem {
  /**
   * Physical address of zeroed simulated RAM, page-aligned, or aligned to `align` (a power of two):
   * `alloc(SZ_2M, SZ_2M)` gives a block a 2M page can map.
   */
  alloc(size: number, align?: number): number;
  write(paddr: number, bytes: Uint8Array | number[]): void;
  read(paddr: number, length: number): Uint8Array;
}

export interface Lab {
  /** Pick the kernel era before any hardware is added; with no argument, the profile in force. */
  kernel(name?: KernelName): KernelName;
  /**
   * The IOMMU core's kernel parameters, before any hardware is added: `iommu.strict=0|1` (lazy or
   * strict default DMA domains; a driver that calls iommu_set_dma_strict, such as VT-d in caching
   * mode, still makes them strict), `iommu.passthrough=0|1` (identity default domains; untrusted
   * devices still get DMA), `iommu.forcedac=0|1` (PCI devices skip the try below 4 GiB).
   * Values as the kernel reads booleans: 1/0, y/n, on/off. `lab.cmdline('iommu.strict=0')`.
   */
  cmdline(params: string): void;
  /**
   * An IOMMU instance of `driver`. Before v6.8 a system has one IOMMU driver: an instance of a
   * second one throws a KernelVersionError (iommu_device_register's -EBUSY).
   *
   * `driver` may also be a name known only at run time, as a matrix scenario gives it
   * (`lab.params.driver ?? 'arm-smmu-v3'`): an unknown one throws an Error listing the drivers.
   * A misspelt name written in the script is flagged by the editor.
   */
  add_iommu<D extends DriverName>(
    name: string,
    driver: D,
    options?: IommuOptionsByDriver[D],
  ): D extends 'virtio-iommu' ? VirtioIommu : Iommu;
  add_iommu<S extends string>(
    name: string,
    driver: RuntimeDriverName<S>,
    options?: IommuOptionsByDriver[DriverName],
  ): Iommu;
  add_device(name: string, spec: DeviceSpec): Device;
  bus(name: 'pci' | 'platform'): Bus;
  readonly mem: LabMem;
  /** Named values given from outside (`--param name=value`, the matrix sets `driver`). */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** Seed the lab's random number generator: a whole number from 0 to 2^32 − 1, as `--seed`. */
  seed(n: number): void;
  /** A deterministic random number in [0, 1). */
  random(): number;
  /**
   * Move simulated time forward; the timers that come due fire in order: the flush queues of lazy
   * (DMA-FQ) domains (§4.3) and, from v6.7, the IOVA depot work that gives one cached magazine
   * back to the allocator every 100 ms (§4.2). `ms` is a whole number of milliseconds (the
   * kernel's timers count jiffies); a fraction is a RangeError.
   */
  advance_time(ms: number): void;
  /** Simulated time in ms. */
  now(): number;
  /** Every check that fired so far. */
  checks(): LabCheck[];
  /** Every trace event so far, in order. */
  trace(): TraceEvent[];
  /**
   * The n-th next page allocation fails (-ENOMEM paths): page tables, DMA buffers, swiotlb,
   * `lab.mem.alloc`. Drivers' small kzalloc'd structures (virtio's mapping nodes and requests) are
   * not counted. 0 cancels.
   */
  fail_nth_alloc(n: number): void;
}

/** An error pointer as returned by functions that return a pointer in Linux. */
export interface ErrPtr {
  readonly __err_ptr: number;
}

// ───────────────────────────── the lab ─────────────────────────────

export declare const lab: Lab;

// ───────────────────────────── core API (facts §1–§3) ─────────────────────────────

/** v6.11+: a paging domain for `dev`, or an error pointer. */
export declare function iommu_paging_domain_alloc(dev: Device): IommuDomain | ErrPtr;
/** Legacy (removed in v6.13): unfinalised for drivers that finalise on attach; null on failure. */
export declare function iommu_domain_alloc(bus: Bus): IommuDomain | null;
export declare function iommu_domain_free(domain: IommuDomain): void;
export declare function iommu_attach_device(domain: IommuDomain, dev: Device): number;
export declare function iommu_detach_device(domain: IommuDomain, dev: Device): void;
export declare function iommu_attach_group(domain: IommuDomain, group: IommuGroup): number;
export declare function iommu_detach_group(domain: IommuDomain, group: IommuGroup): void;
export declare function iommu_group_get(dev: Device): IommuGroup | null;
export declare function iommu_get_domain_for_dev(dev: Device): IommuDomain | null;
export declare function iommu_device_claim_dma_owner(dev: Device, owner: object | string | number): number;
export declare function iommu_device_release_dma_owner(dev: Device): void;
/** 0 or −errno; rolls back on failure; one iotlb_sync_map for the whole range. */
export declare function iommu_map(
  domain: IommuDomain,
  iova: number,
  paddr: number,
  size: number,
  prot: number,
): number;
/** Bytes mapped or −errno; one iotlb_sync_map for the whole list. */
export declare function iommu_map_sg(domain: IommuDomain, iova: number, sg: SgEntry[], prot: number): number;
/** Bytes unmapped; stops at the first hole. */
export declare function iommu_unmap(domain: IommuDomain, iova: number, size: number): number;
export declare function iommu_iotlb_gather_init(): IommuIotlbGather;
export declare function iommu_unmap_fast(
  domain: IommuDomain,
  iova: number,
  size: number,
  gather: IommuIotlbGather,
): number;
export declare function iommu_iotlb_sync(domain: IommuDomain, gather: IommuIotlbGather): void;
export declare function iommu_flush_iotlb_all(domain: IommuDomain): void;
/** 0 if unmapped. */
export declare function iommu_iova_to_phys(domain: IommuDomain, iova: number): number;
export declare function iommu_get_resv_regions(dev: Device): ResvRegion[];
export declare function iommu_get_group_resv_regions(group: IommuGroup): ResvRegion[];
/**
 * The page size and count of the next map_pages/unmap_pages step (facts §2.2). Where no size of the
 * bitmap fits (size below the smallest page, or 0) Linux BUG()s: the script is stopped with an Error.
 */
export declare function iommu_pgsize(
  domain: IommuDomain,
  iova: number,
  paddr: number,
  size: number,
): { pgsize: number; count: number };

export declare function IS_ERR(x: unknown): x is ErrPtr;
/** The errno an error pointer holds; 0 for null, as Linux's PTR_ERR(NULL). */
export declare function PTR_ERR(x: ErrPtr | null): number;
/** An error pointer holding `error` (−1 … −4095); ERR_PTR(0) is null, as in Linux. */
export declare function ERR_PTR(error: 0): null;
export declare function ERR_PTR(error: number): ErrPtr;
export declare function IS_ERR_OR_NULL(x: unknown): x is ErrPtr | null | undefined;

// ───────────────────────────── DMA API (facts §4) ─────────────────────────────

/**
 * DMA address or DMA_MAPPING_ERROR. For an untrusted device (`trusted: false`) a buffer whose start
 * or size is not on an IOVA granule is bounced, as dma-iommu does: copied into a swiotlb bounce
 * buffer of whole granules whose padding is zeroed (v6.6/v6.8: for DMA_FROM_DEVICE the whole bounce
 * buffer), and the address returned is the bounce buffer's. The swiotlb pool is 64 MiB of lab.mem
 * below 4 GiB, allocated on the first bounce; one bounce holds at most 256 KiB, and a bounce the pool
 * has no room for gives DMA_MAPPING_ERROR. The trace shows swiotlb_bounced, swiotlb_find_slots and
 * swiotlb_bounce events.
 */
export declare function dma_map_single(dev: Device, paddr: number, size: number, dir: number): number;
/** A bounced mapping is copied back to the buffer (DMA_FROM_DEVICE, DMA_BIDIRECTIONAL) and its slots freed. */
export declare function dma_unmap_single(dev: Device, dma_addr: number, size: number, dir: number): void;
/**
 * Number of DMA segments (0 on failure); each entry gets dma_address and dma_length. An untrusted
 * device's entries are mapped one by one, each its own segment, bounced as dma_map_single bounces.
 */
export declare function dma_map_sg(dev: Device, sg: SgEntry[], dir: number): number;
export declare function dma_unmap_sg(dev: Device, sg: SgEntry[], dir: number): void;
export declare function dma_alloc_coherent(
  dev: Device,
  size: number,
): { cpu_addr: number; dma_handle: number } | null;
export declare function dma_free_coherent(
  dev: Device,
  size: number,
  cpu_addr: number,
  dma_handle: number,
): void;
export declare function dma_mapping_error(dev: Device, dma_addr: number): number;
/**
 * The device's DMA mask (streaming and coherent): IOVAs are allocated below it; direct DMA (an
 * identity domain) fails a buffer beyond it, with no swiotlb to bounce through. A device starts with
 * DMA_BIT_MASK(64), as its driver would set. 0, or -EIO for direct DMA with a mask under 24 bits.
 */
export declare function dma_set_mask_and_coherent(dev: Device, mask: number): number;
/** The highest address n address bits reach; from 53 bits, the largest safe integer stands in for it. */
export declare function DMA_BIT_MASK(n: number): number;

// ───────────────────────────── assertions ─────────────────────────────

export interface Matchers {
  readonly not: Matchers;
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeGreaterThan(n: number | bigint): void;
  toBeGreaterThanOrEqual(n: number | bigint): void;
  toBeLessThan(n: number | bigint): void;
  toBeLessThanOrEqual(n: number | bigint): void;
  toContain(item: unknown): void;
  toHaveLength(n: number): void;
  toMatchObject(expected: object): void;
  toBeNull(): void;
  toBeUndefined(): void;
  toBeDefined(): void;
  /** A string that contains `expected`, or matches it when it is a RegExp. */
  toMatch(expected: string | RegExp): void;
  toBeInstanceOf(cls: abstract new (...args: never[]) => unknown): void;
  /**
   * The function throws; with `expected`, an error whose message contains the string, matches the
   * RegExp, is an instance of the class (`toThrow(RangeError)`), or has the message of the error given.
   */
  toThrow(expected?: string | RegExp | (abstract new (...args: never[]) => unknown) | Error): void;
  toBeTruthy(): void;
  toBeFalsy(): void;
}
/** A failed expectation stops the script and is reported at the script's own line and column. */
export declare function expect(actual: unknown): Matchers;

// ───────────────────────────── constants ─────────────────────────────

export declare const IOMMU_READ: 1;
export declare const IOMMU_WRITE: 2;
export declare const IOMMU_CACHE: 4;
export declare const IOMMU_NOEXEC: 8;
export declare const IOMMU_MMIO: 0x10;
export declare const IOMMU_PRIV: 0x20;

export declare const IOMMU_DOMAIN_BLOCKED: 0;
export declare const IOMMU_DOMAIN_IDENTITY: 4;
export declare const IOMMU_DOMAIN_UNMANAGED: 1;
export declare const IOMMU_DOMAIN_DMA: 3;
export declare const IOMMU_DOMAIN_DMA_FQ: 0xb;

export declare const IOMMU_RESV_DIRECT: 0;
export declare const IOMMU_RESV_DIRECT_RELAXABLE: 1;
export declare const IOMMU_RESV_RESERVED: 2;
export declare const IOMMU_RESV_MSI: 3;
export declare const IOMMU_RESV_SW_MSI: 4;

export declare const SZ_1K: 0x400;
export declare const SZ_2K: 0x800;
export declare const SZ_4K: 0x1000;
export declare const SZ_8K: 0x2000;
export declare const SZ_16K: 0x4000;
export declare const SZ_32K: 0x8000;
export declare const SZ_64K: 0x10000;
export declare const SZ_128K: 0x20000;
export declare const SZ_256K: 0x40000;
export declare const SZ_512K: 0x80000;
export declare const SZ_1M: 0x100000;
export declare const SZ_2M: 0x200000;
export declare const SZ_4M: 0x400000;
export declare const SZ_8M: 0x800000;
export declare const SZ_16M: 0x1000000;
export declare const SZ_32M: 0x2000000;
export declare const SZ_64M: 0x4000000;
export declare const SZ_128M: 0x8000000;
export declare const SZ_256M: 0x10000000;
export declare const SZ_512M: 0x20000000;
export declare const SZ_1G: 0x40000000;

export declare const EPERM: 1;
export declare const ENOENT: 2;
export declare const EIO: 5;
export declare const ENOMEM: 12;
export declare const EFAULT: 14;
export declare const EBUSY: 16;
export declare const EEXIST: 17;
export declare const ENODEV: 19;
export declare const EINVAL: 22;
export declare const ENOSPC: 28;
export declare const ERANGE: 34;
export declare const ENOSYS: 38;
export declare const EOPNOTSUPP: 95;

/** dma_map_* failure value (~0 in Linux; here the largest safe integer). */
export declare const DMA_MAPPING_ERROR: number;
export declare const DMA_BIDIRECTIONAL: 0;
export declare const DMA_TO_DEVICE: 1;
export declare const DMA_FROM_DEVICE: 2;
