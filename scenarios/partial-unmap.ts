/**
 * Unmapping part of a large page — IOMMU-FACTS §2.3, scenario idea 7. For the matrix.
 *
 * Map 2 MiB as one block (or one virtio MAP), then unmap its first 4 KiB. Each driver answers
 * differently, and iommu_unmap() reports what the driver says:
 * - io-pgtable-arm before v6.13 splits the block and returns 4K; from v6.13 it WARNs and returns 0;
 * - virtio never splits a MAP: unmap at its start removes all 2 MiB (and returns 2M), unmap inside it returns 0;
 * - AMD removes the whole large entry and returns its size; Intel returns its size too, removing it
 *   when the unmap starts at its first page (from inside, it clears nothing and the page stays mapped);
 * - drivers with 4K pages only (s390, tegra-gart) mapped 512 pages and remove one.
 */
import {
  lab,
  iommu_paging_domain_alloc,
  iommu_domain_alloc,
  iommu_attach_device,
  iommu_map,
  iommu_unmap,
  iommu_iova_to_phys,
  IS_ERR,
  IOMMU_READ,
  IOMMU_WRITE,
  SZ_4K,
  SZ_2M,
  SZ_1M,
  expect,
} from 'iommu-lab';
import { iova_window } from './lib/iova-window.ts';

const driver = lab.params.driver ?? 'arm-smmu-v3';
const kernel = lab.kernel();
const platform = driver === 'omap-iommu' || driver === 'tegra-gart';
const options = driver === 'intel-iommu' ? { superpages: 2 as const } : {};
const iommu = lab.add_iommu('iommu0', driver, options);
const dev = lab.add_device('dev0', { iommu, bus: platform ? 'platform' : 'pci' });
const domain =
  kernel === 'v6.16'
    ? iommu_paging_domain_alloc(dev)
    : iommu_domain_alloc(lab.bus(platform ? 'platform' : 'pci'));
if (!domain || IS_ERR(domain)) throw new Error(`${driver} gave no paging domain`);
expect(iommu_attach_device(domain, dev)).toBe(0);

const base = iova_window(dev, domain, SZ_2M);
// 2M-aligned RAM the device can address (the GART holds 31-bit physical addresses).
const pa = Math.ceil(lab.mem.alloc(2 * SZ_2M) / SZ_2M) * SZ_2M;
expect(iommu_map(domain, base, pa, SZ_2M, IOMMU_READ | IOMMU_WRITE)).toBe(0);

const got = iommu_unmap(domain, base, SZ_4K);
console.log(`${driver} ${kernel}: unmap(base, 4K) of a 2M mapping → 0x${got.toString(16)}`);
const want: Record<string, number> = {
  'arm-smmu-v3': kernel === 'v6.16' ? 0 : SZ_4K,
  'virtio-iommu': SZ_2M,
  'intel-iommu': SZ_2M,
  'amd-iommu': SZ_2M,
  'omap-iommu': SZ_1M,
  's390-iommu': SZ_4K,
  'tegra-gart': SZ_4K,
};
expect(got).toBe(want[driver]);
// What is left: the second 4K page is mapped unless the driver removed the whole entry.
expect(iommu_iova_to_phys(domain, base + SZ_4K)).toBe(got >= SZ_1M ? 0 : pa + SZ_4K);
if (got === 0 || got > SZ_4K) expect(lab.checks().map((c) => c.id)).toContain('partial-unmap-of-large-page');
if (driver === 'virtio-iommu') expect(iommu_unmap(domain, base + SZ_1M, SZ_4K)).toBe(0);
