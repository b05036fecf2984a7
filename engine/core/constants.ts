/** Constants with the values Linux gives them (include/linux/iommu.h, dma-mapping.h). */

// prot flags (facts §1.1)
export const IOMMU_READ = 1;
export const IOMMU_WRITE = 2;
export const IOMMU_CACHE = 4;
export const IOMMU_NOEXEC = 8;
export const IOMMU_MMIO = 0x10;
export const IOMMU_PRIV = 0x20;

// domain feature bits and types (facts §1.2)
export const __IOMMU_DOMAIN_PAGING = 1 << 0;
export const __IOMMU_DOMAIN_DMA_API = 1 << 1;
export const __IOMMU_DOMAIN_PT = 1 << 2;
export const __IOMMU_DOMAIN_DMA_FQ = 1 << 3;
export const IOMMU_DOMAIN_BLOCKED = 0;
export const IOMMU_DOMAIN_IDENTITY = __IOMMU_DOMAIN_PT;
export const IOMMU_DOMAIN_UNMANAGED = __IOMMU_DOMAIN_PAGING;
export const IOMMU_DOMAIN_DMA = __IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API;
export const IOMMU_DOMAIN_DMA_FQ = IOMMU_DOMAIN_DMA | __IOMMU_DOMAIN_DMA_FQ;

export function domainTypeName(type: number): string {
  switch (type) {
    case IOMMU_DOMAIN_BLOCKED:
      return 'BLOCKED';
    case IOMMU_DOMAIN_IDENTITY:
      return 'IDENTITY';
    case IOMMU_DOMAIN_UNMANAGED:
      return 'UNMANAGED';
    case IOMMU_DOMAIN_DMA:
      return 'DMA';
    case IOMMU_DOMAIN_DMA_FQ:
      return 'DMA-FQ';
    default:
      return `0x${type.toString(16)}`;
  }
}

/** iommu_is_dma_domain(): the DMA_API bit. */
export function iommu_is_dma_domain(type: number): boolean {
  return (type & __IOMMU_DOMAIN_DMA_API) !== 0;
}

// reserved region types, in enum order (facts §3.1)
export const IOMMU_RESV_DIRECT = 0;
export const IOMMU_RESV_DIRECT_RELAXABLE = 1;
export const IOMMU_RESV_RESERVED = 2;
export const IOMMU_RESV_MSI = 3;
export const IOMMU_RESV_SW_MSI = 4;

/** sysfs `reserved_regions` wording; SW_MSI prints "msi" too. */
export const RESV_TYPE_SYSFS = ['direct', 'direct-relaxable', 'reserved', 'msi', 'msi'] as const;

// Arm's software MSI window (drivers/iommu/arm/arm-smmu-v3: MSI_IOVA_BASE, MSI_IOVA_LENGTH)
export const MSI_IOVA_BASE = 0x8000000;
export const MSI_IOVA_LENGTH = 0x100000;
// x86 interrupt-remapping MSI window (IOAPIC_RANGE_START..END)
export const X86_MSI_START = 0xfee00000;
export const X86_MSI_END = 0xfeefffff;

// DMA directions (enum dma_data_direction)
export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
/** DMA_MAPPING_ERROR is ~(dma_addr_t)0 in Linux; the largest safe integer stands in for it here. */
export const DMA_MAPPING_ERROR = Number.MAX_SAFE_INTEGER;

/**
 * DMA_BIT_MASK(n): the highest address a device with n address bits reaches. From 53 bits on the
 * mask is not a safe integer; the largest one stands in for it (every aperture is below it).
 */
export function DMA_BIT_MASK(n: number): number {
  return n >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** n - 1;
}

/** 2^64 − 1, the largest value a u64 aperture end takes, reported as the largest safe integer. */
export const U64_MAX = Number.MAX_SAFE_INTEGER;

export const SZ_4K = 0x1000;
export const SZ_2M = 0x200000;
export const SZ_1G = 0x40000000;

/** SZ_1K … SZ_1G, as scripts see them. */
export const SIZES: Record<string, number> = Object.fromEntries(
  Array.from({ length: 21 }, (_, i) => {
    const size = 1024 * 2 ** i;
    const name =
      size >= SZ_1G ? `${size / SZ_1G}G` : size >= 0x100000 ? `${size / 0x100000}M` : `${size / 1024}K`;
    return [`SZ_${name}`, size];
  }),
);
