/**
 * Numbers of the virtio-iommu device (OASIS virtio spec, "IOMMU device"; include/uapi/linux/
 * virtio_iommu.h) and of QEMU's model of it (hw/virtio/virtio-iommu.c). Facts §5.1.
 */
import { ENOENT, EFAULT, EINVAL, EIO, ENOMEM, ENOSYS, ERANGE } from '../../core/errno.ts';

// ── feature bits (spec) and VIRTIO_F_VERSION_1 (transport, bit 32) ──
export const FEATURE_BITS = {
  INPUT_RANGE: 0,
  DOMAIN_RANGE: 1,
  MAP_UNMAP: 2,
  /** Superseded by BYPASS_CONFIG; Linux never accepts it. */
  BYPASS: 3,
  PROBE: 4,
  MMIO: 5,
  BYPASS_CONFIG: 6,
  VERSION_1: 32,
} as const;
export type FeatureName = keyof typeof FEATURE_BITS;
export const FEATURE_NAMES = Object.keys(FEATURE_BITS) as FeatureName[];

/** What QEMU's device offers (virtio_iommu_device_realize), BYPASS_CONFIG since QEMU 7.0. */
export const QEMU_FEATURES: readonly FeatureName[] = [
  'VERSION_1',
  'INPUT_RANGE',
  'DOMAIN_RANGE',
  'MAP_UNMAP',
  'MMIO',
  'PROBE',
  'BYPASS_CONFIG',
];

/** The Linux driver's feature table (virtio_iommu_drv.feature_table) plus VERSION_1, which the transport accepts. */
export const LINUX_FEATURES: readonly FeatureName[] = [
  'VERSION_1',
  'MAP_UNMAP',
  'INPUT_RANGE',
  'DOMAIN_RANGE',
  'PROBE',
  'MMIO',
  'BYPASS_CONFIG',
];

// ── requests (spec: virtio_iommu_req_head.type) ──
export const VIRTIO_IOMMU_T_ATTACH = 1;
export const VIRTIO_IOMMU_T_DETACH = 2;
export const VIRTIO_IOMMU_T_MAP = 3;
export const VIRTIO_IOMMU_T_UNMAP = 4;
export const VIRTIO_IOMMU_T_PROBE = 5;
export const REQUEST_NAMES = ['', 'ATTACH', 'DETACH', 'MAP', 'UNMAP', 'PROBE'] as const;
export type RequestName = Exclude<(typeof REQUEST_NAMES)[number], ''>;

// ── statuses (spec: virtio_iommu_req_tail.status) ──
export const VIRTIO_IOMMU_S_OK = 0;
export const VIRTIO_IOMMU_S_IOERR = 1;
export const VIRTIO_IOMMU_S_UNSUPP = 2;
export const VIRTIO_IOMMU_S_DEVERR = 3;
export const VIRTIO_IOMMU_S_INVAL = 4;
export const VIRTIO_IOMMU_S_RANGE = 5;
export const VIRTIO_IOMMU_S_NOENT = 6;
export const VIRTIO_IOMMU_S_FAULT = 7;
export const VIRTIO_IOMMU_S_NOMEM = 8;
export const STATUS_NAMES = [
  'OK',
  'IOERR',
  'UNSUPP',
  'DEVERR',
  'INVAL',
  'RANGE',
  'NOENT',
  'FAULT',
  'NOMEM',
] as const;
export type StatusName = (typeof STATUS_NAMES)[number];

/** viommu_get_req_errno: how the Linux driver turns a status into an errno. */
export function viommu_get_req_errno(status: number): number {
  switch (status) {
    case VIRTIO_IOMMU_S_OK:
      return 0;
    case VIRTIO_IOMMU_S_UNSUPP:
      return -ENOSYS;
    case VIRTIO_IOMMU_S_INVAL:
      return -EINVAL;
    case VIRTIO_IOMMU_S_RANGE:
      return -ERANGE;
    case VIRTIO_IOMMU_S_NOENT:
      return -ENOENT;
    case VIRTIO_IOMMU_S_FAULT:
      return -EFAULT;
    case VIRTIO_IOMMU_S_NOMEM:
      return -ENOMEM;
    default: // IOERR, DEVERR and anything unknown
      return -EIO;
  }
}

// ── request flags ──
export const VIRTIO_IOMMU_ATTACH_F_BYPASS = 1;
export const VIRTIO_IOMMU_MAP_F_READ = 1;
export const VIRTIO_IOMMU_MAP_F_WRITE = 2;
export const VIRTIO_IOMMU_MAP_F_MMIO = 4;
/** VIRTIO_IOMMU_MAP_F_MASK: any other bit makes QEMU answer INVAL. */
export const VIRTIO_IOMMU_MAP_F_MASK =
  VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE | VIRTIO_IOMMU_MAP_F_MMIO;

// ── PROBE properties ──
export const VIRTIO_IOMMU_PROBE_T_RESV_MEM = 1;
export const VIRTIO_IOMMU_RESV_MEM_T_RESERVED = 0;
export const VIRTIO_IOMMU_RESV_MEM_T_MSI = 1;
/** sizeof(struct virtio_iommu_probe_resv_mem): head 4 + subtype 1 + reserved 3 + start 8 + end 8. */
export const RESV_MEM_PROP_SIZE = 24;

// ── fault reasons (eventq), as the lab names them in faults ──
export const FAULT_UNKNOWN = 'unknown';
export const FAULT_DOMAIN = 'domain';
export const FAULT_MAPPING = 'mapping';

// ── QEMU's device ──
/** VIOMMU_DEFAULT_QUEUE_SIZE: the request queue holds 256 requests (one indirect descriptor each). */
export const VIOMMU_QUEUE_SIZE = 256;
/** VIOMMU_PROBE_SIZE: config.probe_size. */
export const VIOMMU_PROBE_SIZE = 512;

/** Linux's PAGE_SIZE on the kernels modelled (x86-64, arm64 with 4K pages): a larger granule is refused. */
export const PAGE_SIZE = 0x1000;

/**
 * The x86 interrupt window (the local APICs' MSI address range). QEMU's q35 machine declares it as
 * the one reserved region of every virtio-iommu-pci (pc_machine_device_pre_plug_cb, hw/i386/pc.c:
 * reserved-regions = "0xfee00000:0xfeefffff:VIRTIO_IOMMU_RESV_MEM_T_MSI").
 */
export const Q35_MSI_LOW = 0xfee0_0000;
export const Q35_MSI_HIGH = 0xfeef_ffff;

/** MSI_IOVA_BASE / MSI_IOVA_LENGTH in virtio-iommu.c: the software MSI window when the host reports none. */
export const VIOMMU_SW_MSI_BASE = 0x8000000;
export const VIOMMU_SW_MSI_LENGTH = 0x100000;

/**
 * QEMU's default page_size_mask is TARGET_PAGE_MASK (0xffff_ffff_ffff_f000: every size from 4K up).
 * JS numbers stop at 2^53, so the lab's default is bits 12–52: Number.MAX_SAFE_INTEGER − 0xfff.
 */
export const QEMU_PAGE_SIZE_MASK = Number.MAX_SAFE_INTEGER - 0xfff;
/** input_range.end default UINT64_MAX, reported as Number.MAX_SAFE_INTEGER (SCRIPT-API.md conventions). */
export const QEMU_INPUT_END = Number.MAX_SAFE_INTEGER;
/** domain_range.end default UINT32_MAX (Linux's own default is ~0U too). */
export const U32_MAX = 0xffff_ffff;

// ── IOTLB tags ──
// The IOTLB keeps 31-bit tags. A host domain's tag is its ID (IDs 2^30 apart share a tag, which no
// real configuration reaches); an endpoint that translates outside any domain (unattached, with
// bypass off) gets a tag of its own above 2^30, so its identity MSI entries never mix with a domain's.
const ENDPOINT_TAG_BASE = 0x4000_0000;
export function domain_tag(id: number): number {
  return id % ENDPOINT_TAG_BASE;
}
export function endpoint_tag(ep: number): number {
  return ENDPOINT_TAG_BASE + (ep % ENDPOINT_TAG_BASE);
}
